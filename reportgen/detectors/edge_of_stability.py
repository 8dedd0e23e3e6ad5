"""CRV008 edge-of-stability: the learning rates at which gradient norms start to blow up.

What: when a gradient-norm history is logged (grad_norm, gradnorm, grad/norm, gradient_norm, ...), each
run's gradient norm "blows up" when it becomes non-finite or reaches `blowup_factor` times its early
level (the median of the finite values among its first `baseline_share` of points; curves without one
are not judged). Two findings per gradient-norm metric:
- across runs, when the runs have a learning-rate parameter with several values (lr, learning_rate,
  max_lr, ...): a table per lr value (runs, runs that blew up, their share, the median of each run's
  peak over its early level), the edge (the smallest lr value at which at least `min_blowup_share` of
  the runs blew up) and the largest lr value below it at which none did. Reported when such an edge
  exists; the flagged runs are every run that blew up, and the title counts them on both sides of the
  edge ("blew up in 4 of 4 runs with lr at or above 0.1", plus "and in 1 of 6 runs below it" when
  runs below the edge blew up too), so the title's counts add up to `n_runs` and to the run ids.
- within runs, when a learning-rate history is logged and varies inside a run (warm-up, range test,
  schedule): the learning rate at the step where each run's gradient norm blew up.

Why it matters: gradient norms exploding past a learning rate is the optimiser leaving its stable
region (the sharpness exceeds 2/lr): runs above the edge diverge or spike, and the best learning rate
is usually just below it. Knowing the edge narrows the next sweep to the stable side and says whether
warm-up or gradient clipping would buy a larger learning rate.

Thresholds: `blowup_factor` (default 10): a gradient norm ten times its early level is an explosion,
not noise (steady training moves it by a factor of two or three at most). `baseline_share` (default
0.25): the first quarter of each curve's points gives its early level. `min_blowup_share` (default
0.5): at least half the runs at an lr value must blow up for that value to count as unstable.
`min_points` (default 5): curves with fewer points are skipped. `max_runs` (default 200): per-run
records listed in each finding's evidence, runs whose gradient norm became non-finite first, then the
largest peak over the early level; `n_runs`, `n_runs_listed` and `n_runs_not_listed` keep the counts
exact and `run_ids` lists every run that blew up.

Known false positives: gradient norms logged before clipping that spike once on a bad batch;
gradient norms that start tiny (zero-initialised layers) and grow as training starts; learning-rate
parameters that are not the effective step size (a base lr scaled by batch size or a schedule).
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
    history_metrics,
    is_grad_norm_name,
    is_lr_name,
    listed,
    max_runs_field,
    per_row,
    plural,
    raw_curves,
    value_asof,
)
from reportgen.findings import Finding
from reportgen.sweep import Sweep


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    blowup_factor: float = Field(default=10.0, gt=1, description="gradient norm over its early level")
    baseline_share: float = Field(default=0.25, gt=0, lt=1, description="first share of points: early level")
    min_blowup_share: float = Field(
        default=0.5, gt=0, le=1, description="share of runs at an lr value that must blow up"
    )
    min_points: int = Field(default=5, ge=3, description="points a gradient-norm curve needs")
    max_runs: int = max_runs_field()


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    t: Thresholds = ctx.thresholds
    logged = history_metrics(sweep, ctx.cache)
    grad_names = [m for m in logged if is_grad_norm_name(m)]
    lr_names = [m for m in logged if is_lr_name(m)]
    param = lr_param(sweep)
    findings = []
    for metric in grad_names:
        runs = blowups(raw_curves(sweep, metric), curve_table(sweep, metric, ctx.cache), t)
        if runs.empty:
            continue
        if param is not None:
            finding = _across_runs(sweep, ctx, metric, param, runs, t)
            if finding is not None:
                findings.append(finding)
        for lr_metric in lr_names[:1]:
            finding = _within_runs(sweep, ctx, metric, lr_metric, runs, t)
            if finding is not None:
                findings.append(finding)
    return findings


def lr_param(sweep: Sweep) -> str | None:
    """The learning-rate parameter: a numeric, non-constant param with an lr-like name."""
    candidates = [
        p.name
        for p in sweep.schema.params
        if p.kind in ("numeric", "int") and not p.constant and p.n_unique >= 2 and is_lr_name(p.name)
    ]
    exact = [c for c in candidates if c.lower() in ("lr", "learning_rate")]
    ranked = exact or candidates
    return ranked[0] if ranked else None


def blowups(raw: pd.DataFrame, table: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """Per gradient-norm curve with enough points: baseline, peak (finite max), peak_ratio, blew_up,
    blowup_step (first non-finite or >= blowup_factor x baseline step, NaN if none), blowup_value.
    `raw` is the metric's raw_curves, `table` its curve_table. Index run_id."""
    if raw.empty:
        return pd.DataFrame()
    g = raw.groupby("run_id", sort=False, observed=True)
    n = g.size()
    pos = g.cumcount().to_numpy()
    count = g["step"].transform("size").to_numpy()
    value = raw["value"].to_numpy()
    finite = np.isfinite(value)
    early = raw[(pos < np.maximum(1, np.ceil(t.baseline_share * count))) & finite]
    baseline = early.groupby("run_id", sort=False, observed=True)["value"].median().reindex(n.index)
    base_row = per_row(raw, baseline)
    with np.errstate(invalid="ignore"):
        # a non-finite value is a blow-up only in a curve that had a finite early level to blow up from
        bad = (base_row > 0) & (~finite | (value >= t.blowup_factor * base_row))
    first_bad = raw[bad].groupby("run_id", sort=False, observed=True).head(1).set_index("run_id")
    out = pd.DataFrame({"n": n, "baseline": baseline})
    out["peak"] = table["max"].reindex(out.index.astype(str)).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["peak_ratio"] = np.where(out["baseline"] > 0, out["peak"] / out["baseline"], np.nan)
    out["blowup_step"] = first_bad["step"].reindex(out.index)
    out["blowup_value"] = first_bad["value"].reindex(out.index)
    out["blew_up"] = out["blowup_step"].notna()
    return out[out["n"] >= t.min_points].drop(columns="n").rename_axis("run_id")


def _across_runs(
    sweep: Sweep, ctx: Context, metric: str, param: str, runs: pd.DataFrame, t: Thresholds
) -> Finding | None:
    lrs = sweep.runs.assign(run_id=sweep.runs["run_id"].astype(str)).set_index("run_id")[param]
    table = runs.join(pd.to_numeric(lrs, errors="coerce").rename("lr"), how="inner")
    table = table[np.isfinite(table["lr"].to_numpy(dtype=float))]
    if table["lr"].nunique() < 2:
        return None
    levels = table.groupby("lr").agg(
        n_runs=("blew_up", "size"), n_blown=("blew_up", "sum"), median_peak_ratio=("peak_ratio", "median")
    )
    levels["share"] = levels["n_blown"] / levels["n_runs"]
    unstable = levels.index[levels["share"].to_numpy() >= t.min_blowup_share]
    if len(unstable) == 0:
        return None
    edge = float(unstable.min())
    below = levels[(levels.index < edge) & (levels["n_blown"] == 0)]
    stable = float(below.index.max()) if len(below) else None
    blown = table[table["blew_up"].to_numpy(dtype=bool)]
    run_ids = blown.index.tolist()
    at_or_above = table["lr"].to_numpy() >= edge
    n_above, n_blown_above = int(at_or_above.sum()), int((blown["lr"].to_numpy() >= edge).sum())
    n_below, n_blown_below = len(table) - n_above, len(blown) - n_blown_above
    evidence: dict[str, Any] = {
        "grad_norm_metric": metric,
        "lr_param": param,
        "edge_lr": edge,
        "largest_stable_lr": stable,
        "n_runs": len(run_ids),
        "n_runs_with_metric": len(table),
        "n_runs_at_or_above_edge": n_above,
        "n_blown_at_or_above_edge": n_blown_above,
        "n_runs_below_edge": n_below,
        "n_blown_below_edge": n_blown_below,
        "levels": [
            {"lr": float(lr), **{k: _num(v) for k, v in row.items()}} for lr, row in levels.iterrows()
        ],
        **listed(
            blown[["lr", "baseline", "peak", "peak_ratio", "blowup_step", "blowup_value"]],
            _severity(blown),
            t.max_runs,
        ),
    }
    title = (
        f"{metric} blew up in {n_blown_above} of {plural(n_above, 'run')} with {param} at or above "
        f"{_exported(sweep, param, edge)}"
    )
    if n_blown_below:
        title += f" and in {n_blown_below} of {plural(n_below, 'run')} below it"
    return ctx.finding(title=title, run_ids=run_ids, evidence=evidence, key=f"{metric}:{param}")


def _severity(blown: pd.DataFrame) -> np.ndarray:
    """Blown-up runs worst first: a non-finite gradient norm, then the largest peak over its early level."""
    nonfinite = ~np.isfinite(blown["blowup_value"].to_numpy(dtype="float64"))
    return np.where(nonfinite, np.inf, blown["peak_ratio"].to_numpy(dtype="float64"))


def _within_runs(
    sweep: Sweep, ctx: Context, metric: str, lr_metric: str, runs: pd.DataFrame, t: Thresholds
) -> Finding | None:
    lr = finite_curves(sweep, lr_metric, ctx.cache)
    if lr.empty:
        return None
    spread = curve_table(sweep, lr_metric, ctx.cache)
    varies = spread.index[((spread["min"] > 0) & (spread["max"] >= 2 * spread["min"])).to_numpy()]
    blown = runs[runs["blew_up"].to_numpy(dtype=bool) & runs.index.isin(varies)].copy()
    if blown.empty:
        return None
    blown["lr_at_blowup"] = value_asof(lr, blown.index, blown["blowup_step"].to_numpy())
    blown = blown[np.isfinite(blown["lr_at_blowup"].to_numpy())]
    if blown.empty:
        return None
    run_ids = blown.index.tolist()
    evidence = {
        "grad_norm_metric": metric,
        "lr_metric": lr_metric,
        "n_runs": len(run_ids),
        "n_runs_with_metric": len(runs),
        "min_lr_at_blowup": float(blown["lr_at_blowup"].min()),
        "median_lr_at_blowup": float(blown["lr_at_blowup"].median()),
        **listed(
            blown[["blowup_step", "lr_at_blowup", "baseline", "blowup_value", "peak", "peak_ratio"]],
            _severity(blown),
            t.max_runs,
        ),
    }
    title = f"{metric} blew up in {plural(len(run_ids), 'run')} as {lr_metric} changed within the run"
    return ctx.finding(title=title, run_ids=run_ids, evidence=evidence, key=f"{metric}:{lr_metric}")


def _num(value: Any) -> Any:
    if isinstance(value, (np.integer, int)):
        return int(value)
    v = float(value)
    return None if np.isnan(v) else v


def _exported(sweep: Sweep, param: str, value: float) -> str:
    """The lr value as the export wrote it (the runs table's own value), for the title."""
    column = sweep.runs[param]
    match = column[pd.to_numeric(column, errors="coerce") == value]
    return str(match.iloc[0]) if len(match) else repr(value)
