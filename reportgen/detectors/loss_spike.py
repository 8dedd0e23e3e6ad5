"""CRV002 loss-spike: a loss that jumped far above its recent level and then came back.

What: for every loss curve (a history metric whose goal is "min", not a timing), the points that are
far above the rolling median of the `window` points logged before them and after which the loss
returned close to that median within `recover_within` points: transient spikes, as opposed to a
divergence (CRV001), where the loss stays up. Consecutive spike points count as one spike. Per run: the
number of spikes, the steps at which they started, and the largest one (peak step, value, baseline
median, ratio to the baseline).

Why it matters: spikes that recover are the early warning of instability (learning rate at the edge of
stability, too little warm-up or gradient clipping, bad batches, fp16 loss-scale overflow). They cost
progress each time, and a run with spikes is often one config step away from diverging.

Thresholds: `window` (default 10): trailing points whose median is the baseline (at least 3 needed).
`min_ratio` (default 1.5): a spike is at least 1.5 times its baseline (the excess is measured against
the baseline's magnitude, so negative losses work too); minibatch noise of a training loss stays well
under 50%. `min_height` (default 0.1): the excess must also be at least this share of the curve's own
improvement (first value minus minimum), so a near-zero loss flickering between 0.001 and 0.002 is not
a spike. `recover_within` (default 10) and `recover_ratio` (default 1.2): within that many following
points the loss must come back to at most 1.2 times the baseline; a spike at the very end of a curve
cannot be judged and is skipped.

Known false positives: losses logged per batch on data with very uneven batches (a few hard batches,
variable sequence lengths); the first evaluation after a curriculum or data-mixture switch; a loss that
legitimately jumps when a new task or loss term is switched on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from reportgen.detectors.base import Context
from reportgen.detectors.curve_shapes import finite_curves, loss_metrics, plural, records, rolling_within
from reportgen.findings import Finding
from reportgen.sweep import Sweep


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    window: int = Field(default=10, ge=3, description="trailing points whose median is the baseline")
    min_ratio: float = Field(default=1.5, gt=1, description="spike value over its baseline")
    min_height: float = Field(
        default=0.1, gt=0, description="spike excess as a share of the curve's first-to-minimum improvement"
    )
    recover_within: int = Field(default=10, ge=1, description="points after the spike to come back in")
    recover_ratio: float = Field(default=1.2, ge=1, description="back to at most this times the baseline")


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    t: Thresholds = ctx.thresholds
    findings = []
    for metric in loss_metrics(sweep):
        d = finite_curves(sweep, metric, ctx.cache)
        spikes = spike_points(d, t)
        if spikes.empty:
            continue
        per_run = _per_run(spikes)
        run_ids = per_run.index.tolist()
        evidence = {
            "metric": metric,
            "n_runs": len(run_ids),
            "n_runs_with_metric": int(d["run_id"].nunique()),
            "n_spikes": len(spikes),
            "runs": records(per_run),
        }
        title = (
            f"{metric} spiked and recovered {plural(len(spikes), 'time')} in {plural(len(run_ids), 'run')}"
        )
        findings.append(ctx.finding(title=title, run_ids=run_ids, evidence=evidence, key=metric))
    return findings


def spike_points(d: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """One row per spike (consecutive spike points merged): run_id, step (where it started), peak_step,
    value (its peak), baseline (the median before it) and ratio (peak over baseline)."""
    if d.empty:
        return pd.DataFrame()
    g = d.groupby("run_id", sort=False, observed=True)["value"]
    baseline = rolling_within(d, d["value"].to_numpy(), t.window, "median", where="before", min_periods=3)
    value = d["value"].to_numpy()
    scale = np.abs(baseline)
    excess = value - baseline
    improvement = (g.transform("first") - g.transform("min")).to_numpy()
    with np.errstate(invalid="ignore"):
        candidate = (
            (excess >= (t.min_ratio - 1) * scale) & (scale > 0) & (excess >= t.min_height * improvement)
        )
        candidate &= improvement > 0
    if not candidate.any():
        return pd.DataFrame()
    later = rolling_within(d, d["value"].to_numpy(), t.recover_within, "min", where="after")
    with np.errstate(invalid="ignore"):
        recovered = later - baseline <= (t.recover_ratio - 1) * scale
    hit = candidate & recovered
    # consecutive spike points are one spike: keep the first point of each, with the episode's peak
    episode = np.cumsum(hit & ~_previous(d, hit))
    out = d.loc[hit, ["run_id", "step", "value"]].copy()
    out["baseline"] = baseline[hit]
    out["ratio"] = value[hit] / baseline[hit]
    out["episode"] = episode[hit]
    g = out.groupby("episode", sort=False)
    peak = out.loc[g["value"].idxmax().to_numpy()].set_index("episode")
    first = g[["run_id", "step", "baseline"]].first()
    first["value"] = peak["value"]
    first["ratio"] = peak["value"] / first["baseline"]
    first["peak_step"] = peak["step"]
    return first.reset_index(drop=True)[["run_id", "step", "peak_step", "value", "baseline", "ratio"]]


def _previous(d: pd.DataFrame, mask: np.ndarray) -> np.ndarray:
    """mask shifted by one row within each curve (False at a curve's first point)."""
    prev = np.zeros(len(mask), dtype=bool)
    prev[1:] = mask[:-1]
    return prev & (d["pos"].to_numpy() > 0)


def _per_run(spikes: pd.DataFrame) -> pd.DataFrame:
    g = spikes.groupby("run_id", sort=False, observed=True)
    largest = spikes.loc[g["ratio"].idxmax().to_numpy()].set_index("run_id")
    out = pd.DataFrame(
        {
            "n_spikes": g.size(),
            "spike_steps": g["step"].agg(lambda s: [float(v) for v in s]),
            "largest_step": largest["peak_step"],
            "largest_value": largest["value"],
            "largest_baseline": largest["baseline"],
            "largest_ratio": largest["ratio"],
        }
    )
    return out.rename_axis("run_id")
