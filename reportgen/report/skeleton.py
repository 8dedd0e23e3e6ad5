"""Everything in the report that code decides: the overview, which findings go in which section, the
tables and figure data of each section, and the writer's brief.

Sections and the findings they cover (a finding appears in one section):

- ``overview``: the state table; ``issues``: the issue-type table (run-health findings: NaN/inf, crashes,
  short runs, stuck metrics); ``top_runs``: ``top-runs``; ``groups``: ``group-stability``;
  ``hyperparameters``: ``param-issue-rate``, ``interaction-risk``, ``param-importance``, ``seed-variance``;
  ``crashes``: the steps at which runs that did not finish stopped (``crashed-run``); ``curves``: the
  learning-curve detectors; ``search_space``: the search-space detectors.

Sections with nothing to say are left out, except the overview.
"""

from __future__ import annotations

import math
from typing import Any, get_args

import numpy as np
import pandas as pd

from reportgen.detectors.configs import is_seed
from reportgen.facts import FactSheet
from reportgen.findings import SEVERITY_ORDER, Detection, Finding
from reportgen.report import tables
from reportgen.report.model import SECTION_TITLES, Figure, Overview, Section, SectionKey, Table
from reportgen.report.writing import Brief, BriefFinding, BriefSection
from reportgen.sweep import Sweep

_SECTION_OF: dict[str, SectionKey] = {
    **dict.fromkeys(["nan-or-inf-metric", "short-run", "metric-stuck"], "issues"),
    "crashed-run": "crashes",
    "top-runs": "top_runs",
    "group-stability": "groups",
    **dict.fromkeys(
        ["param-issue-rate", "interaction-risk", "param-importance", "seed-variance"], "hyperparameters"
    ),
    **dict.fromkeys(
        [
            "divergence",
            "loss-spike",
            "plateau",
            "overfitting",
            "underfitting",
            "bad-initial-loss",
            "early-lr-decay",
            "edge-of-stability",
        ],
        "curves",
    ),
    **dict.fromkeys(
        [
            "log-scale-sampled-uniformly",
            "best-at-boundary",
            "duplicate-configs",
            "early-stopping-idle",
            "outlier-run",
        ],
        "search_space",
    ),
}
ORDER: tuple[SectionKey, ...] = get_args(SectionKey)  # the sections in report order
BRIEF_RUNS = 8
CURVE_RUNS = 6


def section_of(finding: Finding) -> SectionKey:
    return _SECTION_OF.get(finding.name, "search_space")


def overview(sweep: Sweep, facts: FactSheet) -> Overview:
    s = facts.sweep
    issue_types = {
        name: int(s.get(f"issue.{name}.count", 0))
        for name in facts.issue_names
        if name != "any" and s.get(f"issue.{name}.count", 0)
    }
    created = pd.to_datetime(sweep.runs["created"], errors="coerce", utc=True).dropna()
    return Overview(
        runs=int(s["runs"]),
        states={k: v for k, v in sweep.state_counts.items() if v},
        objective=s.get("objective.metric"),
        direction=s.get("objective.direction"),
        best_run=s.get("objective.best_run"),
        best_value=s.get("objective.best_value"),
        first_created=created.min().isoformat() if len(created) else None,
        last_created=created.max().isoformat() if len(created) else None,
        runs_with_issues=int(s.get("issue.any.count", 0)),
        issue_instances=sum(issue_types.values()),
        issue_types=issue_types,
    )


def sections(sweep: Sweep, facts: FactSheet, detection: Detection) -> list[Section]:
    """Each section's findings, tables and figures; prose is added later by the writer."""
    grouped: dict[SectionKey, list[Finding]] = {}
    for f in detection.findings:
        grouped.setdefault(section_of(f), []).append(f)
    built: dict[SectionKey, tuple[list[Table], list[Figure]]] = {
        "overview": ([tables.state_table(sweep)], []),
    }
    issue_table = tables.issue_table(facts, detection.findings)
    built["issues"] = ([issue_table] if issue_table else [], [])
    top = grouped.get("top_runs", [])
    ranked = ranked_params(sweep, detection.findings)
    built["top_runs"] = (
        [t for f in top if (t := tables.top_runs_table(f, sweep, ranked))],
        _objective_figures(sweep, ranked),
    )
    built["groups"] = (tables.group_tables(grouped.get("groups", [])), [])
    hyper = grouped.get("hyperparameters", [])
    rates = [f for f in hyper if f.name == "param-issue-rate"]
    hyper_rest = tables.findings_table(
        "hyperparameter_findings",
        "Other hyperparameter findings",
        [f for f in hyper if f.name != "param-issue-rate"],
    )
    built["hyperparameters"] = (
        tables.bucket_tables(rates) + ([hyper_rest] if hyper_rest else []),
        _bucket_figures(rates),
    )
    crashed = grouped.get("crashes", [])
    crash_tables = [t for f in crashed if (t := tables.crash_table(f))]
    built["crashes"] = (crash_tables, _crash_figures(sweep, crashed))
    curve_findings = grouped.get("curves", []) + [
        f for f in grouped.get("issues", []) if f.name == "nan-or-inf-metric"
    ]
    curve_table = tables.findings_table(
        "curve_findings", "Learning-curve findings", grouped.get("curves", [])
    )
    built["curves"] = ([curve_table] if curve_table else [], _curve_figures(sweep, curve_findings))
    space_table = tables.findings_table(
        "space_findings", "Search-space findings", grouped.get("search_space", [])
    )
    built["search_space"] = ([space_table] if space_table else [], [])
    out: list[Section] = []
    for key in ORDER:
        found = grouped.get(key, [])
        tabs, figs = built.get(key, ([], []))
        if key != "overview" and not found and not tabs:
            continue
        if key == "issues" and not tabs:
            continue
        ids = [f.id for f in sorted(found, key=lambda f: SEVERITY_ORDER[f.severity])]
        out.append(Section(key=key, title=SECTION_TITLES[key], tables=tabs, figures=figs, findings=ids))
    return out


# -- figures ---------------------------------------------------------------------------------------------


def _bucket_figures(findings: list[Finding]) -> list[Figure]:
    out = []
    for f in findings:
        ev = f.evidence
        buckets = []
        for b in ev.get("buckets", []):
            stats = (b.get("issues") or {}).get("any") or {}
            buckets.append(
                {
                    "label": tables.bucket_label(b),
                    "n": b.get("n"),
                    "rate": stats.get("rate"),
                    "ci_low": stats.get("ci_low"),
                    "ci_high": stats.get("ci_high"),
                }
            )
        param = str(ev.get("param"))
        out.append(
            Figure(
                key=f"bucket_rates_{param}",
                kind="bucket_rates",
                title=f"Share of runs with any issue by {param}",
                alt=f"bar chart of the share of runs with any issue per {param} bucket",
                data={"param": param, "buckets": buckets},
            )
        )
    return out


def _crash_figures(sweep: Sweep, findings: list[Finding]) -> list[Figure]:
    """Where the runs that did not finish stopped, against the longest run's length."""
    out = []
    longest = pd.to_numeric(sweep.runs["last_step"], errors="coerce").max()
    for f in findings:
        steps = f.evidence.get("end_steps") or {}
        values = [float(s) for s, c in steps.items() for _ in range(int(c))]
        if values:
            out.append(
                Figure(
                    key="crash_steps",
                    kind="crash_steps",
                    title="Last logged step of runs that did not finish",
                    alt="strip of the last logged steps of runs that did not finish",
                    data={
                        "steps": values,
                        "max_step": float(longest) if math.isfinite(longest) else max(values),
                    },
                )
            )
    return out


def ranked_params(sweep: Sweep, findings: list[Finding]) -> list[str]:
    """Varied params, the ones the objective depends on most first (``param-importance``'s ranks, then
    schema order); seeds are left out (they are not hyperparameters to tune)."""
    params = [p.name for p in sweep.schema.params if not p.constant and not is_seed(p.name)]
    ranks: dict[str, int] = {}
    for f in findings:
        if f.name == "param-importance":
            for name, stats in (f.evidence.get("params") or {}).items():
                rank = stats.get("importance_rank")
                if isinstance(rank, int | float) and math.isfinite(rank):
                    ranks[str(name)] = int(rank)
    return sorted(params, key=lambda name: (ranks.get(name, len(params) + 1), params.index(name)))


def _objective_figures(sweep: Sweep, ranked: list[str]) -> list[Figure]:
    objective = sweep.schema.objective
    if objective is None or objective.metric not in sweep.runs:
        return []
    kinds = {p.name: p.kind for p in sweep.schema.params}
    params = [name for name in ranked if kinds.get(name) in ("numeric", "int")][:2]
    out = []
    y = pd.to_numeric(sweep.runs[objective.metric], errors="coerce")
    for name in params:
        x = pd.to_numeric(sweep.runs[name], errors="coerce")
        points = [
            {"run": str(r), "x": _json(xv), "y": _json(yv), "state": str(s)}
            for r, xv, yv, s in zip(sweep.runs["run_id"], x, y, sweep.runs["state"], strict=True)
            if math.isfinite(float(xv))
        ]
        out.append(
            Figure(
                key=f"objective_vs_{name}",
                kind="objective_vs_param",
                title=f"{objective.metric} against {name}",
                alt=f"scatter of {objective.metric} against {name}, one point per run",
                data={"param": name, "objective": objective.metric, "points": points},
            )
        )
    return out


def _curve_figures(sweep: Sweep, findings: list[Finding]) -> list[Figure]:
    """Per metric with flagged runs: the flagged runs' curves against a few healthy ones."""
    history = sweep.history
    if history.empty or not findings:
        return []
    flagged: dict[str, list[str]] = {}
    for f in findings:
        metric = f.evidence.get("metric") or f.evidence.get("val_metric")
        if isinstance(metric, str):
            flagged.setdefault(metric, []).extend(f.run_ids)
    out = []
    all_runs = sweep.runs["run_id"].astype(str).tolist()
    step = sweep.schema.step_axis or "step"
    for metric, runs in flagged.items():
        bad = list(dict.fromkeys(runs))[:CURVE_RUNS]
        flagged_set = set(runs)
        healthy = [r for r in all_runs if r not in flagged_set][:CURVE_RUNS]
        rows = history[(history["metric"] == metric) & history["run_id"].isin(bad + healthy)]
        series = []
        for run, part in rows.groupby(rows["run_id"].astype(str), sort=False, observed=True):
            part = part.sort_values(step) if step in part else part
            series.append(
                {
                    "run": run,
                    "flagged": run in bad,
                    "steps": [_json(v) for v in part[step]] if step in part else list(range(len(part))),
                    "values": [_json(v) for v in part["value"]],
                }
            )
        values = pd.to_numeric(rows["value"], errors="coerce")
        positive = values[np.isfinite(values)]
        log_y = (
            bool(len(positive))
            and bool((positive > 0).all())
            and float(positive.max() / positive.min()) > 100
        )
        out.append(
            Figure(
                key=f"curves_{metric}",
                kind="curves",
                title=f"{metric}: flagged runs against healthy ones",
                alt=f"line chart of {metric} per step, flagged runs highlighted",
                data={"metric": metric, "log_y": log_y, "series": series},
            )
        )
    return out


def _json(value: Any) -> Any:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"))


# -- the brief -------------------------------------------------------------------------------------------


def brief(title: str, ov: Overview, detection: Detection, built: list[Section], changes: list[Any]) -> Brief:
    """What the writer is told: findings ranked by severity with their titles, and each section's tables as
    text lines (the writer sees the same numbers the tables show)."""
    ordered = sorted(detection.findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.code))
    findings = [
        BriefFinding(
            id=f.id,
            code=f.code,
            name=f.name,
            severity=f.severity,
            title=f.title,
            runs=f.run_ids[:BRIEF_RUNS],
            runs_total=len(f.run_ids),
        )
        for f in ordered
    ]
    sections = [
        BriefSection(key=s.key, title=s.title, findings=s.findings, table_lines=[_line(t) for t in s.tables])
        for s in built
    ]
    return Brief(title=title, overview=ov, findings=findings, sections=sections, next_sweep=changes)


def _line(table: Table) -> str:
    rows = "; ".join(
        ", ".join(f"{c}={v}" for c, v in zip(table.columns, row, strict=True)) for row in table.rows[:12]
    )
    return f"{table.title}: {rows}"
