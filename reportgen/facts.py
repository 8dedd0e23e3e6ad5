"""The FactSheet: every quantity a report may state, addressable, built from the Sweep and its findings.

The writer cites numbers only through it and the fact-checker resolves every claim against it, so both
see the same numbers. Three layers, all raw (never rounded):

- `runs`: one row per run (index run_id): state, steps, last_step, runtime, every param, every metric's
  summary, and per history curve its first/min/max value, the steps of its min and max, its first
  non-finite step, plus the final val/train ratio of every metric pair and one `issue.<name>` flag per
  issue type found by the detectors (`detectors.issues.run_issues`: what counts as an issue is decided
  there, once, for the FactSheet and the hyperparameter detectors alike).
- `sweep`: scalar facts about the whole sweep (`runs`, `state.<s>.count`/`.rate`, `issue.<name>.count`/
  `.rate`, `issue.any.count`/`.rate`, the objective's best run and value).
- `findings`: every finding by id (its evidence holds the per-bucket and per-group tables).

Column names are `<metric>.<stat>` for curve statistics (`val_loss.min_step`), `<val>/<train>` for pair
ratios and `issue.<name>` for issue flags, so a claim about "trial 3's val_loss/train_loss ratio" or
"the step of the val_loss minimum" has one place to look.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from reportgen.detectors.curves import curve_stats
from reportgen.detectors.issues import run_issues
from reportgen.detectors.run import seeded_cache
from reportgen.findings import Detection, Finding
from reportgen.sweep import Sweep

CURVE_FACTS = ("first", "min", "min_step", "max", "max_step", "first_step", "last_step")


class FactSheet(BaseModel):
    """Runs, sweep-level scalars and findings, as described in the module docstring."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    runs: pd.DataFrame
    sweep: dict[str, Any]
    findings: dict[str, Finding]
    issue_names: list[str]

    def run_value(self, run_id: str, attribute: str) -> Any:
        """One run's fact (KeyError when the run or attribute does not exist)."""
        return self.runs.at[run_id, attribute]


def build_factsheet(sweep: Sweep, detection: Detection, cache: dict[str, Any] | None = None) -> FactSheet:
    """The FactSheet of a sweep and the findings detected on it (`cache`: the one detection used)."""
    cache = seeded_cache(sweep, cache)
    runs = sweep.runs.set_index("run_id", drop=False).rename_axis(None)
    columns: dict[str, pd.Series] = {}
    stats = curve_stats(sweep, cache)
    for metric in stats.index.get_level_values("metric").unique() if len(stats) else []:
        per_run = stats.xs(metric, level="metric").reindex(runs.index)
        for stat in CURVE_FACTS:
            columns[f"{metric}.{stat}"] = per_run[stat].astype("float64")
        bad = per_run[["nan_step", "posinf_step", "neginf_step"]].min(axis=1)
        columns[f"{metric}.nonfinite_step"] = bad.astype("float64")
    for pair in sweep.schema.pairs:
        if pair.val in runs and pair.train in runs:
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = runs[pair.val].to_numpy(dtype="float64") / runs[pair.train].to_numpy(dtype="float64")
            columns[f"{pair.val}/{pair.train}"] = pd.Series(ratio, index=runs.index)
    issues = run_issues(sweep, detection.findings)
    issues.index = runs.index
    for name in issues.columns:
        columns[f"issue.{name}"] = issues[name]
    table = pd.concat([runs, pd.DataFrame(columns, index=runs.index)], axis=1)
    return FactSheet(
        runs=table,
        sweep=_sweep_facts(sweep, issues),
        findings={f.id: f for f in detection.findings},
        issue_names=list(issues.columns),
    )


def _sweep_facts(sweep: Sweep, issues: pd.DataFrame) -> dict[str, Any]:
    n = len(sweep.runs)
    facts: dict[str, Any] = {"runs": n}
    for state, count in sweep.state_counts.items():  # zeros too: "no run was pruned" is checkable
        facts[f"state.{state}.count"] = count
        facts[f"state.{state}.rate"] = count / n if n else float("nan")
    for name in issues.columns:
        count = int(issues[name].sum())
        facts[f"issue.{name}.count"] = count
        facts[f"issue.{name}.rate"] = count / n if n else float("nan")
    objective = sweep.schema.objective
    if objective is not None and objective.metric in sweep.runs:
        values = sweep.runs.set_index("run_id")[objective.metric].astype("float64")
        finite = values[np.isfinite(values)]
        if len(finite):
            best = finite.idxmin() if objective.direction == "min" else finite.idxmax()
            facts["objective.metric"] = objective.metric
            facts["objective.direction"] = objective.direction
            facts["objective.best_run"] = str(best)
            facts["objective.best_value"] = float(finite[best])
            facts["objective.runs_with_value"] = len(finite)
    return facts
