"""The Sweep's history table: a loader's long history keyed by run_id, typed, sorted and deduplicated.

Everything here works on integer codes (one Python step per distinct run key, none per row), because a
history has millions of rows and only thousands of runs. Sorting moves whole curves when the file holds
each curve in one or a few step-ordered blocks (as trackers and long exports write them), and falls back
to a full stable sort otherwise; the result is the same.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reportgen.sweep import empty_history
from reportgen.sweep_history import Segments, segments

# a bitmap of (run, step) pairs is used to count distinct steps when it is at most this many times the
# number of rows (plus a fixed allowance for small histories); a hash of the pairs otherwise
_BITMAP_ROWS_FACTOR = 4
_BITMAP_MIN_CELLS = 1 << 22
# rows per chunk of the passes that would otherwise make temporaries as long as the history
_CHUNK = 1 << 16
# attrs of a streamed raw history (`io.history`): per run key, the repeated rows dropped while reading,
# and the metrics that vary only through a dropped row (`io.roles.varying_history_metrics`)
DEDUP_ATTR = "reportgen_dedup"


def codes(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes (-1 for missing) and the distinct values as strings, without a per-row loop; a
    categorical's own codes (its smallest integer type, no copy)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return np.asarray(series.array.codes), [str(c) for c in series.cat.categories]
    found, uniques = pd.factorize(series)
    return found, [str(u) for u in uniques]


def keyed_history(
    history: pd.DataFrame | None, lookup: dict[str, str], run_ids: np.ndarray, warnings: list[str]
) -> tuple[pd.DataFrame, np.ndarray | None, np.ndarray | None]:
    """(history keyed by run_id, distinct steps per run, last step per run).

    `lookup` maps the keys the history uses (the export's id, a unique name, a composite key) to run ids;
    rows of unknown runs are left out with a warning, rows repeating a (run, metric, step) keep the last.
    Rows are sorted by run (in runs-table order), metric (alphabetical) and step.

    Nothing is copied that need not be: when the history is already in that order (as a streamed Parquet
    history is when its runs come in runs-table order) the float columns are the history's own and the
    codes are its codes. A streamed history's `attrs[DEDUP_ATTR]` counts the repeats dropped while
    reading, per run key, so the warning counts them as if they had been dropped here.
    """
    if history is None or history.empty:
        return empty_history(), None, None
    key_codes, key_values = codes(history["run_key"])
    position = {rid: i for i, rid in enumerate(run_ids)}
    target = np.array(
        [position.get(lookup.get(k, ""), -1) for k in key_values] + [-1], dtype=_code_type(len(run_ids))
    )
    identity = len(key_values) <= len(run_ids) and bool(
        np.array_equal(target[:-1], np.arange(len(key_values)))
    )
    run_codes = key_codes if identity else target[key_codes]  # code -1 (missing key) picks the trailing -1
    del key_codes
    unknown = [k for k, t in zip(key_values, target[:-1], strict=True) if t < 0]
    if unknown:
        warnings.append(
            f"history rows of {len(unknown)} run(s) match no run in the runs table "
            f"(first: {unknown[0]!r}); left out"
        )
    metric_codes, metric_values = codes(history["metric"])
    names = sorted(set(metric_values))
    if metric_values != names:
        rank_of = {m: i for i, m in enumerate(names)}
        rank = np.array([rank_of[m] for m in metric_values] + [-1], dtype=_code_type(len(names)))
        metric_codes = rank[metric_codes]
    step, value = _floats(history["step"]), _floats(history["value"])
    keep = _complete(run_codes, metric_codes, step)
    if keep is not None:
        run_codes, metric_codes, step, value = run_codes[keep], metric_codes[keep], step[keep], value[keep]
    del keep
    order = row_order(run_codes, metric_codes, step)
    if order is not None:  # one column at a time, so only one old column is held next to its new one
        run_codes = run_codes[order]
        metric_codes = metric_codes[order]
        step = step[order]
        value = value[order]
    del order
    dropped = _dropped_repeats(history, target)
    repeat = repeated_rows(run_codes, metric_codes, step)
    if repeat is not None or dropped:
        count = dropped + (0 if repeat is None else int(repeat.sum()))
        warnings.append(f"{count} history rows repeat a (run, metric, step); the last one is kept")
    if repeat is not None:
        run_codes, metric_codes, step, value = (a[~repeat] for a in (run_codes, metric_codes, step, value))
    out = pd.DataFrame(
        {
            "run_id": pd.Categorical.from_codes(run_codes, categories=list(run_ids)),
            "step": step,
            "metric": pd.Categorical.from_codes(metric_codes, categories=names),
            "value": value,
        },
        copy=False,  # the arrays are ours: no defensive copy, no stacking of the float columns
    )
    n_runs = len(run_ids)
    return out, _distinct_steps(run_codes, step, n_runs), _last_steps(run_codes, metric_codes, step, n_runs)


def _floats(column: pd.Series) -> np.ndarray:
    """A column as float64 numbers (NaN where none parses), the column's own array when it is float64
    already (`pd.to_numeric` would copy it)."""
    if column.dtype == np.dtype("float64"):
        return column.to_numpy()
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype="float64")


def _code_type(count: int) -> type[np.signedinteger]:
    """The smallest signed integer type holding codes 0..count-1 and -1 (as pandas sizes a categorical's
    codes, so `Categorical.from_codes` keeps the array)."""
    for kind in (np.int8, np.int16, np.int32):
        if count < np.iinfo(kind).max:
            return kind
    return np.int64


def _complete(run: np.ndarray, metric: np.ndarray, step: np.ndarray) -> np.ndarray | None:
    """The rows with a known run, a metric and a step; None when that is every row (checked in chunks,
    so no full-length mask is made for a history that needs none)."""
    for at in range(0, len(step), _CHUNK):
        rows = slice(at, at + _CHUNK)
        if not (bool((run[rows] >= 0).all()) and bool((metric[rows] >= 0).all())) or bool(
            np.isnan(step[rows]).any()
        ):
            return (run >= 0) & (metric >= 0) & ~np.isnan(step)
    return None


def _dropped_repeats(history: pd.DataFrame, target: np.ndarray) -> int:
    """Repeated rows a streamed history dropped while reading, among the keys of known runs."""
    dedup = history.attrs.get(DEDUP_ATTR)
    if not dedup or not len(dedup["repeats"]):
        return 0
    per_key = np.asarray(dedup["repeats"])
    known = target[: len(per_key)] >= 0
    return int(per_key[known].sum())


def row_order(run: np.ndarray, metric: np.ndarray, step: np.ndarray) -> np.ndarray | None:
    """The stable order of rows by (run, metric, step); None when the rows are in it already.

    When the rows form few blocks of one (run, metric) each (a file written curve by curve, or metric by
    metric), the blocks are ordered by key and kept whole, which is the stable sort whenever each block is
    in step order and blocks of one curve follow each other in step; otherwise a full lexsort. The order
    is int32 when the rows allow (half an int64 index, the largest temporary of a reordering)."""
    if len(step) == 0:
        return None
    found = block_order(run, metric, step)
    if found is None:
        order = np.lexsort((step, metric, run))
        return order.astype(np.int32) if len(order) < np.iinfo(np.int32).max else order
    blocks, by_key = found
    if bool(np.all(by_key == np.arange(len(by_key)))):
        return None
    return blocks.pick(by_key).rows()


def block_order(run: np.ndarray, metric: np.ndarray, step: np.ndarray) -> tuple[Segments, np.ndarray] | None:
    """(the blocks of one (run, metric), the order of blocks) when moving whole blocks in that order is
    the stable sort of the rows by (run, metric, step); None when only a full sort is. The checks run over
    chunks of rows, so they make no temporary as long as the rows."""
    n = len(step)
    blocks = segments(run, metric)
    if len(blocks) * 8 > n:  # rows of many curves interleaved: only a full sort helps
        return None
    first, last = blocks.starts, blocks.lasts
    for at in range(0, n - 1, _CHUNK):
        stop = min(at + _CHUNK, n - 1)
        backwards = np.flatnonzero(~(step[at + 1 : stop + 1] >= step[at:stop])) + at + 1
        # a step may only go down (or be NaN) where a block begins
        if len(backwards) and not sorted_subset(backwards, first):
            return None
    key = run[first].astype(np.int64) * (int(metric.max()) + 1) + metric[first]
    by_key = np.argsort(key, kind="stable")
    same_curve = key[by_key][1:] == key[by_key][:-1]
    if not bool(np.all(~same_curve | (step[last[by_key]][:-1] <= step[first[by_key]][1:]))):
        return None
    return blocks, by_key


def sorted_subset(items: np.ndarray, pool: np.ndarray) -> bool:
    """Whether every one of `items` is in the ascending array `pool` (a binary search each; `np.isin`
    would hash all of `pool` on every call)."""
    at = np.minimum(np.searchsorted(pool, items), len(pool) - 1)
    return bool(len(pool)) and bool(np.all(pool[at] == items))


def repeated_rows(run: np.ndarray, metric: np.ndarray, step: np.ndarray) -> np.ndarray | None:
    """Rows followed by one with the same (run, metric, step) in sorted rows (all but the last of a
    repeated key); None when no key repeats."""
    candidates = np.flatnonzero(step[1:] == step[:-1])
    same = (run[candidates + 1] == run[candidates]) & (metric[candidates + 1] == metric[candidates])
    if not same.any():
        return None
    repeat = np.zeros(len(step), dtype=bool)
    repeat[candidates[same]] = True
    return repeat


def _last_steps(run: np.ndarray, metric: np.ndarray, step: np.ndarray, n_runs: int) -> np.ndarray:
    """The largest step of each run (NaN for runs without rows): the largest last step of its curves."""
    last = np.full(n_runs, np.nan)
    if len(step):
        curves = segments(run, metric)
        curve_run = run[curves.starts]
        by_run = segments(curve_run)
        last[curve_run[by_run.starts]] = np.maximum.reduceat(step[curves.lasts], by_run.starts)
    return last


def _distinct_steps(run: np.ndarray, step: np.ndarray, n_runs: int) -> np.ndarray:
    """Distinct steps per run (float64, NaN for runs without rows), over all its metrics: a bitmap of
    (run, step) when the steps are whole numbers in a range small enough, else a hash of the pairs. The
    passes over the rows go in chunks, so no temporary is as long as the history."""
    counts: np.ndarray
    low = float(step.min()) if len(step) else 0.0
    span = float(step.max()) - low + 1 if len(step) else 0.0
    chunks = [slice(at, at + _CHUNK) for at in range(0, len(step), _CHUNK)]
    whole = (
        len(step) > 0
        and np.isfinite(span)
        and all(bool(np.all(step[rows] == np.floor(step[rows]))) for rows in chunks)
    )
    if whole and n_runs * span <= _BITMAP_ROWS_FACTOR * len(step) + _BITMAP_MIN_CELLS:
        width = int(span)
        seen = np.zeros(n_runs * width, dtype=bool)
        for rows in chunks:
            seen[run[rows].astype(np.int64) * width + (step[rows] - low).astype(np.int64)] = True
        counts = seen.reshape(n_runs, width).sum(axis=1).astype("float64")
    else:
        pairs = pd.DataFrame({"run": run, "step": step}).drop_duplicates()
        counts = np.bincount(pairs["run"].to_numpy(), minlength=n_runs).astype("float64")
    counts[counts == 0] = np.nan
    return counts
