"""HPE003 group-stability: per group of runs (an architecture, an optimiser, an ablation arm), how many ran,
finished, crashed or had issues, and the best result and config of each group.

What: the group params are every non-constant categorical or bool param (not a seed: `configs.is_seed`) with 2
to `max_levels` levels and at least `min_runs_per_level` runs per level on average (a column with a new value
in almost every run is a name or an id, not a group). The levels are param-issue-rate's (`bucketize`): runs
without a value form their own group (`level` null, `missing` true in the evidence, "{param} missing" in a
title), never merged with a real level that reads "missing". For each, one info finding with a table per
level: runs, finished runs, crashed/failed/killed runs and their share with a 95% Wilson interval, runs with
any issue found by the earlier run-health and curve detectors, mean logged steps and mean last step, mean
runtime, and for the objective (over finished runs with a finite value; over all runs when the export has no
states) the count, median, best value, best run and that run's config. The finding lists the best run of each
group.

Why it matters: "RoPE is best" is a claim about groups; the table says how many runs stand behind each
group's best, whether a group's best comes from one lucky seed among crashes, and which group is
unstable (high crash or issue rate) rather than bad.

Thresholds: `max_levels` (default 20): most levels of a group param. `min_runs_per_level` (default 2):
fewest runs per level, on average, for a param to be a group.

Known false positives: every categorical param with a few levels gets a table, including ones nobody
would call a group (a device name that varies by accident); groups that differ in budget (epochs,
context length) are compared as they ran, not at equal compute.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from reportgen.detectors.base import Context
from reportgen.detectors.configs import is_seed, plain
from reportgen.detectors.issues import completed_runs, run_issues
from reportgen.detectors.param_issue_rate import bucket_text, bucketize
from reportgen.detectors.stats import wilson_interval
from reportgen.findings import Finding
from reportgen.states import FAILED_STATES
from reportgen.sweep import Sweep


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_levels: int = Field(default=20, ge=2, description="most levels of a group param")
    min_runs_per_level: float = Field(default=2.0, ge=1, description="fewest runs per level on average")


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    t: Thresholds = ctx.thresholds
    runs = sweep.runs.reset_index(drop=True)
    if not len(runs):
        return []
    issues = run_issues(sweep, ctx.prior).reset_index(drop=True)
    eligible, eligible_rule = completed_runs(sweep)
    objective = sweep.schema.objective
    score = pd.Series(np.nan, index=runs.index)
    if objective is not None and objective.metric in runs:
        raw = pd.to_numeric(runs[objective.metric], errors="coerce")
        score = raw.where(eligible.reset_index(drop=True) & np.isfinite(raw))
    other_params = [p.name for p in sweep.schema.params if not p.constant and p.name in runs]
    findings = []
    for spec in sweep.schema.params:
        if (
            spec.constant
            or spec.kind not in ("categorical", "bool")
            or spec.name not in runs
            or is_seed(spec.name)
        ):
            continue
        buckets = bucketize(runs[spec.name], spec.kind, max_levels=t.max_levels)
        if buckets is None or buckets.method != "levels":
            continue
        n_levels = len(buckets.table)
        if not 2 <= n_levels <= t.max_levels or len(runs) / n_levels < t.min_runs_per_level:
            continue
        table = _table(runs, buckets.codes, issues, score, objective.direction if objective else None)
        table = table.join(buckets.table[["label", "bucket_kind", "value"]])
        best_ids = [str(r) for r in table["best_run_id"].dropna()]
        groups = [
            _group_record(row, runs, other_params)
            for _, row in table.iterrows()  # levels sorted by name, the missing group last
        ]
        evidence: dict[str, Any] = {
            "param": spec.name,
            "n_runs": len(runs),
            "n_groups": int(n_levels),
            "objective": None if objective is None else objective.metric,
            "direction": None if objective is None else objective.direction,
            "objective_runs": eligible_rule + " with a finite objective",
            "issue_types": [c for c in issues.columns if c != "any"],
            "groups": groups,
        }
        title = f"{spec.name}: {int(n_levels)} groups over {len(runs)} runs"
        ranked = table.dropna(subset=["best"])
        if objective is not None and len(ranked):
            winner = ranked["best"].idxmin() if objective.direction == "min" else ranked["best"].idxmax()
            best = ranked.loc[winner]
            title += (
                f"; best {objective.metric} in {bucket_text(spec.name, best)} (run {best['best_run_id']}, "
                f"{int(best['n_objective'])} of {int(best['n_runs'])} runs compared)"
            )
            evidence["best_group"] = None if best["bucket_kind"] == "missing" else str(best["label"])
        findings.append(ctx.finding(title=title, run_ids=best_ids, evidence=evidence, key=spec.name))
    return findings


def _table(
    runs: pd.DataFrame, codes: np.ndarray, issues: pd.DataFrame, score: pd.Series, direction: str | None
) -> pd.DataFrame:
    """One row per level code (`bucketize`'s): counts, rates, means and the best run (groupby, no loop
    over runs); `n_steps`, `n_last_step`, `n_runtime` count the runs behind each mean."""
    frame = pd.DataFrame(
        {
            "level": codes,
            "finished": runs["state"].astype(str).eq("finished").to_numpy(),
            "failed": runs["state"].astype(str).isin(FAILED_STATES).to_numpy(),
            "issue": issues["any"].to_numpy(),
            "steps": runs["steps"].to_numpy(dtype="float64"),
            "last_step": runs["last_step"].to_numpy(dtype="float64"),
            "runtime_s": runs["runtime_s"].to_numpy(dtype="float64"),
            "score": score.to_numpy(dtype="float64"),
        }
    )
    g = frame.groupby("level", sort=True)
    table = pd.DataFrame(
        {
            "n_runs": g.size(),
            "n_finished": g["finished"].sum(),
            "n_failed": g["failed"].sum(),
            "n_with_issues": g["issue"].sum(),
            "mean_steps": g["steps"].mean(),
            "mean_last_step": g["last_step"].mean(),
            "mean_runtime_s": g["runtime_s"].mean(),
            "n_steps": g["steps"].count(),
            "n_last_step": g["last_step"].count(),
            "n_runtime_s": g["runtime_s"].count(),
            "n_objective": g["score"].count(),
            "median": g["score"].median(),
            "best": g["score"].min() if direction != "max" else g["score"].max(),
        }
    )
    table["failed_rate"] = table["n_failed"] / table["n_runs"]
    table["failed_ci_low"], table["failed_ci_high"] = wilson_interval(table["n_failed"], table["n_runs"])
    table["issue_rate"] = table["n_with_issues"] / table["n_runs"]
    scored = frame.dropna(subset=["score"])
    if len(scored):
        best_rows = (
            scored.sort_values("score", ascending=direction != "max", kind="stable").groupby("level").head(1)
        )
        table["best_row"] = pd.Series(best_rows.index.to_numpy(), index=best_rows["level"].to_numpy())
        table["best_run_id"] = table["best_row"].map(
            lambda i: None if pd.isna(i) else str(runs.at[int(i), "run_id"])
        )
    else:
        table["best_row"] = np.nan
        table["best_run_id"] = None
    return table


# float fields -> the count column saying how many runs they are computed over (none: always some)
_FLOATS = {
    "failed_rate": None,
    "failed_ci_low": None,
    "failed_ci_high": None,
    "issue_rate": None,
    "mean_steps": "n_steps",
    "mean_last_step": "n_last_step",
    "mean_runtime_s": "n_runtime_s",
    "median": "n_objective",
    "best": "n_objective",
}


def _group_record(row: pd.Series, runs: pd.DataFrame, params: list[str]) -> dict[str, Any]:
    ints = ("n_runs", "n_finished", "n_failed", "n_with_issues", "n_objective")
    missing = row["bucket_kind"] == "missing"
    record: dict[str, Any] = {
        "level": None if missing else str(row["label"]),
        "missing": bool(missing),
        **{k: int(row[k]) for k in ints},
    }
    # a statistic over no runs (no steps logged, no objective) is absent, not NaN
    record.update({k: None if n is not None and not row[n] else plain(row[k]) for k, n in _FLOATS.items()})
    record["best_run_id"] = row["best_run_id"]
    record["best_config"] = (
        None
        if pd.isna(row["best_row"])
        else {p: _config_value(runs.at[int(row["best_row"]), p]) for p in params}
    )
    return record


def _config_value(value: Any) -> Any:
    """A param value of the best run; a param the run does not have (NaN in the table) is absent."""
    return None if isinstance(value, float | np.floating) and np.isnan(value) else plain(value)
