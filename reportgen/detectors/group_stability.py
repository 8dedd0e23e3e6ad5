"""HPE003 group-stability: per group of runs (an architecture, an optimiser, an ablation arm), how many ran,
finished, crashed or had issues, and the best result and config of each group.

What: the group params are every non-constant categorical or bool param with 2 to `max_levels` levels and
at least `min_runs_per_level` runs per level on average (a column with a new value in almost every run is
a name or an id, not a group). For each, one info finding with a table per level: runs, finished runs,
crashed/failed/killed runs and their share with a 95% Wilson interval, runs with any issue found by the
earlier run-health and curve detectors, mean logged steps and mean last step, mean runtime, and for the
objective (over finished runs with a finite value; over all runs when the export has no states) the
count, median, best value, best run and that run's config. The finding lists the best run of each group.

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
from reportgen.detectors.issues import completed_runs, run_issues
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
        if spec.constant or spec.kind not in ("categorical", "bool") or spec.name not in runs:
            continue
        levels = runs[spec.name].astype("string").fillna("missing")
        n_levels = levels.nunique()
        if not 2 <= n_levels <= t.max_levels or len(runs) / n_levels < t.min_runs_per_level:
            continue
        table = _table(runs, levels, issues, score, objective.direction if objective else None)
        best_ids = [str(r) for r in table["best_run_id"].dropna()]
        groups = [
            _group_record(level, row, runs, other_params)
            for level, row in table.iterrows()  # levels sorted by name
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
                f"; best {objective.metric} in {spec.name}={winner} (run {best['best_run_id']}, "
                f"{int(best['n_objective'])} of {int(best['n_runs'])} runs compared)"
            )
            evidence["best_group"] = str(winner)
        findings.append(ctx.finding(title=title, run_ids=best_ids, evidence=evidence, key=spec.name))
    return findings


def _table(
    runs: pd.DataFrame, levels: pd.Series, issues: pd.DataFrame, score: pd.Series, direction: str | None
) -> pd.DataFrame:
    """One row per level: counts, rates, means and the best run (groupby, no loop over runs)."""
    frame = pd.DataFrame(
        {
            "level": levels.to_numpy(),
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


def _group_record(level: Any, row: pd.Series, runs: pd.DataFrame, params: list[str]) -> dict[str, Any]:
    ints = ("n_runs", "n_finished", "n_failed", "n_with_issues", "n_objective")
    floats = (
        "failed_rate",
        "failed_ci_low",
        "failed_ci_high",
        "issue_rate",
        "mean_steps",
        "mean_last_step",
        "mean_runtime_s",
        "median",
        "best",
    )
    record: dict[str, Any] = {"level": str(level), **{k: int(row[k]) for k in ints}}
    record.update({k: _none_if_nan(row[k]) for k in floats})
    record["best_run_id"] = row["best_run_id"]
    record["best_config"] = (
        None if pd.isna(row["best_row"]) else {p: _plain(runs.at[int(row["best_row"]), p]) for p in params}
    )
    return record


def _none_if_nan(value: Any) -> float | None:
    """Means of nothing (no steps logged) are absent, not NaN."""
    return None if pd.isna(value) else float(value)


def _plain(value: Any) -> Any:
    if value is None or (not isinstance(value, float | np.floating) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value
