"""CRV004 overfitting: the validation metric got worse after its best while the training metric kept
improving, or ended far behind it.

What: for every train/validation pair with histories (`schema.pairs`: train/loss and val/loss,
score_train and score_valid), two findings, each listing the runs and per-run evidence. Only runs whose
validation curve has at least `min_points` finite points are judged, by either check:
- `rise`: the validation metric's last logged value is at least `min_rise` (relative) worse than its
  best (its minimum for a loss, its maximum for a score), and the training metric at the end is better
  than it was at the step of that best. Per run: the step and value of the best, the final value, the
  rise (absolute and relative), the training metric at the best's step and at the end, and the final
  val/train ratio.
- `gap`: the final generalization gap is large: for "lower is better" metrics the final val/train
  ratio is at least `max_loss_ratio` (when the training value is positive); for "higher is better"
  metrics (accuracy, score) the training value exceeds the validation value by more than
  `max_score_gap` (absolute, as a fraction). When the pair is on a percent scale (the largest value of
  either curve is above 1 and at most 100, and none is negative, the rule MET001 uses for chance
  level), the threshold is read in percent points: 100 x `max_score_gap`. The evidence says which
  (`gap_unit`: "fraction", "percent points" or, for values outside both ranges, "metric units", where
  the threshold applies as it is; `gap_threshold`: the threshold applied, in the metric's units). Per
  run: the final values, the gap and the ratio.
The direction is the metric's goal in the schema; when neither side has one it is read from the data
(the training side is better than the validation side in most runs).

Why it matters: a validation metric rising while the training metric falls means the model memorises
the training set: the last checkpoint is worse than an earlier one (early stopping or checkpoint
selection would have helped), and the config needs more regularization, more data or fewer steps.
Ranking runs by their final value instead of their best then mixes "better config" with "overfit
less".

Thresholds: `min_rise` (default 0.1): a validation loss 10% above its minimum is a loss a practitioner
would not accept from the last checkpoint and is ten times the noise of a 200-batch evaluation. On the
nanoGPT ablation (seed 2026) it flags the arms rising 14% to 35% (F2, D2, A3, A2, C3, baseline, C2, B1,
E1) and spares those rising 8% or less (D1, B2, C1, A1, F1, G1); D1 sits close to the line (8.5% to
10.6% over its four seeds). `max_loss_ratio` (default 2.0): a final validation loss at least twice the
training loss. `max_score_gap` (default 0.2): training accuracy or score more than 0.2 above
validation (20 accuracy points; 20 on a 0-100 scale). `min_points` (default 3): validation curves with
fewer finite points are skipped by both checks. `max_runs` (default 200): per-run records listed in each
finding's evidence, the largest relative rise (or the largest gap, or val/train ratio for a loss) first;
`n_runs`, `n_runs_listed` and `n_runs_not_listed` keep the counts exact and `run_ids` lists every
flagged run.

Known false positives: validation metrics computed on a different distribution or with different
augmentation than training; runs with strong train-time regularization (dropout, label smoothing)
reversing the usual order; a learning curve over training-set size (LCDB), where the training score of
a small training set is naturally near perfect; metrics near zero, where relative changes are large.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from reportgen.detectors.base import Context
from reportgen.detectors.curve_shapes import (
    curve_table,
    finite_curves,
    listed,
    max_runs_field,
    metric_goal,
    plural,
    value_asof,
)
from reportgen.findings import Finding
from reportgen.sweep import Direction, MetricPair, Sweep


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min_rise: float = Field(default=0.1, gt=0, description="relative worsening of val from its best")
    max_loss_ratio: float = Field(default=2.0, gt=1, description="final val/train ratio (lower is better)")
    max_score_gap: float = Field(
        default=0.2, gt=0, description="final train - val (higher is better), as a fraction"
    )
    min_points: int = Field(default=3, ge=2, description="finite points a validation curve needs")
    max_runs: int = max_runs_field()


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    t: Thresholds = ctx.thresholds
    findings = []
    for pair in sweep.schema.pairs:
        table = pair_table(sweep, pair, ctx.cache)
        if table.empty:
            continue
        goal = pair_goal(sweep, pair, table)
        unit = score_unit(table)
        judged = _measure(table[table["n_val"].to_numpy() >= t.min_points], goal)
        evidence_base: dict[str, Any] = {
            "train_metric": pair.train,
            "val_metric": pair.val,
            "goal": goal,
            "n_runs_with_pair": len(table),
            "n_runs_judged": len(judged),
        }
        rising = judged[(judged["rise_rel"] >= t.min_rise).to_numpy() & judged["train_improved"].to_numpy()]
        if len(rising):
            verb = "rose after its minimum" if goal == "min" else "fell after its maximum"
            side = "fell" if goal == "min" else "rose"
            title = f"{pair.val} {verb} in {plural(len(rising), 'run')} while {pair.train} {side} further"
            evidence = {
                **evidence_base,
                "criterion": "rise",
                "n_runs": len(rising),
                "rise_rel_max": float(rising["rise_rel"].max()),
                "rise_rel_median": float(rising["rise_rel"].median()),
                **listed(rising[_RISE_COLUMNS], rising["rise_rel"], t.max_runs),
            }
            ids = rising.index.tolist()
            findings.append(ctx.finding(title=title, run_ids=ids, evidence=evidence, key=f"{pair.val}:rise"))
        gap_evidence: dict[str, Any]
        if goal == "min":
            wide = judged[judged["ratio"] >= t.max_loss_ratio]
            severity = wide["ratio"]
            gap_evidence = {"ratio_threshold": t.max_loss_ratio}
            title = f"{pair.val} ended far above {pair.train} in "
        else:
            threshold = t.max_score_gap * (100.0 if unit == "percent points" else 1.0)
            wide = judged[judged["gap"] > threshold]
            severity = wide["gap"]
            gap_evidence = {"gap_unit": unit, "gap_threshold": threshold}
            title = f"{pair.val} ended far below {pair.train} in "
        if len(wide):
            evidence = {
                **evidence_base,
                "criterion": "gap",
                **gap_evidence,
                "n_runs": len(wide),
                "gap_median": float(wide["gap"].median()),
                **listed(wide[_GAP_COLUMNS], severity, t.max_runs),
            }
            title += f"{len(wide)} of {plural(len(judged), 'run')}"
            ids = wide.index.tolist()
            findings.append(ctx.finding(title=title, run_ids=ids, evidence=evidence, key=f"{pair.val}:gap"))
    return findings


def score_unit(table: pd.DataFrame) -> str:
    """The unit of a pair's values: "percent points" when the largest value of either curve is above 1
    and at most 100 and none is negative (MET001's rule for accuracies), "fraction" when all lie in
    [0, 1], else "metric units" (the threshold then applies as it is)."""
    high = float(np.nanmax(table[["max", "train_max"]].to_numpy(dtype="float64")))
    low = float(np.nanmin(table[["min", "train_min"]].to_numpy(dtype="float64")))
    if low >= 0.0 and 1.0 < high <= 100.0:
        return "percent points"
    return "fraction" if low >= 0.0 and high <= 1.0 else "metric units"


_RISE_COLUMNS = [
    "best_step",
    "best",
    "final_step",
    "final",
    "rise",
    "rise_rel",
    "train_at_best",
    "train_final",
    "ratio",
]
_GAP_COLUMNS = ["final_step", "final", "train_final", "gap", "ratio"]


def pair_table(sweep: Sweep, pair: MetricPair, cache: dict[str, Any] | None) -> pd.DataFrame:
    """Per run with both curves: n_val, best/final of val (min and max both kept), train at the val
    extremes' steps and at the end, train's min and max. Index run_id. Cached per pair in `cache`
    (overfitting and underfitting both read it; neither changes it)."""
    key = f"overfitting.pair_table:{pair.train}\n{pair.val}"
    if cache is not None and key in cache:
        cached: pd.DataFrame = cache[key]
        return cached
    out = _pair_table(sweep, pair, cache)
    if cache is not None:
        cache[key] = out
    return out


def _pair_table(sweep: Sweep, pair: MetricPair, cache: dict[str, Any] | None) -> pd.DataFrame:
    v = curve_table(sweep, pair.val, cache)
    tr = curve_table(sweep, pair.train, cache)
    if v.empty or tr.empty:
        return pd.DataFrame()
    v = v[tr.index.get_indexer(v.index) >= 0]  # one row per run on each side: a hashed lookup
    if v.empty:
        return pd.DataFrame()
    out = pd.DataFrame(
        {
            "n_val": v["n"],
            "min": v["min"],
            "min_step": v["min_step"],
            "max": v["max"],
            "max_step": v["max_step"],
            "final": v["last"],
            "final_step": v["last_step"],
            "train_final": tr["last"].reindex(v.index),
            "train_min": tr["min"].reindex(v.index),
            "train_max": tr["max"].reindex(v.index),
        }
    )
    train = finite_curves(sweep, pair.train, cache)
    out["train_at_min"] = value_asof(train, out.index, out["min_step"].to_numpy())
    out["train_at_max"] = value_asof(train, out.index, out["max_step"].to_numpy())
    return out.rename_axis("run_id")


def pair_goal(sweep: Sweep, pair: MetricPair, table: pd.DataFrame) -> Direction:
    """The pair's direction: the schema's goal, else the side the training metric sits on."""
    goal = metric_goal(sweep, pair.val) or metric_goal(sweep, pair.train)
    if goal is not None:
        return goal
    return "max" if float(np.nanmedian(table["train_final"] - table["final"])) > 0 else "min"


def _measure(table: pd.DataFrame, goal: Direction) -> pd.DataFrame:
    out = table.copy()
    if goal == "min":
        out["best"], out["best_step"], out["train_at_best"] = out["min"], out["min_step"], out["train_at_min"]
        out["rise"] = out["final"] - out["best"]
        out["train_improved"] = out["train_final"] < out["train_at_best"]
        out["gap"] = out["final"] - out["train_final"]
    else:
        out["best"], out["best_step"], out["train_at_best"] = out["max"], out["max_step"], out["train_at_max"]
        out["rise"] = out["best"] - out["final"]
        out["train_improved"] = out["train_final"] > out["train_at_best"]
        out["gap"] = out["train_final"] - out["final"]
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = out["best"].abs().to_numpy()
        out["rise_rel"] = np.where(scale > 0, out["rise"] / scale, np.where(out["rise"] > 0, np.inf, 0.0))
        train_final = out["train_final"].to_numpy()
        out["ratio"] = np.where(train_final > 0, out["final"] / train_final, np.nan)
    return out
