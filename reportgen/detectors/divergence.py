"""CRV001 divergence: a loss that blew up mid-training and did not come back down.

What: for every loss curve (a history metric whose goal is "min", not a timing), the runs whose loss
ended far above the lowest value it had reached: the end level (median of the points among the last
`tail_share` of the logged points that come after the minimum, so one noisy last point neither hides
nor fakes it, and a low last point is never its own baseline) is at least `min_ratio` times the minimum
and gives back at least `min_giveback` of the improvement from the first value to the minimum. A curve
whose minimum is its last point has not diverged, whatever came before.
Per run: the minimum and its step, the onset (first step after the minimum at which the loss passed
half-way from the minimum to the end level), the peak after the minimum, the end level and the ratios
of end and peak to the minimum. Validation losses that have a training counterpart in the history are
left to CRV004 overfitting (a val loss rising while train falls is overfitting, not divergence).

Why it matters: a loss that rises far above its best and stays there means training became unstable
(learning rate too high for this point of the schedule, no warm-up or clipping, fp16 overflow, a data
or tokenizer bug): the run's final metrics say nothing about its config, and its best checkpoint is
the only usable one.

Thresholds: `min_ratio` (default 1.3): end level over the minimum; 30% above its best is far beyond
step-to-step noise of a training loss and below what every real divergence in the nanoGPT chart
export reaches (1.47 to 1.82). `min_giveback` (default 0.1): share of the learned improvement given back,
so a tiny loss near zero moving from 0.010 to 0.013 is not called a divergence. `tail_share` (default
0.1): the share of each curve's last points whose median is its end level. `min_points` (default 5):
curves with fewer finite points are skipped. When the minimum is not positive only `min_giveback`
applies. `max_runs` (default 200): per-run records listed in the evidence, the runs that gave back the
largest share of their improvement first; `n_runs`, `n_runs_listed` and `n_runs_not_listed` keep the
counts exact and `run_ids` lists every diverged run.

Known false positives: curriculum or data-mixture changes and restarts that raise the loss on purpose;
losses logged per batch with heavy noise near the end; a warm restart of the learning rate (SGDR) near
the end of the run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from reportgen.detectors.base import Context
from reportgen.detectors.curve_shapes import (
    curve_blocks,
    curve_table,
    finite_curves,
    history_metrics,
    listed,
    loss_metrics,
    max_runs_field,
    per_row,
    plural,
    tail_blocks,
)
from reportgen.findings import Finding
from reportgen.sweep import Sweep
from reportgen.sweep_history import Segments, search_sorted_ranges


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min_ratio: float = Field(default=1.3, gt=1, description="end level over the curve's minimum")
    min_giveback: float = Field(
        default=0.1, gt=0, description="share of the first-to-minimum improvement given back at the end"
    )
    tail_share: float = Field(default=0.1, gt=0, le=0.5, description="last share of points: end level")
    min_points: int = Field(default=5, ge=3, description="finite points a curve needs")
    max_runs: int = max_runs_field()


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    t: Thresholds = ctx.thresholds
    logged = set(history_metrics(sweep, ctx.cache))
    paired_val = {p.val for p in sweep.schema.pairs if p.train in logged}
    findings = []
    for metric in loss_metrics(sweep, ctx.cache):
        if metric in paired_val:
            continue
        table = curve_table(sweep, metric, ctx.cache)
        flagged = diverged_curves(finite_curves(sweep, metric, ctx.cache), table, t)
        if flagged.empty:
            continue
        run_ids = flagged.index.tolist()
        evidence = {
            "metric": metric,
            "n_runs": len(run_ids),
            "n_runs_with_metric": len(table),
            "onset_steps": sorted(float(s) for s in flagged["onset_step"].dropna().unique()),
            **listed(flagged, flagged["gave_back"], t.max_runs),
        }
        title = f"{metric} diverged (ended far above its minimum) in {plural(len(run_ids), 'run')}"
        findings.append(ctx.finding(title=title, run_ids=run_ids, evidence=evidence, key=metric))
    return findings


def diverged_curves(d: pd.DataFrame, table: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """Per diverged run: min, min_step, onset_step, onset_value, peak, peak_step, end_level, last,
    last_step, end_ratio, peak_ratio, gave_back. `d` is the metric's finite_curves, `table` its
    curve_table. Index run_id."""
    if d.empty:
        return pd.DataFrame()
    # a curve whose minimum is its last point has nothing after the minimum to diverge with
    c = table[(table["n"] >= t.min_points).to_numpy() & (table["min_step"] < table["last_step"]).to_numpy()]
    if c.empty:
        return pd.DataFrame()
    c = c.copy()
    # per judged curve, the rows after its minimum (steps ascend: a bisection in its block) and, among
    # them, the tail's, gathered alone rather than masked out of the whole metric's table
    blocks = curve_blocks(d)
    block = d["run_id"].cat.categories.get_indexer(c.index)
    found = block >= 0  # a curve with finite values only at non-finite steps has no block: no rows
    stops = np.where(found, blocks.stops[block], 0)
    starts = np.where(found, blocks.starts[block], 0)
    after = Segments(
        search_sorted_ranges(d["step"].to_numpy(), starts, stops, c["min_step"].to_numpy()), stops
    )
    tails = np.where(found, tail_blocks(blocks, t.tail_share).starts[block], 0)
    # the median of each judged curve's end rows: a groupby of just those values on the curve's place in
    # `c` (a median does not depend on the rows' order; a curve without end rows gets NaN)
    ends = Segments(np.maximum(after.starts, tails), stops)
    end_level = pd.Series(d["value"].to_numpy()[ends.rows()]).groupby(ends.ids()).median()
    c["end_level"] = end_level.reindex(np.arange(len(c))).to_numpy()
    improvement = c["first"] - c["min"]
    excess = c["end_level"] - c["min"]
    with np.errstate(divide="ignore", invalid="ignore"):
        c["gave_back"] = np.where(improvement > 0, excess / improvement, np.where(excess > 0, np.inf, 0.0))
        positive = c["min"] > 0
        c["end_ratio"] = np.where(positive, c["end_level"] / c["min"], np.nan)
    far = np.where(positive, c["end_ratio"] >= t.min_ratio, True)
    hit = (excess > 0) & (c["gave_back"] >= t.min_giveback) & far  # NaN end level (none): False
    c = c[hit.to_numpy()]
    if c.empty:
        return pd.DataFrame()
    after = d.iloc[after.pick(hit.to_numpy()).rows()]
    g = after.groupby("run_id", sort=False, observed=True)
    c["peak"] = g["value"].max()
    c["peak_step"] = after.loc[g["value"].idxmax().to_numpy(), ["run_id", "step"]].set_index("run_id")["step"]
    halfway = per_row(after, (c["min"] + c["end_level"]) / 2)
    passed = after[after["value"].to_numpy() > halfway].groupby("run_id", sort=False, observed=True)
    c["onset_step"] = passed["step"].first()
    c["onset_value"] = passed["value"].first()
    with np.errstate(divide="ignore", invalid="ignore"):
        c["peak_ratio"] = np.where(c["min"] > 0, c["peak"] / c["min"], np.nan)
    columns = [
        "first",
        "min",
        "min_step",
        "onset_step",
        "onset_value",
        "peak",
        "peak_step",
        "end_level",
        "last",
        "last_step",
        "end_ratio",
        "peak_ratio",
        "gave_back",
    ]
    return c[columns].rename_axis("run_id")
