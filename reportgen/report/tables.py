"""The report's tables, built by code from the findings and the FactSheet (never by a writer).

Each builder returns zero or more ``Table`` s with raw cell values and a per-column format (see
``render/report_format.py``). Headers are chosen so the fact-checker reads the rendered cells the way they
were computed ("runs" is a count of the row's runs, "share of runs" their fraction of the sweep, "example
runs" lists run ids), which is what lets ``reportgen check`` pass the report's own tables.
"""

from __future__ import annotations

from typing import Any

from reportgen.facts import FactSheet
from reportgen.findings import SEVERITY_ORDER, Finding
from reportgen.report.model import Cell, Table
from reportgen.sweep import Sweep

EXAMPLE_RUNS = 5


def _ids(runs: list[str], limit: int = EXAMPLE_RUNS) -> str:
    """The first run ids, then an ellipsis (a count here would read as one more run id)."""
    return ", ".join(runs[:limit]) + (", …" if len(runs) > limit else "")


def state_table(sweep: Sweep) -> Table:
    counts = {k: v for k, v in sweep.state_counts.items() if v}
    n = len(sweep.runs)
    rows: list[list[Cell]] = [[state, count, count / n if n else None] for state, count in counts.items()]
    return Table(
        key="states",
        title="Runs by state",
        columns=["state", "runs", "share of runs"],
        rows=rows,
        formats=["text", "int", "percent1"],
    )


def issue_table(facts: FactSheet, findings: list[Finding]) -> Table | None:
    """One row per issue type found: how many runs have it, their share, example runs, worst severity."""
    runs = facts.runs
    rows: list[list[Cell]] = []
    cites: list[str] = []
    n = len(runs)
    for name in facts.issue_names:
        if name == "any":
            continue
        flags = runs[f"issue.{name}"].fillna(False).astype(bool)
        ids = [str(r) for r in runs.index[flags.to_numpy()]]
        if not ids:
            continue
        related = [f for f in findings if f.name == name]
        severity = min((f.severity for f in related), key=lambda s: SEVERITY_ORDER[s], default="info")
        cites.extend(f.id for f in related)
        rows.append([name, len(ids), len(ids) / n, _ids(ids), severity])
    if not rows:
        return None
    rows.sort(key=lambda r: (SEVERITY_ORDER[str(r[4])], -int(r[1] or 0)))
    return Table(
        key="issues",
        title="Issues by type",
        columns=["issue", "runs", "share of runs", "example runs", "severity"],
        rows=rows,
        formats=["text", "int", "percent1", "text", "text"],
        note="A run counts once per issue type; one run can have several.",
        cites=cites,
    )


def top_runs_table(finding: Finding, sweep: Sweep, params: list[str]) -> Table | None:
    """The top runs with their display names (when they differ from the ids) and the params that matter
    most (``params``, ranked by the caller), at most four."""
    ev = finding.evidence
    top = ev.get("top") or []
    if not top:
        return None
    shown = params[:4]
    by_id = sweep.runs.set_index(sweep.runs["run_id"].astype(str))
    named = "name" in by_id and any(str(e.get("name")) != str(e["run_id"]) for e in top)
    rows: list[list[Cell]] = []
    for entry in top:
        run = str(entry["run_id"])
        values = [_plain(by_id.at[run, p]) if run in by_id.index and p in by_id else None for p in shown]
        name: list[Cell] = [str(entry.get("name"))] if named else []
        rows.append([run, *name, entry["rank"], entry["value"], entry["state"], *values])
    objective = str(ev.get("objective"))
    return Table(
        key="top_runs",
        title=f"Top runs by {objective} ({ev.get('direction')})",
        columns=["run", *(["name"] if named else []), "rank", objective, "state", *shown],
        rows=rows,
        formats=["text", *(["text"] if named else []), "int", "float4", "text", *["auto"] * len(shown)],
        cites=[finding.id],
    )


def group_tables(findings: list[Finding]) -> list[Table]:
    out = []
    for f in findings:
        ev = f.evidence
        objective = ev.get("objective")
        rows: list[list[Cell]] = []
        for g in ev.get("groups", []):
            level = "(missing)" if g.get("missing") else str(g.get("level"))
            rows.append(
                [
                    level,
                    g["n_runs"],
                    g["n_finished"],
                    g["n_failed"],
                    g["n_with_issues"],
                    g.get("median"),
                    g.get("best"),
                    g.get("best_run_id"),
                ]
            )
        out.append(
            Table(
                key=f"groups_{ev.get('param')}",
                title=f"Runs per {ev.get('param')}",
                columns=[
                    str(ev.get("param")),
                    "runs",
                    "finished",
                    "failed",
                    "with issues",
                    f"median {objective}",
                    f"best {objective}",
                    "best run",
                ],
                rows=rows,
                formats=["text", "int", "int", "int", "int", "float4", "float4", "text"],
                note=f"{objective} over {ev.get('objective_runs')}." if objective else None,
                cites=[f.id],
            )
        )
    return out


def bucket_tables(findings: list[Finding]) -> list[Table]:
    """Per param: its buckets with n and the any-issue rate and its 95% interval."""
    out = []
    for f in findings:
        ev = f.evidence
        param = str(ev.get("param"))
        rows: list[list[Cell]] = []
        for b in ev.get("buckets", []):
            stats = (b.get("issues") or {}).get("any") or {}
            rows.append(
                [
                    bucket_label(b),
                    b.get("n"),
                    stats.get("k"),
                    stats.get("ci_low"),
                    stats.get("ci_high"),
                    "yes" if b.get("conclusive") else "too few runs",
                ]
            )
        if not rows:
            continue
        out.append(
            Table(
                key=f"buckets_{param}",
                title=f"Issues by {param} bucket",
                columns=[param, "runs", "runs with any issue", "95% CI low", "95% CI high", "conclusive"],
                rows=rows,
                formats=["text", "int", "int", "percent1", "percent1", "text"],
                note=(
                    f"Buckets of {param} ({ev.get('bucketing')}); a bucket needs at least "
                    f"{ev.get('min_bucket_runs')} runs to be tested."
                ),
                cites=[f.id],
            )
        )
    return out


def bucket_label(bucket: dict[str, Any]) -> str:
    """A numeric bucket as the closed range of the values its runs have ("[0.0001, 0.002]"), not pandas'
    widened bin edges ("(-0.0009, 0.0025]" reads as a negative learning rate); a level as itself."""
    low, high = bucket.get("value_min"), bucket.get("value_max")
    if (
        bucket.get("bucket_kind") == "interval"
        and isinstance(low, int | float)
        and isinstance(high, int | float)
    ):
        return f"[{_short(low)}, {_short(high)}]"
    return str(bucket.get("label"))


def _short(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def crash_table(finding: Finding) -> Table | None:
    steps: dict[str, Any] = finding.evidence.get("end_steps") or {}
    if not steps:
        return None
    rows: list[list[Cell]] = [[float(step), count] for step, count in steps.items()]
    rows.sort(key=lambda r: float(r[0] or 0))
    return Table(
        key="crash_steps",
        title="Last logged step of runs that did not finish",
        columns=["last step", "runs"],
        rows=rows,
        formats=["auto", "int"],
        cites=[finding.id],
    )


def findings_table(key: str, title: str, findings: list[Finding]) -> Table | None:
    if not findings:
        return None
    ordered = sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.code))
    rows: list[list[Cell]] = [[f.code, f.severity, f.title, _ids(f.run_ids)] for f in ordered]
    return Table(
        key=key,
        title=title,
        columns=["code", "severity", "finding", "example runs"],
        rows=rows,
        formats=["text", "text", "text", "text"],
        cites=[f.id for f in ordered],
    )


def _plain(value: Any) -> Cell:
    if value is None:
        return None
    if isinstance(value, bool | int | float | str):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)
