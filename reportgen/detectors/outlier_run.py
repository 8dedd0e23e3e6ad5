"""SSP006 outlier-run: one run far better than all the others; verify it before trusting it.

What: among rankable runs (finished, or unknown state when the export has none) with a finite objective,
at least `min_runs` of them, the robust z-score of each run's objective: its distance from the median in
units of 1.4826 x the median absolute deviation (MAD), signed so that better is positive. When more than
half of the runs share one value (MAD 0) the mean absolute deviation x 1.2533 is the scale instead. The
best run is reported when its z-score is at least `min_z` and it leads the second best by at least
`min_gap_z` of the same units (a whole group of good runs is a good region, not an outlier). The evidence
gives the best and second-best runs, the median and scale, and the best run's last step beside the median
finished run's (a best run that trained much shorter or longer than the rest is a first thing to check).

Why it matters: a single result far beyond everything else is more often a bug than a breakthrough: an
evaluation on the training split, a leaked label, a metric logged before the loss diverged to NaN, a run
that evaluated on a different (smaller, easier) set. Reporting it as the sweep's best without checking
propagates the bug into the conclusions; when it is real, it deserves repeats with other seeds.

Thresholds: `min_z` (default 3.5): robust z-score of the best run from which it is an outlier (the usual
Iglewicz-Hoaglin cut-off for the modified z-score). `min_gap_z` (default 2.0): lead over the second-best
run, in robust z units, needed to call it one run rather than a good region. `min_runs` (default 10):
rankable runs with an objective needed for a median and MAD that mean anything.

Known false positives: sweeps where most runs failed to learn (a median at chance level makes every run
that learned an "outlier"); very narrow random searches where one config is genuinely better; objectives
with a long natural tail on the good side (a reward that rare policies multiply).
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from reportgen.detectors.base import Context
from reportgen.detectors.configs import objective_table, value_text
from reportgen.findings import Finding
from reportgen.sweep import Sweep

_MAD_SCALE = 1.4826  # MAD to standard deviation under normality
_MEAN_AD_SCALE = 1.2533  # mean absolute deviation to standard deviation (sqrt(pi / 2))


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min_z: float = Field(default=3.5, gt=0, description="robust z-score of the best run that is an outlier")
    min_gap_z: float = Field(default=2.0, ge=0, description="lead over the second best in robust z units")
    min_runs: int = Field(default=10, ge=3, description="rankable runs with an objective needed")


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    t: Thresholds = ctx.thresholds
    table = objective_table(sweep)
    objective = sweep.schema.objective
    if table is None or objective is None or len(table) < t.min_runs:
        return []
    values = table["value"].to_numpy(dtype="float64")
    sign = -1.0 if objective.direction == "min" else 1.0
    median = float(np.median(values))
    deviation = np.abs(values - median)
    mad = float(np.median(deviation))
    scale, scale_kind = _MAD_SCALE * mad, "mad"
    if scale == 0.0:
        scale, scale_kind = _MEAN_AD_SCALE * float(deviation.mean()), "mean_absolute_deviation"
    if scale == 0.0:
        return []
    z = sign * (values - median) / scale  # better is positive; table is sorted best first
    best_z, second_z = float(z[0]), float(z[1])
    gap_z = best_z - second_z
    if best_z < t.min_z or gap_z < t.min_gap_z:
        return []
    best = table.iloc[0]
    second = table.iloc[1]
    finished_steps = table.loc[table["state"] == "finished", "last_step"].to_numpy(dtype="float64")
    finished_steps = finished_steps[np.isfinite(finished_steps)]
    evidence = {
        "objective": objective.metric,
        "direction": objective.direction,
        "n_rankable": len(table),
        "median": median,
        "mad": mad,
        "scale": scale,
        "scale_kind": scale_kind,
        "run_id": str(best["run_id"]),
        "value": float(best["value"]),
        "state": str(best["state"]),
        "robust_z": best_z,
        "last_step": None if np.isnan(best["last_step"]) else float(best["last_step"]),
        "median_finished_last_step": float(np.median(finished_steps)) if finished_steps.size else None,
        "second_run_id": str(second["run_id"]),
        "second_value": float(second["value"]),
        "second_robust_z": second_z,
        "gap_z": gap_z,
        "min_z": t.min_z,
        "min_gap_z": t.min_gap_z,
    }
    title = (
        f"run {best['run_id']} is far better than the other {len(table) - 1} runs on {objective.metric} "
        f"({objective.metric} = {value_text(best['value'])}; second best {value_text(second['value'])}): "
        "verify it before trusting it"
    )
    return [ctx.finding(title=title, run_ids=[str(best["run_id"])], evidence=evidence, key="best")]
