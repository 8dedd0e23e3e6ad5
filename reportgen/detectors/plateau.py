"""CRV003 plateau: a loss that stopped improving after the warm-up, or never improved at all.

What: for every loss curve (a history metric whose goal is "min", not a timing), the runs in which the
loss hardly improved after the first `warmup_share` of the steps: the best smoothed level after the
warm-up (a centred rolling median of `smooth` points, so one lucky minibatch does not count as
progress) is less than `min_improvement` (relative) below the smoothed level at the end of the
warm-up, and the curve did not climb away from that best either (a loss that bottoms out early and
then rises is overfitting or divergence, CRV004 and CRV001). Per run: the first value, the level at
the end of the warm-up and its step, the best level after it, the smoothed end level, the last value,
the relative improvement after the warm-up, the rise from the best to the end, and the improvement
over the whole curve (first value to best level; near zero when the run never learned at all).

Why it matters: a flat loss means the run is not learning: learning rate far too low or far too high
(bouncing around a minimum), a broken architecture (the nanoGPT ablation arm without residual
connections sits at 3.31 for its whole run), frozen or dead parameters, or labels disconnected from the
inputs. Every step after the plateau is wasted compute, and comparing such a run's final metric with
the others tells nothing about its other hyperparameters.

Thresholds: `warmup_share` (default 0.1): the first share of each curve's step span that may contain
all of its learning (warm-up, the initial fast drop). `min_improvement` (default 0.01): a loss less
than 1% better than at the end of the warm-up is flat; on the nanoGPT ablation the flat arm improves
under 0.05% (train/loss), 0.2% (val/loss) and 1% (the noisy per-batch train/step_loss) after the first
tenth, the learning arms 28% or more on their training losses. `max_rise` (default 0.05): a curve
whose smoothed end level is 5% or more (of its warm-up level) above its best is rising, not flat.
`smooth` (default 5): points in the centred rolling median. `min_points` (default 5): curves with
fewer finite points are skipped. `max_runs` (default 200): per-run records listed in the evidence, the
runs that improved least after the warm-up first; `n_runs`, `n_runs_listed` and `n_runs_not_listed`
keep the counts exact and `run_ids` lists every flat run.

Known false positives: very easy tasks that converge inside the warm-up share; runs resumed from a
converged checkpoint; fine-tuning runs whose loss starts near its floor; curves logged so sparsely
that the warm-up share already holds most of the run.
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
    frac_starts,
    listed,
    loss_metrics,
    max_runs_field,
    plural,
)
from reportgen.detectors.windows import clipped, medians
from reportgen.findings import Finding
from reportgen.sweep import Sweep
from reportgen.sweep_history import Segments, category_codes, extremes


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    warmup_share: float = Field(default=0.1, ge=0, lt=1, description="first share of the steps skipped")
    min_improvement: float = Field(
        default=0.01, gt=0, description="relative improvement after the warm-up below which it is flat"
    )
    max_rise: float = Field(
        default=0.05, gt=0, description="relative rise from the best to the end above which it is not flat"
    )
    smooth: int = Field(default=5, ge=1, description="points in the centred rolling median")
    min_points: int = Field(default=5, ge=3, description="finite points a curve needs")
    max_runs: int = max_runs_field()


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    t: Thresholds = ctx.thresholds
    findings = []
    for metric in loss_metrics(sweep, ctx.cache):
        d = finite_curves(sweep, metric, ctx.cache)
        table = curve_table(sweep, metric, ctx.cache)
        flat = flat_curves(d, table, t)
        if flat.empty:
            continue
        run_ids = flat.index.tolist()
        n_with = len(table)
        evidence = {
            "metric": metric,
            "n_runs": len(run_ids),
            "n_runs_with_metric": n_with,
            **listed(flat, -flat["improvement"], t.max_runs),
        }
        title = f"{metric} stopped improving after the warm-up in {len(run_ids)} of {plural(n_with, 'run')}"
        findings.append(ctx.finding(title=title, run_ids=run_ids, evidence=evidence, key=metric))
    return findings


def flat_curves(d: pd.DataFrame, table: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """Per flat run: first, warmup_step, warmup_level, best_level, end_level, last, improvement,
    rise_after_best, total_improvement. `d` is the metric's finite_curves, `table` its curve_table.
    Index run_id.

    After the warm-up, each curve's points (`frac_starts`: from where the step reaches `warmup_share` of
    the curve's span) are a block of its rows.
    The smoothed levels at the block's two ends are two medians per curve; the best level needs the
    whole smoothed block, but only for curves the ends leave in doubt: the best is at most the end
    level, so a curve whose end level is already `min_improvement` below its warm-up level improved
    enough (an exact bound, in floating point too: rounding is monotone)."""
    if d.empty:
        return pd.DataFrame()
    blocks = curve_blocks(d)
    start = frac_starts(d["step"].to_numpy(), blocks, t.warmup_share)
    judged = (blocks.sizes >= t.min_points) & (blocks.stops - start >= 2)
    post = Segments(start[judged], blocks.stops[judged])
    value = d["value"].to_numpy()
    first_rows, last_rows = post.starts, post.lasts
    window = (-(t.smooth // 2), (t.smooth - 1) // 2)
    warmup_level = medians(value, *clipped(post, first_rows, *window))
    end_level = medians(value, *clipped(post, last_rows, *window))
    scale = np.abs(warmup_level)
    with np.errstate(divide="ignore", invalid="ignore"):
        open_ = ~((warmup_level - end_level) / scale >= t.min_improvement)
    doubt = post.pick(open_)
    rows = doubt.rows()
    smoothed = medians(value, *clipped(doubt, rows, *window))
    best_level = np.full(len(post), np.nan)
    if len(rows):
        sizes = doubt.sizes
        best_level[open_] = extremes(Segments(doubt.offsets(), doubt.offsets() + sizes), smoothed, np.fmin)[0]
    ids = d["run_id"].cat.categories[category_codes(d["run_id"])[post.starts]]
    out = pd.DataFrame(
        {
            "first": table["first"].reindex(ids).to_numpy(),
            "warmup_step": d["step"].to_numpy()[first_rows],
            "warmup_level": warmup_level,
            "best_level": best_level,
            "end_level": end_level,
            "last": table["last"].reindex(ids).to_numpy(),
        },
        index=pd.Index(ids, name="run_id"),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        out["improvement"] = (out["warmup_level"] - out["best_level"]) / scale
        out["rise_after_best"] = (out["end_level"] - out["best_level"]) / scale
        out["total_improvement"] = (out["first"] - out["best_level"]) / out["first"].abs()
    flat = open_ & (out["improvement"] < t.min_improvement) & (out["rise_after_best"] < t.max_rise)
    return out[flat.to_numpy(dtype=bool)]
