"""Per-curve statistics shared by the curve detectors, computed once per sweep with groupbys over the
long history (no Python loop per run).

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
    keys = [h["run_id"], h["metric"]]
    values = h["value"].to_numpy()
    steps = h["step"]
    grouped = h.groupby(keys, observed=True, sort=True)
    # history is sorted by run, metric, step: first/last rows of each group are its first/last steps
    first_rows = grouped.head(1).index
    last_rows = grouped.tail(1).index
    out = pd.DataFrame(
        {
            "n": grouped.size(),
            "first_step": steps.loc[first_rows].to_numpy(),
            "first": h["value"].loc[first_rows].to_numpy(),
            "last_step": steps.loc[last_rows].to_numpy(),
            "last": h["value"].loc[last_rows].to_numpy(),
        }
    )
    finite = pd.Series(np.where(np.isfinite(values), values, np.nan), index=h.index)
    by_finite = finite.groupby(keys, observed=True, sort=True)
    out["finite_n"] = by_finite.count()
    out["min"] = by_finite.min()
    out["max"] = by_finite.max()
    group = grouped.ngroup().to_numpy()
    step_values = steps.to_numpy()
    out["min_step"] = _step_of_extreme(group, values, step_values, out["min"].to_numpy(dtype="float64"))
    out["max_step"] = _step_of_extreme(group, values, step_values, out["max"].to_numpy(dtype="float64"))
    finite_rows = np.isfinite(values) & np.isfinite(step_values)
    ends = pd.DataFrame(
        {"group": group[finite_rows], "step": step_values[finite_rows], "value": values[finite_rows]}
    ).groupby("group", sort=True)
    for end in ("first", "last"):  # rows of a curve are in step order: its first and last finite point
        point = getattr(ends, end)()
        step_column, value_column = np.full(len(out), np.nan), np.full(len(out), np.nan)
        step_column[point.index.to_numpy()] = point["step"].to_numpy()
        value_column[point.index.to_numpy()] = point["value"].to_numpy()
        out[f"finite_{end}_step"], out[f"finite_{end}"] = step_column, value_column
    for column, mask in (
        ("nan_step", np.isnan(values)),
        ("posinf_step", np.isposinf(values)),
        ("neginf_step", np.isneginf(values)),
    ):
        # on integer group codes: reindexing a categorical MultiIndex trips over pandas code dtypes
        first = np.full(len(out), np.nan)
        if mask.any():
            mins = pd.Series(step_values[mask]).groupby(group[mask]).min()
            first[mins.index.to_numpy()] = mins.to_numpy()
        out[column] = first
    return out


def _step_of_extreme(
    group: np.ndarray, values: np.ndarray, steps: np.ndarray, extreme: np.ndarray
) -> np.ndarray:
    """Per group, the first step at which its finite minimum (or maximum) `extreme` is reached; NaN when
    the curve has no finite value. The rows holding the extreme, then one groupby min of their steps
    (a hash groupby: a lexsort of every row costs several times more on millions of rows)."""
    with np.errstate(invalid="ignore"):
        hit = values == extreme[group]  # NaN extreme (no finite value) matches nothing
    out = np.full(len(extreme), np.nan)
    if hit.any():
        first = pd.Series(steps[hit]).groupby(group[hit]).min()
        out[first.index.to_numpy()] = first.to_numpy()
    return out
