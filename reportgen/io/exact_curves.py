"""A reduced history's exact per-key facts, re-keyed to the Sweep's runs and metrics.

A reducer (`history_reduce`, `history_duckdb`) keys what it computes by the history's run keys (the
export's ids, names or a composite key) and metric names; the Sweep keys its history by run_id in
runs-table order and by metric (renamed when a name clashes with a reserved runs column). These helpers
carry the exact statistics over, so the detectors get from the Sweep what `curve_stats` would have
computed from the full history. When several history keys map to one run, the exact facts of the keys
cannot be merged (which of two keys' rows at the same step wins is decided by file order), so nothing
is carried over and a warning says the statistics come from the kept rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reportgen.io.history_source import ReducedHistory
from reportgen.sweep import RUN_COLUMNS
from reportgen.sweep_history import curve_segments


def key_targets(keys: pd.Index, lookup: dict[str, str], ids: np.ndarray) -> np.ndarray | None:
    """Each history key's run (its position among `ids`; -1 for none), or None when two keys that
    have rows map to the same run."""
    position = {rid: i for i, rid in enumerate(ids)}
    target = np.array([position.get(lookup.get(k, ""), -1) for k in keys], dtype=np.int64)
    known = target[target >= 0]
    if len(np.unique(known)) < len(known):
        return None
    return target


def exact_steps(reduced: ReducedHistory, target: np.ndarray, n_runs: int) -> np.ndarray:
    """Distinct steps per run (float64, NaN for runs without history rows)."""
    steps = np.full(n_runs, np.nan)
    known = target >= 0
    steps[target[known]] = reduced.steps.to_numpy()[known]
    return steps


def exact_stats(reduced: ReducedHistory, target: np.ndarray, history: pd.DataFrame) -> pd.DataFrame | None:
    """The reducer's per-curve statistics with the index and row order `curve_stats(sweep)` gives for
    `history` (the Sweep's keyed history); None when the curves do not match it one to one."""
    if history.empty:
        return None  # curve_stats gives the empty table itself
    stats = reduced.stats
    key_code, metric_code = (np.asarray(c, dtype=np.int64) for c in stats.index.codes)
    run = target[key_code]
    metric_names = [str(m) for m in stats.index.levels[1]]
    renamed = pd.Index([f"{m}_" if m in RUN_COLUMNS else m for m in metric_names], dtype="object")
    metric_position = history["metric"].cat.categories.get_indexer(renamed)
    metric = metric_position[metric_code]
    known = run >= 0
    if (metric[known] < 0).any():
        return None
    order = np.flatnonzero(known)
    order = order[np.lexsort((metric[order], run[order]))]
    run, metric = run[order], metric[order]
    if len(order) != len(curve_segments(history)):
        return None
    levels, codes = [], []
    for name, found in (("run_id", run), ("metric", metric)):
        used = np.unique(found)
        dtype = history[name].dtype
        levels.append(pd.CategoricalIndex(pd.Categorical.from_codes(used, dtype=dtype), name=name))
        codes.append(np.searchsorted(used, found))
    out = stats.iloc[order].copy()
    out.index = pd.MultiIndex(levels=levels, codes=codes, names=["run_id", "metric"])
    return out
