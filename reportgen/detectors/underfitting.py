"""CRV005 underfitting: training and validation metrics both still improving when the run ended.

What: for every train/validation pair with histories (`schema.pairs`), the runs in which both curves
were still improving over the last `tail_share` of their steps: the least-squares slope of each curve
over that tail, times the tail's step span, is an improvement of at least `min_improvement` relative to
the tail's mean level (downwards for losses, upwards for accuracies and scores; the direction is the
pair's goal, read as in CRV004). Runs that crashed, failed or were killed are skipped: their curves end
because the run died, not because training was done. Per run: the tail's first and last step, the
relative improvement of each metric over the tail and their last values.

Why it matters: when the validation metric is still improving at the end, the run was stopped too early
or the learning rate decayed too soon: training longer (or a bigger model, if the training metric is
also far from its floor) is the cheapest improvement on offer, and comparing such runs with runs that
converged ranks budgets, not configs.

Thresholds: `tail_share` (default 0.2): the last fifth of each curve's step span. `min_improvement`
(default 0.02): both metrics at least 2% better across that fifth; a converged run moves less than 1%
there (on the nanoGPT ablation the flat arm moves under 0.2% and the one arm whose val/loss still
improves at the end, G1 seed 2026, by 0.7%), while a run that would gain from more steps keeps
improving by several percent. `min_tail_points` (default 3): points each curve needs in its tail
for a slope. `max_runs` (default 200): per-run records listed in the evidence, the runs whose validation
metric was still improving fastest first; `n_runs`, `n_runs_listed` and `n_runs_not_listed` keep the
counts exact and `run_ids` lists every flagged run.

Known false positives: learning-curve sweeps whose "step" is the training-set size (more data helps, as
expected, and no longer training would); schedules whose learning rate is cut right before the end
(the final drop looks like progress); very noisy per-batch metrics with few points in the tail.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from reportgen.detectors.base import Context
from reportgen.detectors.curve_shapes import (
    curve_blocks,
    finished_or_unknown,
    finite_curves,
    frac_starts,
    listed,
    max_runs_field,
    plural,
)
from reportgen.detectors.overfitting import pair_goal, pair_table
from reportgen.findings import Finding
from reportgen.sweep import Direction, Sweep
from reportgen.sweep_history import Segments


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tail_share: float = Field(default=0.2, gt=0, le=0.5, description="last share of the step span judged")
    min_improvement: float = Field(
        default=0.02, gt=0, description="relative improvement over the tail both metrics need"
    )
    min_tail_points: int = Field(default=3, ge=2, description="points each curve needs in its tail")
    max_runs: int = max_runs_field()


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    t: Thresholds = ctx.thresholds
    findings = []
    alive = finished_or_unknown(sweep)
    for pair in sweep.schema.pairs:
        table = pair_table(sweep, pair, ctx.cache)
        if table.empty:
            continue
        goal = pair_goal(sweep, pair, table)
        train = tail_trend(finite_curves(sweep, pair.train, ctx.cache), goal, t)
        val = tail_trend(finite_curves(sweep, pair.val, ctx.cache), goal, t)
        both = train.add_suffix("_train").join(val.add_suffix("_val"), how="inner")
        both = both[both.index.isin(alive)]
        hit = both[
            (both["improvement_train"] >= t.min_improvement) & (both["improvement_val"] >= t.min_improvement)
        ]
        if hit.empty:
            continue
        run_ids = hit.index.tolist()
        evidence = {
            "train_metric": pair.train,
            "val_metric": pair.val,
            "goal": goal,
            "n_runs": len(run_ids),
            "n_runs_with_pair": len(both),
            **listed(hit, hit["improvement_val"], t.max_runs),
        }
        title = (
            f"{pair.train} and {pair.val} were still improving at the end of {plural(len(run_ids), 'run')}"
        )
        findings.append(ctx.finding(title=title, run_ids=run_ids, evidence=evidence, key=pair.val))
    return findings


def tail_trend(d: pd.DataFrame, goal: Direction, t: Thresholds) -> pd.DataFrame:
    """Per curve with enough tail points: tail_start_step, last_step, last, improvement (relative, over
    the tail, positive = better). Index run_id.

    Each curve's tail is a block of its rows (`frac_starts`), gathered alone; the means and sums of the
    least-squares slope are one `np.add.reduceat` per column over those blocks, the reduction pandas
    3.1's groupby applies to sorted groups (so the figures are the ones a groupby gives), without its
    per-call factorizing of the run ids."""
    if d.empty:
        return pd.DataFrame(columns=["tail_start_step", "last_step", "last", "improvement"])
    blocks = curve_blocks(d)
    step, value = d["step"].to_numpy(), d["value"].to_numpy()
    tails = Segments(frac_starts(step, blocks, 1 - t.tail_share), blocks.stops)
    kept = np.flatnonzero(tails.sizes > 0)
    tails = tails.pick(kept)
    rows = tails.rows()
    x, y = step[rows], value[rows]
    del rows
    at, n = tails.offsets(), tails.sizes
    xc = x - tails.spread(np.add.reduceat(x, at) / n)
    out = pd.DataFrame(
        {
            "tail_start_step": x[at],
            "last_step": x[at + n - 1],
            "last": y[at + n - 1],
            "n": n.astype("int64"),
            "mean": np.add.reduceat(y, at) / n,
        },
        index=pd.CategoricalIndex(pd.Categorical.from_codes(kept, dtype=d["run_id"].dtype), name="run_id"),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.add.reduceat(xc * y, at) / np.add.reduceat(xc * xc, at)
        change = slope * (out["last_step"] - out["tail_start_step"]) / out["mean"].abs()
    out["improvement"] = -change if goal == "min" else change
    out = out[(out["n"] >= t.min_tail_points) & np.isfinite(out["improvement"])]
    return out[["tail_start_step", "last_step", "last", "improvement"]].rename_axis("run_id")
