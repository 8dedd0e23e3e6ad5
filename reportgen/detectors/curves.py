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
from reportgen.sweep_history import category_codes, curve_segments, extremes, first_true, last_true

CURVE_STATS_KEY = "curve_stats"
STAT_COLUMNS = (
    "n",
    "first_step",
    "first",
    "last_step",
    "last",
    "finite_n",
    "min",
    "max",
    "min_step",
    "max_step",
    "finite_first_step",
    "finite_first",
    "finite_last_step",
    "finite_last",
    "nan_step",
    "posinf_step",
    "neginf_step",
)


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
    starts, lasts = curves.starts, curves.lasts
    values = h["value"].to_numpy(dtype="float64")
    steps = h["step"].to_numpy(dtype="float64")
    finite = np.isfinite(values)
    finite_values = np.where(finite, values, np.nan)
    low, low_row = extremes(curves, finite_values, np.fmin)
    high, high_row = extremes(curves, finite_values, np.fmax)
    del finite_values
    out = pd.DataFrame(
        {
            "n": curves.sizes.astype("int64"),
            "first_step": steps[starts],
            "first": values[starts],
            "last_step": steps[lasts],
            "last": values[lasts],
            "finite_n": np.add.reduceat(finite, starts, dtype=np.int64),
            "min": low,
            "max": high,
            # the first step at which the finite extreme is reached (NaN without a finite value)
            "min_step": _step_at(steps, low_row),
            "max_step": _step_at(steps, high_row),
        },
        index=_curve_index(h, starts),
    )
    finite &= np.isfinite(steps)
    for end, row in (("first", first_true(curves, finite)), ("last", last_true(curves, finite))):
        out[f"finite_{end}_step"] = _step_at(steps, row)
        out[f"finite_{end}"] = _step_at(values, row)
    del finite
    for column, mask in (
        ("nan_step", np.isnan(values)),
        ("posinf_step", np.isposinf(values)),
        ("neginf_step", np.isneginf(values)),
    ):
        out[column] = _step_at(steps, first_true(curves, mask)) if mask.any() else np.nan
    return out


def _step_at(column: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """`column` at one row per curve, NaN where the row is -1 (none)."""
    return np.where(rows >= 0, column[np.maximum(rows, 0)], np.nan)


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
