"""Per-curve statistics shared by the curve detectors, computed once per sweep with one pass of numpy
reductions over the sorted long history's curve blocks (no Python loop per run, no groupby).

A curve is one (run, metric) series. `curve_stats` gives, per curve: rows logged, first and last step and
value (the last *logged* value, NaN included), the finite minimum and maximum with their steps, the first
and last *finite* point (step and value: `finite_first_step`, `finite_first`, `finite_last_step`,
`finite_last`; NaN when the curve has none), and the first step at which a NaN, +inf or -inf was logged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from reportgen.sweep import Sweep
from reportgen.sweep_history import STAT_COLUMNS, Segments, category_codes, curve_segments, segments

CURVE_STATS_KEY = "curve_stats"


def curve_stats(sweep: Sweep, cache: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per (run_id, metric) with a history; index (run_id, metric). Cached in `cache`."""
    if cache is not None and CURVE_STATS_KEY in cache:
        cached: pd.DataFrame = cache[CURVE_STATS_KEY]
        return cached
    h = sweep.history
    if h.empty:
        out = pd.DataFrame(columns=list(STAT_COLUMNS))
        out.index = pd.MultiIndex.from_arrays([[], []], names=["run_id", "metric"])
    else:
        out = _compute(h)
    if cache is not None:
        cache[CURVE_STATS_KEY] = out
    return out


def _compute(h: pd.DataFrame) -> pd.DataFrame:
    """The statistics of every curve: the history is sorted by run, metric and step, so each curve is
    one block of rows and its first/last rows are its first/last steps (see `sweep_history`)."""
    curves = curve_segments(h)
    columns = curve_columns(curves, stored(h["step"]), stored(h["value"]))
    return pd.DataFrame(columns, index=_curve_index(h, curves.starts))


def curve_columns(curves: Segments, steps: np.ndarray, values: np.ndarray) -> dict[str, np.ndarray]:
    """The `STAT_COLUMNS` of sorted, deduplicated curves, one array each (int64 `n`, float64 the rest):
    the computation `curve_stats` and the out-of-core reducer (`io.history_reduce`) share."""
    starts, lasts = curves.starts, curves.lasts
    finite = np.isfinite(values)
    nan = np.isnan(values)
    infinite = not bool((finite | nan).all())
    # fmin/fmax skip NaN: the values serve as they are unless an inf must be masked out
    finite_values = np.where(finite, values, np.nan) if infinite else values
    low, low_row = _extreme(curves, finite_values, np.fmin)
    high, high_row = _extreme(curves, finite_values, np.fmax)
    del finite_values
    out = {
        "n": curves.sizes.astype("int64"),
        "first_step": steps[starts].astype(np.float64),
        "first": values[starts].astype(np.float64),
        "last_step": steps[lasts].astype(np.float64),
        "last": values[lasts].astype(np.float64),
        "finite_n": _counts(curves, finite),
        "min": low.astype(np.float64),
        "max": high.astype(np.float64),
        # the first step at which the finite extreme is reached (NaN without a finite value)
        "min_step": _step_at(steps, low_row),
        "max_step": _step_at(steps, high_row),
    }
    finite &= np.isfinite(steps)
    first, last = _ends(curves, finite)
    del finite
    for end, row in (("first", first), ("last", last)):
        out[f"finite_{end}_step"] = _step_at(steps, row)
        out[f"finite_{end}"] = _step_at(values, row)
    out["nan_step"] = _step_at(steps, _ends(curves, nan)[0]) if nan.any() else np.full(len(curves), np.nan)
    del nan
    for column, sign in (("posinf_step", np.isposinf), ("neginf_step", np.isneginf)):
        mask = sign(values) if infinite else np.zeros(0, dtype=bool)
        out[column] = _step_at(steps, _ends(curves, mask)[0]) if mask.any() else np.full(len(curves), np.nan)
    return out


def _extreme(curves: Segments, values: np.ndarray, ufunc: np.ufunc) -> tuple[np.ndarray, np.ndarray]:
    """Each curve's minimum (`np.fmin`) or maximum (`np.fmax`) ignoring NaN (NaN for a curve without a
    value), and the first row holding it (-1 for none), as `sweep_history.extremes` gives them. The rows
    equal to their curve's extreme are found one chunk of rows at a time (the extreme broadcast to a
    chunk, not to the whole history) and are few, so `_hit_ends` takes them from there."""
    found = ufunc.reduceat(values, curves.starts)
    hits = []
    for at in range(0, len(values), _CHUNK):
        stop = min(at + _CHUNK, len(values))
        # the curves overlapping [at, stop), with the part of each inside it
        first = int(np.searchsorted(curves.starts, at, side="right")) - 1
        last = int(np.searchsorted(curves.starts, stop, side="left"))
        sizes = np.minimum(curves.stops[first:last], stop) - np.maximum(curves.starts[first:last], at)
        hits.append(at + np.flatnonzero(values[at:stop] == np.repeat(found[first:last], sizes)))
    return found, _hit_ends(curves, np.concatenate(hits))[0]


_CHUNK = 1 << 18  # rows per chunk in `_extreme`


def _counts(blocks: Segments, mask: np.ndarray) -> np.ndarray:
    """How many rows of each block `mask` holds at (int64), from the rows of its rarer side (a
    `reduceat` over the mask would first widen it to a history-long int64 array)."""
    if 2 * int(np.count_nonzero(mask)) <= len(mask):
        hits = np.flatnonzero(mask)
        return np.asarray(
            np.searchsorted(hits, blocks.stops) - np.searchsorted(hits, blocks.starts), np.int64
        )
    misses = np.flatnonzero(~mask)
    inside = np.searchsorted(misses, blocks.stops) - np.searchsorted(misses, blocks.starts)
    return np.asarray(blocks.sizes - inside, np.int64)


def _hit_ends(blocks: Segments, hits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first and the last of the ascending rows `hits` inside each block (-1 for none)."""
    if len(hits) == 0:
        none = np.full(len(blocks), -1, dtype=np.int64)
        return none, none.copy()
    i = np.searchsorted(hits, blocks.starts)  # the first hit at or after each start
    j = np.searchsorted(hits, blocks.stops) - 1  # the last hit before each stop
    held = j >= i
    return (
        np.where(held, hits[np.minimum(i, len(hits) - 1)], -1),
        np.where(held, hits[np.maximum(j, 0)], -1),
    )


def _ends(blocks: Segments, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first and the last row of each block where `mask` holds (-1 where it holds nowhere in the
    block), as `sweep_history.first_true` and `last_true` give them, but from an index of the rarer
    side: the rows where `mask` holds when they are few (an extreme, a NaN), else the rows where it
    fails (the non-finite rows of a mostly finite history). Binary searches per block on that index
    replace a running count over every row, the largest temporary of the curve statistics."""
    if 2 * int(np.count_nonzero(mask)) <= len(mask):
        return _hit_ends(blocks, np.flatnonzero(mask))
    misses = np.flatnonzero(~mask)
    if len(misses) == 0:
        return blocks.starts.astype(np.int64), blocks.lasts.astype(np.int64)
    # consecutive misses are one run (their row minus their rank is constant along it)
    runs = segments(misses - np.arange(len(misses)))
    run_of = np.repeat(np.arange(len(runs)), runs.sizes)
    last = len(misses) - 1
    # first: the start row unless it misses, else the row after the run of misses it opens
    i = np.minimum(np.searchsorted(misses, blocks.starts), last)
    after = misses[runs.lasts[run_of[i]]] + 1
    first = np.where(misses[i] != blocks.starts, blocks.starts, np.where(after < blocks.stops, after, -1))
    # last: the last row unless it misses, else the row before the run of misses it closes
    j = np.minimum(np.searchsorted(misses, blocks.lasts), last)
    before = misses[runs.starts[run_of[j]]] - 1
    final = np.where(misses[j] != blocks.lasts, blocks.lasts, np.where(before >= blocks.starts, before, -1))
    return first.astype(np.int64), final.astype(np.int64)


def stored(series: pd.Series) -> np.ndarray:
    """A numeric history column as it is stored (a view: a float32 value or int32 step column is not
    widened to a history-long float64 copy; results taken from it are widened per curve or per kept
    row instead), as float64 when numpy does not hold it (a nullable extension type)."""
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iuf":
        return np.asarray(series.to_numpy())
    return np.asarray(series.to_numpy(dtype="float64"))


def _step_at(column: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """`column` at one row per curve (as float64), NaN where the row is -1 (none)."""
    return np.where(rows >= 0, column[np.maximum(rows, 0)].astype(np.float64), np.nan)


def _curve_index(h: pd.DataFrame, starts: np.ndarray) -> pd.MultiIndex:
    """(run_id, metric) of each curve, as `groupby([run_id, metric], observed=True)` would label them:
    categorical levels holding only the observed categories."""
    levels, level_codes = [], []
    for name in ("run_id", "metric"):
        found = category_codes(h[name])[starts]
        used = np.unique(found)
        levels.append(pd.CategoricalIndex(pd.Categorical.from_codes(used, dtype=h[name].dtype), name=name))
        level_codes.append(np.searchsorted(used, found))
    return pd.MultiIndex(levels=levels, codes=level_codes, names=["run_id", "metric"])
