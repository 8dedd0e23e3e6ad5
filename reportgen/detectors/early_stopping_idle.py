"""SSP004 early-stopping-idle: the sweep declares early termination but it never stopped a run.

What: when the schema records early termination (a W&B sweep config's `early_terminate`, such as hyperband, or
an Optuna pruner), and at least `min_runs` runs have ended, the detector looks for any sign that a run was
stopped early: a pruned or killed run, or a finished run that ended short (last step below `short_fraction` of
the reference length, the planned length or the median finished length: short-run's own test,
`short_run.short_runs`, with this detector's `short_fraction` and `min_finished`). When there is none, it
reports the idle early stopping. If no run has a last step, only the states are checked and the evidence says
so.

Why it matters: early termination is declared to save budget on bad configs; when it never fires, every
bad config ran to the end (the budget it was meant to save was spent), and the usual causes are a
configuration error: the metric it watches is not the one logged, its `min_iter` or `s` is beyond the
runs' length, or it reads a step axis the script never advances.

Thresholds: `min_runs` (default 5): ended runs needed before "never fired" means something (a scheduler
has nothing to compare the first runs with). `short_fraction` (default 0.5): share of the reference length
below which a finished run counts as stopped early. `min_finished` (default 3): finished runs needed to
trust a reference length (as in short-run).

Known false positives: sweeps where every config is good enough that no run falls below the scheduler's
bar (small, well-tuned spaces); schedulers whose brackets only start stopping runs after more runs than
the export holds.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from reportgen.detectors.base import Context
from reportgen.detectors.short_run import Thresholds as ShortRunThresholds
from reportgen.detectors.short_run import short_runs
from reportgen.findings import Finding
from reportgen.sweep import Sweep

_ENDED = ("finished", "crashed", "failed", "killed", "pruned", "unknown")
_FINISHED = ("finished", "unknown")


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min_runs: int = Field(default=5, ge=1, description="ended runs needed before judging")
    short_fraction: float = Field(
        default=0.5, gt=0, lt=1, description="share of the reference length that counts as stopped early"
    )
    min_finished: int = Field(default=3, ge=1, description="finished runs needed to trust a reference length")


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    t: Thresholds = ctx.thresholds
    scheduler = sweep.schema.early_termination
    runs = sweep.runs
    if not scheduler:
        return []
    ended = runs["state"].isin(_ENDED).to_numpy()
    if int(ended.sum()) < t.min_runs:
        return []
    stopped_states = runs["state"].isin(("pruned", "killed")).to_numpy()
    if stopped_states.any():
        return []
    short, ref = short_runs(
        sweep, ShortRunThresholds(short_fraction=t.short_fraction, min_finished=t.min_finished)
    )
    # a finished run that ended short was stopped early (unknown: the export has no states)
    n_short = int(short["state"].isin(_FINISHED).sum())
    if n_short:
        return []
    last = runs["last_step"].to_numpy(dtype="float64")
    finished = runs["state"].isin(_FINISHED).to_numpy()
    have_steps = bool(np.isfinite(last[finished]).any())
    evidence = {
        "early_termination": scheduler,
        "n_runs": len(runs),
        "n_ended": int(ended.sum()),
        "by_state": {s: n for s, n in sweep.state_counts.items() if n},
        "n_pruned_or_killed": 0,
        "n_short_finished": n_short,
        "checked_lengths": ref is not None,
        "reference_source": None if ref is None else ref.source,
        "planned_param": None if ref is None else ref.param,
        "typical_last_step": None if ref is None else ref.typical,
        "min_last_step_finished": float(np.nanmin(last[finished])) if have_steps else None,
        "short_fraction": t.short_fraction,
    }
    title = (
        f"early termination ({scheduler}) is declared but stopped none of the {int(ended.sum())} ended runs"
        + ("" if ref is not None else " (judged by run states only: no run lengths)")
    )
    return [ctx.finding(title=title, run_ids=[], evidence=evidence, key="idle")]
