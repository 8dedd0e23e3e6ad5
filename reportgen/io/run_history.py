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
from reportgen.sweep_history import segments

# a bitmap of (run, step) pairs is used to count distinct steps when it is at most this many times the
# number of rows (plus a fixed allowance for small histories); a hash of the pairs otherwise
_BITMAP_ROWS_FACTOR = 4
_BITMAP_MIN_CELLS = 1 << 22


def codes(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes (-1 for missing) and the distinct values as strings, without a per-row loop; a
    categorical's own codes (its smallest integer type, no copy)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(), [str(c) for c in series.cat.categories]
    found, uniques = pd.factorize(series)
    return found, [str(u) for u in uniques]


def keyed_history(
    history: pd.DataFrame | None, lookup: dict[str, str], run_ids: np.ndarray, warnings: list[str]
) -> tuple[pd.DataFrame, np.ndarray | None, np.ndarray | None]:
    """(history keyed by run_id, distinct steps per run, last step per run).

    `lookup` maps the keys the history uses (the export's id, a unique name, a composite key) to run ids;
    rows of unknown runs are left out with a warning, rows repeating a (run, metric, step) keep the last.
    Rows are sorted by run (in runs-table order), metric (alphabetical) and step.
    """
    if history is None or history.empty:
        return empty_history(), None, None
    key_codes, key_values = codes(history["run_key"])
    position = {rid: i for i, rid in enumerate(run_ids)}
    target = np.array([position.get(lookup.get(k, ""), -1) for k in key_values] + [-1], dtype=np.int32)
    run_codes = target[key_codes]  # code -1 (missing key) picks the trailing -1
    del key_codes
    unknown = [k for k, t in zip(key_values, target[:-1], strict=True) if t < 0]
    if unknown:
        warnings.append(
            f"history rows of {len(unknown)} run(s) match no run in the runs table "
            f"(first: {unknown[0]!r}); left out"
        )
    metric_codes, metric_values = codes(history["metric"])
    names = sorted(set(metric_values))
    rank_of = {m: i for i, m in enumerate(names)}
    rank = np.array([rank_of[m] for m in metric_values] + [-1], dtype=np.int32)
    metric_codes = rank[metric_codes]
    step = pd.to_numeric(history["step"], errors="coerce").to_numpy(dtype="float64")
    value = pd.to_numeric(history["value"], errors="coerce").to_numpy(dtype="float64")
    keep = (run_codes >= 0) & (metric_codes >= 0) & ~np.isnan(step)
    if not keep.all():
        run_codes, metric_codes, step, value = run_codes[keep], metric_codes[keep], step[keep], value[keep]
    del keep
    order = _row_order(run_codes, metric_codes, step)
    if order is not None:  # one column at a time, so only one old column is held next to its new one
        run_codes = run_codes[order]
        metric_codes = metric_codes[order]
        step = step[order]
        value = value[order]
    del order
    repeat = _repeats(run_codes, metric_codes, step)
    if repeat is not None:
        warnings.append(
            f"{int(repeat.sum())} history rows repeat a (run, metric, step); the last one is kept"
        )
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


def _row_order(run: np.ndarray, metric: np.ndarray, step: np.ndarray) -> np.ndarray | None:
    """The stable order of rows by (run, metric, step); None when the rows are in it already.

    When the rows form few blocks of one (run, metric) each (a file written curve by curve, or metric by
    metric), the blocks are ordered by key and kept whole, which is the stable sort whenever each block is
    in step order and blocks of one curve follow each other in step; otherwise a full lexsort."""
    n = len(step)
    if n == 0:
        return None
    blocks = segments(run, metric)
    if len(blocks) * 8 > n:  # rows of many curves interleaved: only a full sort helps
        return np.lexsort((step, metric, run))
    first, last = blocks.starts, blocks.lasts
    key = run[first].astype(np.int64) * (int(metric.max()) + 1) + metric[first]
    boundary = np.zeros(n, dtype=bool)
    boundary[first] = True
    in_step_order = bool(np.all((step[1:] >= step[:-1]) | boundary[1:]))
    if in_step_order and bool(np.all(key[1:] > key[:-1])):
        return None
    by_key = np.argsort(key, kind="stable")
    same_curve = key[by_key][1:] == key[by_key][:-1]
    joined = np.all(~same_curve | (step[last[by_key]][:-1] <= step[first[by_key]][1:]))
    if not (in_step_order and joined):
        return np.lexsort((step, metric, run))
    return blocks.pick(by_key).rows()


def _repeats(run: np.ndarray, metric: np.ndarray, step: np.ndarray) -> np.ndarray | None:
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
    (run, step) when the steps are whole numbers in a range small enough, else a hash of the pairs."""
    counts: np.ndarray
    low = float(step.min()) if len(step) else 0.0
    span = float(step.max()) - low + 1 if len(step) else 0.0
    whole = len(step) > 0 and np.isfinite(span) and bool(np.all(step == np.floor(step)))
    if whole and n_runs * span <= _BITMAP_ROWS_FACTOR * len(step) + _BITMAP_MIN_CELLS:
        width = int(span)
        seen = np.zeros(n_runs * width, dtype=bool)
        seen[run.astype(np.int64) * width + (step - low).astype(np.int64)] = True
        counts = seen.reshape(n_runs, width).sum(axis=1).astype("float64")
    else:
        pairs = pd.DataFrame({"run": run, "step": step}).drop_duplicates()
        counts = np.bincount(pairs["run"].to_numpy(), minlength=n_runs).astype("float64")
    counts[counts == 0] = np.nan
    return counts
