"""CRV002 loss-spike: a loss that jumped far above its recent level and then came back.

What: for every loss curve (a history metric whose goal is "min", not a timing), the points that are
far above the rolling median of the `window` points logged before them and after which the loss
returned close to that median within `recover_within` points: transient spikes, as opposed to a
divergence (CRV001), where the loss stays up. Consecutive spike points count as one spike. Per run: the
number of spikes, the steps at which they started, and the largest one (peak step, value, baseline
median, ratio to the baseline). The ratio is 1 + (peak - baseline) / |baseline|: the peak over the
baseline for a positive loss, and above 1 for every spike whatever the sign of the loss (a loss of -0.9
after a baseline of -2.0 is a spike of ratio 1.55, not 0.45).

Why it matters: spikes that recover are the early warning of instability (learning rate at the edge of
stability, too little warm-up or gradient clipping, bad batches, fp16 loss-scale overflow). They cost
progress each time, and a run with spikes is often one config step away from diverging.

Thresholds: `window` (default 10): trailing points whose median is the baseline (at least 3 needed).
`min_ratio` (default 1.5): a spike's ratio (above) is at least 1.5, i.e. it is 50% of the baseline's
magnitude above the baseline (so negative losses work too); minibatch noise of a training loss stays well
under 50%. `min_height` (default 0.1): the excess must also be at least this share of the curve's own
improvement (first value minus minimum), so a near-zero loss flickering between 0.001 and 0.002 is not
a spike. `recover_within` (default 10) and `recover_ratio` (default 1.2): within that many following
points the loss must come back to at most 1.2 times the baseline; a spike at the very end of a curve
cannot be judged and is skipped. `max_runs` (default 200): per-run records listed in the evidence,
the runs with the largest spike first; `n_runs`, `n_spikes`, `n_runs_listed` and `n_runs_not_listed`
keep the counts exact and `run_ids` lists every run with a spike.

Known false positives: losses logged per batch on data with very uneven batches (a few hard batches,
variable sequence lengths); the first evaluation after a curriculum or data-mixture switch; a loss that
legitimately jumps when a new task or loss term is switched on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from reportgen.detectors.base import Context
from reportgen.detectors.curve_shapes import (
    curve_blocks,
    finite_curves,
    listed,
    loss_metrics,
    max_runs_field,
    plural,
)
from reportgen.detectors.windows import clipped, medians, minima
from reportgen.findings import Finding
from reportgen.sweep import Sweep
from reportgen.sweep_history import Segments, category_codes


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    window: int = Field(default=10, ge=3, description="trailing points whose median is the baseline")
    min_ratio: float = Field(default=1.5, gt=1, description="spike value over its baseline")
    min_height: float = Field(
        default=0.1, gt=0, description="spike excess as a share of the curve's first-to-minimum improvement"
    )
    recover_within: int = Field(default=10, ge=1, description="points after the spike to come back in")
    recover_ratio: float = Field(default=1.2, ge=1, description="back to at most this times the baseline")
    max_runs: int = max_runs_field()


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    t: Thresholds = ctx.thresholds
    findings = []
    for metric in loss_metrics(sweep, ctx.cache):
        d = finite_curves(sweep, metric, ctx.cache)
        spikes = spike_points(d, t)
        if spikes.empty:
            continue
        per_run = _per_run(spikes)
        run_ids = per_run.index.tolist()
        shown = listed(per_run, per_run["largest_ratio"], t.max_runs)
        steps = _spike_steps(spikes, [r["run_id"] for r in shown["runs"]])
        for r in shown["runs"]:
            r["spike_steps"] = steps[r["run_id"]]
        evidence = {
            "metric": metric,
            "n_runs": len(run_ids),
            "n_runs_with_metric": len(d["run_id"].cat.categories),  # the runs with a finite point
            "n_spikes": len(spikes),
            **shown,
        }
        title = (
            f"{metric} spiked and recovered {plural(len(spikes), 'time')} in {plural(len(run_ids), 'run')}"
        )
        findings.append(ctx.finding(title=title, run_ids=run_ids, evidence=evidence, key=metric))
    return findings


def spike_points(d: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """One row per spike (consecutive spike points merged): run_id, step (where it started), peak_step,
    value (its peak), baseline (the median before it) and ratio (1 + (peak - baseline) / |baseline|).

    The baseline median is needed only where a spike is possible at all: the baseline is never below the
    curve's minimum, so a point less than `min_height` of the improvement above that minimum cannot be
    a spike whatever the median; nor is the baseline below the minimum of its window, so a point that
    does not clear that window minimum by `min_height` of the improvement (nor, for a positive window
    minimum, by `min_ratio - 1` times it) cannot be one either. Both bounds are exact, in floating point
    too (rounding is monotone), and leave few rows for the medians. The recovery window is read only at
    the remaining candidates."""
    if d.empty:
        return pd.DataFrame()
    blocks = curve_blocks(d)
    value = d["value"].to_numpy()
    low = np.minimum.reduceat(value, blocks.starts)
    improvement = value[blocks.starts] - low
    rows, block = _open_rows(value, category_codes(d["run_id"]), blocks, low, improvement, t)
    start, stop = clipped(blocks, rows, -t.window, -1, block)
    baseline = medians(value, start, stop, min_periods=3)
    scale = np.abs(baseline)
    excess = value[rows] - baseline
    with np.errstate(invalid="ignore"):
        candidate = (
            (excess >= (t.min_ratio - 1) * scale)
            & (scale > 0)
            & (excess >= t.min_height * improvement[block])
        )
    if not candidate.any():
        return pd.DataFrame()
    rows, baseline, scale = rows[candidate], baseline[candidate], scale[candidate]
    later = minima(value, *clipped(blocks, rows, 1, t.recover_within, block[candidate]))
    with np.errstate(invalid="ignore"):
        recovered = later - baseline <= (t.recover_ratio - 1) * scale
    rows, baseline = rows[recovered], baseline[recovered]
    # consecutive spike points are one spike: keep the first point of each, with the episode's peak
    follows = np.zeros(len(rows), dtype=bool)
    follows[1:] = rows[1:] - 1 == rows[:-1]
    follows &= ~np.isin(rows, blocks.starts)
    out = d.iloc[rows][["run_id", "step", "value"]].reset_index(drop=True)
    out["baseline"] = baseline
    out["ratio"] = _ratio(value[rows], baseline)
    out["episode"] = np.cumsum(~follows)
    g = out.groupby("episode", sort=False)
    peak = out.loc[g["value"].idxmax().to_numpy()].set_index("episode")
    first = g[["run_id", "step", "baseline"]].first()
    first["value"] = peak["value"]
    first["ratio"] = _ratio(first["value"].to_numpy(), first["baseline"].to_numpy())
    first["peak_step"] = peak["step"]
    return first.reset_index(drop=True)[["run_id", "step", "peak_step", "value", "baseline", "ratio"]]


def _open_rows(
    value: np.ndarray,
    codes: np.ndarray,
    blocks: Segments,
    low: np.ndarray,
    improvement: np.ndarray,
    t: Thresholds,
) -> tuple[np.ndarray, np.ndarray]:
    """The rows (and their curves) that the two bounds of `spike_points` leave open: at least 3 points
    into their curve, at least `min_height` of the improvement above the curve's minimum and above the
    minimum of their baseline window. One chunk of rows at a time, so every per-row temporary (the
    curve's minimum and height broadcast to the rows, the windows, their minima) is chunk-sized and
    reused, never as long as the metric's history. `codes` is each row's curve (`curve_blocks`).

    Before the exact window minima (a `reduceat` per row, the costliest step), a coarser bound: the
    minimum over the fixed tiles of `tile` rows that a window overlaps (two at most, the tiles being
    at least as long as the window) is at most the window's minimum, so a row that does not clear it
    does not clear the window's either."""
    height, judged = t.min_height * improvement, improvement > 0
    tile = max(_TILE, t.window)
    tiles = np.minimum.reduceat(value, np.arange(0, len(value), tile))
    base = np.empty(min(len(value), _CHUNK))
    bar = np.empty_like(base)
    found, curves = [], []
    for at in range(0, len(value), _CHUNK):
        curve = codes[at : at + _CHUNK]
        n = len(curve)
        np.take(low, curve, out=base[:n])
        np.subtract(value[at : at + n], base[:n], out=base[:n])
        np.take(height, curve, out=bar[:n])
        possible = (base[:n] >= bar[:n]) & judged[curve]
        rows = at + np.flatnonzero(possible)
        block = curve[rows - at]
        rows = rows[rows - blocks.starts[block] >= 3]  # the baseline needs 3 points before the row
        block = curve[rows - at]
        start, stop = clipped(blocks, rows, -t.window, -1, block)
        with np.errstate(invalid="ignore"):
            near = value[rows] - np.minimum(tiles[start // tile], tiles[(stop - 1) // tile]) >= height[block]
        rows, block, start, stop = rows[near], block[near], start[near], stop[near]
        floor = minima(value, start, stop)
        clears = value[rows] - floor
        with np.errstate(invalid="ignore"):
            open_ = (clears >= height[block]) & ~((floor > 0) & (clears < (t.min_ratio - 1) * floor))
        found.append(rows[open_])
        curves.append(block[open_])
    return np.concatenate(found), np.concatenate(curves)


_CHUNK = 1 << 18  # rows per chunk in `_open_rows`: its temporaries stay small
_TILE = 16  # rows per tile of the coarse window bound in `_open_rows`


def _ratio(value: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """1 + excess over |baseline|: value/baseline for a positive baseline, > 1 for any spike."""
    return np.asarray(1.0 + (value - baseline) / np.abs(baseline), dtype="float64")


def _per_run(spikes: pd.DataFrame) -> pd.DataFrame:
    """Per run with a spike: n_spikes, first_spike_step and the largest spike. Index run_id."""
    g = spikes.groupby("run_id", sort=False, observed=True)
    largest = spikes.loc[g["ratio"].idxmax().to_numpy()].set_index("run_id")
    out = pd.DataFrame(
        {
            "n_spikes": g.size(),
            "largest_step": largest["peak_step"],
            "largest_value": largest["value"],
            "largest_baseline": largest["baseline"],
            "largest_ratio": largest["ratio"],
        }
    )
    return out.rename_axis("run_id")


def _spike_steps(spikes: pd.DataFrame, run_ids: list[str]) -> dict[str, list[float]]:
    """The start steps of each listed run's spikes (spikes are in run, step order): one split of the
    listed runs' steps, no function call per run."""
    listed_spikes = spikes[spikes["run_id"].isin(run_ids).to_numpy()]
    ids = listed_spikes["run_id"].astype(str).to_numpy()
    steps = listed_spikes["step"].to_numpy(dtype="float64")
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if len(ids) else np.array([], dtype=int)
    return dict(
        zip(ids[starts].tolist(), (part.tolist() for part in np.split(steps, starts[1:])), strict=True)
    )
