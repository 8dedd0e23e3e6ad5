"""CRV007 early-lr-decay: the learning rate was cut while the loss was still falling fast, early in
the run.

What: when a learning-rate history is logged (lr, learning_rate, lr-Adam, optimizer/lr, ...), the runs
in which the learning rate fell to `drop_fraction` of its running peak (the highest value logged so
far, so a warm-up ramp is not a drop) before `early_share` of the run's steps, while the training loss
(the train side of the first loss pair, else the first non-validation loss) had improved by at least
`min_recent_improvement` (relative) over the `window_share` of the steps just before the drop. Per run:
the peak and its step, the step and value at which the lr first fell below the fraction, that step's
share of the run, the loss then and one window earlier and their relative improvement, and the final
loss.

Why it matters: the checklist's "learning rate step decay" picture: a loss that was still dropping
steeply flattens right after the learning rate is cut, because the schedule froze the model before it
had made use of the larger steps. A later decay (or a longer schedule) usually reaches a lower loss
for the same compute. A cosine or linear schedule spanning the whole run reaches 10% of its peak only
in its last quarter and is never flagged.

Thresholds: `drop_fraction` (default 0.1): the lr counts as decayed at one tenth of its peak (one
classic step decay). `early_share` (default 0.5): a decay in the first half of the run is early; a
full cosine reaches one tenth of its peak at 80% of the run. `window_share` (default 0.1): the share of
the run's steps before the drop over which the loss trend is measured. `min_recent_improvement`
(default 0.05): the loss improved at least 5% over that window, i.e. it was still falling fast when the
lr was cut. `max_runs` (default 200): per-run records listed in the evidence, the runs whose loss was
falling fastest at the cut first; `n_runs`, `n_runs_listed` and `n_runs_not_listed` keep the counts
exact and `run_ids` lists every flagged run.

Known false positives: deliberate short schedules (an lr range test, a one-cycle policy in a short
run, warm restarts whose first cycle ends early); runs whose logged lr is a per-parameter-group value
that is not the main learning rate; steps that count different things for the lr and the loss.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from reportgen.detectors.base import Context
from reportgen.detectors.curve_shapes import (
    curve_table,
    finite_curves,
    history_metrics,
    is_lr_name,
    listed,
    max_runs_field,
    per_row,
    plural,
    train_loss_metric,
    value_asof,
)
from reportgen.findings import Finding
from reportgen.sweep import Sweep


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    drop_fraction: float = Field(default=0.1, gt=0, lt=1, description="share of the running peak lr")
    early_share: float = Field(default=0.5, gt=0, le=1, description="share of the run's steps: early")
    window_share: float = Field(default=0.1, gt=0, lt=1, description="steps before the drop judged")
    min_recent_improvement: float = Field(
        default=0.05, gt=0, description="relative loss improvement over the window before the drop"
    )
    max_runs: int = max_runs_field()


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    t: Thresholds = ctx.thresholds
    loss_metric = train_loss_metric(sweep, ctx.cache)
    lr_names = [m for m in history_metrics(sweep, ctx.cache) if is_lr_name(m)]
    if loss_metric is None or not lr_names:
        return []
    loss = finite_curves(sweep, loss_metric, ctx.cache)
    findings = []
    for lr_metric in lr_names:
        lr = finite_curves(sweep, lr_metric, ctx.cache)
        lr_table = curve_table(sweep, lr_metric, ctx.cache)
        loss_table = curve_table(sweep, loss_metric, ctx.cache)
        early = early_drops(lr, loss, lr_table, loss_table, t)
        if early.empty:
            continue
        run_ids = early.index.tolist()
        evidence = {
            "lr_metric": lr_metric,
            "loss_metric": loss_metric,
            "n_runs": len(run_ids),
            "n_runs_with_lr": len(lr_table),
            **listed(early, early["recent_improvement"], t.max_runs),
        }
        title = (
            f"{lr_metric} decayed early while {loss_metric} was still falling fast in "
            f"{plural(len(run_ids), 'run')}"
        )
        findings.append(ctx.finding(title=title, run_ids=run_ids, evidence=evidence, key=lr_metric))
    return findings


def early_drops(
    lr: pd.DataFrame, loss: pd.DataFrame, lr_table: pd.DataFrame, loss_table: pd.DataFrame, t: Thresholds
) -> pd.DataFrame:
    """Per flagged run: peak_lr, peak_step, drop_step, drop_lr, drop_share, loss_before, loss_at_drop,
    recent_improvement, final_loss. `lr` and `loss` are finite_curves, `lr_table` and `loss_table` their
    curve_tables. Index run_id."""
    if lr.empty or loss.empty:
        return pd.DataFrame()
    peak = lr.groupby("run_id", sort=False, observed=True)["value"].cummax().to_numpy()
    value = lr["value"].to_numpy()
    dropped = lr[(peak > 0) & (value <= t.drop_fraction * peak)]
    if dropped.empty:
        return pd.DataFrame()
    first_drop = dropped.groupby("run_id", sort=False, observed=True).head(1).set_index("run_id")
    out = pd.DataFrame(
        {"drop_step": first_drop["step"].to_numpy(), "drop_lr": first_drop["value"].to_numpy()},
        index=pd.Index(first_drop.index.astype(str), name="run_id"),
    )
    peak_rows = lr.assign(peak=peak)
    peak_rows = peak_rows[peak_rows["run_id"].isin(out.index).to_numpy()]
    before = peak_rows[peak_rows["step"].to_numpy() <= per_row(peak_rows, out["drop_step"])]
    bg = before.groupby("run_id", sort=False, observed=True)
    out["peak_lr"] = bg["value"].max()
    out["peak_step"] = before.loc[bg["value"].idxmax().to_numpy(), ["run_id", "step"]].set_index("run_id")[
        "step"
    ]
    # the run's span: the union of its lr and loss curves
    lr_ends = lr_table[["first_step", "last_step"]].reindex(out.index).to_numpy()
    loss_ends = loss_table[["first_step", "last_step"]].reindex(out.index).to_numpy()
    start = np.fmin(lr_ends[:, 0], loss_ends[:, 0])
    span = np.fmax(lr_ends[:, 1], loss_ends[:, 1]) - start
    with np.errstate(divide="ignore", invalid="ignore"):
        out["drop_share"] = np.where(span > 0, (out["drop_step"].to_numpy() - start) / span, np.nan)
    window = t.window_share * span
    out["loss_before"] = value_asof(loss, out.index, out["drop_step"].to_numpy() - window)
    out["loss_at_drop"] = value_asof(loss, out.index, out["drop_step"].to_numpy())
    with np.errstate(divide="ignore", invalid="ignore"):
        out["recent_improvement"] = (out["loss_before"] - out["loss_at_drop"]) / out["loss_before"].abs()
    out["final_loss"] = loss_table["last"].reindex(out.index)
    hit = (out["drop_share"] < t.early_share) & (out["recent_improvement"] >= t.min_recent_improvement)
    columns = [
        "peak_lr",
        "peak_step",
        "drop_step",
        "drop_lr",
        "drop_share",
        "loss_before",
        "loss_at_drop",
        "recent_improvement",
        "final_loss",
    ]
    return out.loc[hit.fillna(False).to_numpy(dtype=bool), columns].rename_axis("run_id")
