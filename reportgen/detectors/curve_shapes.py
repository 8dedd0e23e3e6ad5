"""Shared helpers of the curve detectors (CRV001-CRV008): which metrics are losses, learning rates or
gradient norms, and one metric's finite history as a flat table whose curves are blocks of rows, so each
detector is a handful of block reductions, groupbys and windows (`windows`) over the long history (no
Python loop per run or per step).

A curve is one (run, metric) series. `finite_curves` keeps only its finite values (NaN and inf are
NAN001's business), in step order; `curve_blocks` gives its curves as blocks of rows, `tail_blocks` the
last points of each and `frac_starts` where each reaches a share of its step span (these replace
per-row position, size and span columns: on large sweeps those copies cost more than the detectors).
`curve_table` is one metric's per-curve statistics (finite points, first/last, min/max and their
steps) from `curves.curve_stats`, computed once per sweep. `listed` caps the per-run evidence records
at `max_runs`, worst first.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from reportgen.detectors.curves import curve_stats, stored
from reportgen.states import FAILED_STATES
from reportgen.sweep import Direction, Sweep
from reportgen.sweep_history import Segments, category_codes, search_sorted_ranges, segments

_SEP = r"[/_.\-\s]"
_LR = re.compile(rf"(^|{_SEP})(lr|learning{_SEP}?rate)({_SEP}|$)", re.IGNORECASE)
# lr-like names that are not the learning rate itself (a floor, a schedule length, a multiplier)
_NOT_LR = re.compile(r"(min|max_iters|decay|warmup|iters|steps|schedule|scale|mult|factor|ratio)", re.I)
_GRAD_NORM = re.compile(rf"grad(ient)?s?{_SEP}?(total{_SEP}?)?norm|grad{_SEP}?l2|gnorm", re.IGNORECASE)
# goal-"min" metrics that are not losses: timings, sizes, counters
_NOT_LOSS = re.compile(r"(time|runtime|duration|sec|seconds|memory|mem|throughput|tokens|samples)", re.I)
_VAL = re.compile(rf"(^|{_SEP})(val|valid|validation|eval|dev|test|holdout)({_SEP}|$)", re.IGNORECASE)


def is_lr_name(name: str) -> bool:
    """lr, learning_rate, lr-Adam, optimizer/lr, train/lr_group0 (not min_lr or lr_decay_iters)."""
    return bool(_LR.search(name)) and not _NOT_LR.search(name.replace("lr", "").replace("LR", ""))


def is_grad_norm_name(name: str) -> bool:
    """grad_norm, gradnorm, grad/norm, gradient_norm, grad_norm/total, train/grad_norm."""
    return bool(_GRAD_NORM.search(name))


def is_val_name(name: str) -> bool:
    """A validation/test-split metric name (val_loss, val/loss, loss_valid, eval/loss)."""
    return bool(_VAL.search(name))


def history_metrics(sweep: Sweep, cache: dict[str, Any] | None = None) -> list[str]:
    """Metrics that have at least one history row, most rows first (`value_counts` order: ties in
    category order). Counted from the per-curve row counts of `curves.curve_stats` (computed once per
    sweep) rather than by another pass over every history row; a metric the history's categories do
    not hold has no row. Cached in `cache`."""
    if cache is not None and _METRICS_KEY in cache:
        return list(cache[_METRICS_KEY])
    stats = curve_stats(sweep, cache)
    if len(stats) and not sweep.history.empty:
        categories = sweep.history["metric"].cat.categories
        where = categories.get_indexer(stats.index.get_level_values("metric").astype(str))
        held = where >= 0
        rows = np.bincount(where[held], weights=stats["n"].to_numpy()[held], minlength=len(categories))
        present = pd.Series(rows.astype("int64"), index=categories).sort_values(
            ascending=False, kind="stable"
        )
    else:
        present = pd.Series([], dtype="int64")
    out = [str(m) for m in present.index[present.to_numpy() > 0]]
    if cache is not None:
        cache[_METRICS_KEY] = out
    return list(out)


_METRICS_KEY = "curve_shapes.history_metrics"


def loss_metrics(sweep: Sweep, cache: dict[str, Any] | None = None) -> list[str]:
    """History metrics whose goal is "min" and that are losses rather than timings, learning rates or
    gradient norms, in schema order."""
    logged = set(history_metrics(sweep, cache))
    return [
        m.name
        for m in sweep.schema.metrics
        if m.goal == "min"
        and m.name in logged
        and not _NOT_LOSS.search(m.name)
        and not is_lr_name(m.name)
        and not is_grad_norm_name(m.name)
    ]


def train_loss_metric(sweep: Sweep, cache: dict[str, Any] | None = None) -> str | None:
    """The training loss to judge a schedule against: the train side of the first logged loss pair,
    else the first logged loss that is not a validation metric."""
    losses = loss_metrics(sweep, cache)
    for pair in sweep.schema.pairs:
        if pair.train in losses:
            return pair.train
    return next((m for m in losses if not is_val_name(m)), None)


def metric_goal(sweep: Sweep, name: str) -> Direction | None:
    spec = next((m for m in sweep.schema.metrics if m.name == name), None)
    return spec.goal if spec else None


def finite_curves(sweep: Sweep, metric: str, cache: dict[str, Any] | None = None) -> pd.DataFrame:
    """The finite history rows of `metric`: run_id (str), step, value, pos, n, frac; sorted by run and
    step. Cached per metric in `cache` (shared by the detectors of one detection)."""
    key = f"curve_shapes.finite:{metric}"
    if cache is not None and key in cache:
        cached: pd.DataFrame = cache[key]
        return cached
    out = _finite(sweep.history, metric)
    if cache is not None:
        cache[key] = out
    return out


def raw_curves(sweep: Sweep, metric: str) -> pd.DataFrame:
    """All history rows of `metric` (NaN and inf included): run_id (categorical of the run ids as text,
    only the runs that logged it), step, value."""
    h = sweep.history
    if h.empty:
        return pd.DataFrame(
            {
                "run_id": pd.Categorical([]),
                "step": pd.Series([], dtype="float64"),
                "value": pd.Series([], dtype="float64"),
            }
        )
    mask = (h["metric"] == metric).to_numpy()
    ids = h["run_id"].to_numpy()[mask] if not isinstance(h["run_id"].dtype, pd.CategoricalDtype) else None
    if ids is None:
        codes = category_codes(h["run_id"])[mask]
        used = np.unique(codes)
        categories = h["run_id"].cat.categories.astype(str)[used]
        run_id = pd.Categorical.from_codes(np.searchsorted(used, codes), categories=categories)
    else:
        run_id = pd.Categorical(np.asarray(ids).astype(str))
    return pd.DataFrame(
        {
            "run_id": run_id,
            "step": stored(h["step"])[mask].astype(np.float64, copy=False),
            "value": stored(h["value"])[mask].astype(np.float64, copy=False),
        }
    )


def _finite(h: pd.DataFrame, metric: str) -> pd.DataFrame:
    """`finite_curves` from the sorted history: the metric's finite rows in one mask, each run's part one
    block (see `sweep_history`). Only the three columns are materialised: positions, sizes, spans and
    tails are block arithmetic on `curve_blocks` (per-row copies of them cost more than the detectors'
    own work on large sweeps)."""
    if h.empty or metric not in h["metric"].cat.categories:
        return _no_curves()
    value, step = stored(h["value"]), stored(h["step"])
    code = h["metric"].cat.categories.get_loc(metric)
    mask = category_codes(h["metric"]) == code
    mask &= np.isfinite(value)
    mask &= np.isfinite(step)
    run = category_codes(h["run_id"])[mask]
    if len(run) == 0:
        return _no_curves()
    blocks = segments(run)
    ids = h["run_id"].cat.categories.astype(str)[run[blocks.starts]]
    del run
    return pd.DataFrame(
        {
            "run_id": pd.Categorical.from_codes(_block_codes(blocks), categories=ids),
            "step": step[mask].astype(np.float64, copy=False),
            "value": value[mask].astype(np.float64, copy=False),
        },
        copy=False,  # the arrays are ours: no defensive copy, no stacking of the float columns
    )


def _block_codes(blocks: Segments) -> np.ndarray:
    """Each row's block number, in the smallest integer type that holds the block count (the type pandas
    keeps categorical codes in, so the Categorical takes the array without another copy)."""
    kind = next(k for k in (np.int8, np.int16, np.int32, np.int64) if len(blocks) < np.iinfo(k).max)
    return np.repeat(np.arange(len(blocks), dtype=kind), blocks.sizes)


def _no_curves() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run_id": pd.Categorical([]),
            "step": pd.Series([], dtype="float64"),
            "value": pd.Series([], dtype="float64"),
        }
    )


def curve_blocks(d: pd.DataFrame) -> Segments:
    """The curves of a `finite_curves` table, one block each. Category i of its run_id is the run of block
    i and the codes ascend, so the blocks are a binary search per curve, not a pass over the rows."""
    codes = category_codes(d["run_id"])
    starts = np.searchsorted(codes, np.arange(len(d["run_id"].cat.categories), dtype=codes.dtype))
    return Segments(starts, np.append(starts[1:], len(codes))[: len(starts)])


def tail_blocks(blocks: Segments, share: float) -> Segments:
    """Each block's last ceil(share * size) rows (at least one)."""
    k = np.maximum(1, np.ceil(share * blocks.sizes)).astype(np.int64)
    return Segments(np.maximum(blocks.stops - k, blocks.starts), blocks.stops)


def frac_starts(step: np.ndarray, blocks: Segments, share: float) -> np.ndarray:
    """The first row of each block whose `frac` (where its step lies between the block's first and last
    step, 0 to 1; 0 throughout a block spanning no steps) is at least `share`; the block's stop where
    none is. Steps ascend within a block, so `frac` does too: a bisection on all blocks at once that
    computes `frac` at a few rows per block instead of at every row."""
    first = step[blocks.starts]
    span = step[blocks.lasts] - first
    lo, hi = blocks.starts.astype(np.int64), blocks.stops.astype(np.int64)
    while bool(np.any(lo < hi)):
        open_ = lo < hi
        mid = (lo + hi) // 2
        at = step[np.minimum(mid, len(step) - 1)]
        with np.errstate(divide="ignore", invalid="ignore"):
            reached = open_ & (np.where(span > 0, (at - first) / span, 0.0) >= share)
        hi = np.where(reached, mid, hi)
        lo = np.where(open_ & ~reached, mid + 1, lo)
    return lo


def curve_table(sweep: Sweep, metric: str, cache: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per run with at least one finite point of `metric`: n (finite points), first/last step and
    value (finite points), min/max with the first step each is reached. Index run_id (text), in the run
    order of `finite_curves`. A view of `curves.curve_stats` (computed once per sweep, cached)."""
    stats = curve_stats(sweep, cache)
    if stats.empty or metric not in set(stats.index.get_level_values("metric")):
        return pd.DataFrame(columns=list(_TABLE_COLUMNS.values()), index=pd.Index([], name="run_id"))
    s = stats.xs(metric, level="metric")
    s = s[s["finite_n"].to_numpy() > 0]
    out = s[list(_TABLE_COLUMNS)].rename(columns=_TABLE_COLUMNS)
    out["n"] = out["n"].astype("int64")
    out.index = pd.Index(s.index.astype(str), name="run_id")
    return out


_TABLE_COLUMNS = {  # curve_stats column -> curve_table column
    "finite_n": "n",
    "finite_first_step": "first_step",
    "finite_first": "first",
    "finite_last_step": "last_step",
    "finite_last": "last",
    "min": "min",
    "max": "max",
    "min_step": "min_step",
    "max_step": "max_step",
}


def per_row(d: pd.DataFrame, per_run: pd.Series) -> np.ndarray:
    """A per-run value broadcast to the rows of a curves table (NaN for runs `per_run` lacks)."""
    categories = d["run_id"].cat.categories
    lookup = np.append(per_run.reindex(pd.Index(categories.astype(str))).to_numpy(dtype="float64"), np.nan)
    return lookup[category_codes(d["run_id"])]  # code -1 (no run) picks the trailing NaN


def value_asof(d: pd.DataFrame, run_ids: pd.Index | np.ndarray, steps: np.ndarray) -> np.ndarray:
    """The curve value at the last logged step at or before each (run, step); NaN when none. One
    bisection inside each asked run's block of the curves table (rows grouped by run, in step order)."""
    out = np.full(len(run_ids), np.nan)
    if len(run_ids) == 0 or d.empty:
        return out
    codes = pd.Categorical(np.asarray(run_ids).astype(str), categories=d["run_id"].cat.categories).codes
    steps = np.asarray(steps, dtype=float)
    blocks = curve_blocks(d)
    block_code = category_codes(d["run_id"])[blocks.starts]
    asked = np.flatnonzero(np.isfinite(steps) & np.isin(codes, block_code))
    block = np.searchsorted(block_code, codes[asked])
    start = blocks.starts[block]
    after = search_sorted_ranges(d["step"].to_numpy(), start, blocks.stops[block], steps[asked])
    found = after > start
    out[asked[found]] = d["value"].to_numpy()[after[found] - 1]
    return out


def listed(frame: pd.DataFrame, severity: pd.Series | np.ndarray, max_runs: int) -> dict[str, Any]:
    """The per-run part of a finding's evidence: `runs`, the records of at most `max_runs` runs of
    `frame` (index run_id), worst first (highest `severity`; NaN last; ties in run order), with
    `n_runs_listed` and `n_runs_not_listed` (how many were left out). Counts elsewhere stay exact and
    `run_ids` keep every run: only the records are capped."""
    key = np.asarray(severity, dtype="float64")
    key = np.where(np.isnan(key), -np.inf, key)  # NaN severity sorts after every real one
    order = np.argsort(-key, kind="stable")[:max_runs]
    return {
        "runs": records(frame.iloc[order]),
        "n_runs_listed": len(order),
        "n_runs_not_listed": len(frame) - len(order),
    }


def max_runs_field() -> Any:
    """The `max_runs` threshold every curve detector shares: per-run records listed in its evidence."""
    return Field(default=200, ge=1, description="per-run records listed in evidence, worst first")


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Per-run evidence records: raw floats, None for a step or value that does not exist. One dict per
    row: call it on the capped table of `listed`, not on every run of a large sweep."""
    rows = frame.reset_index().to_dict("records")
    return [{k: _plain(v) for k, v in row.items()} for row in rows]


def _plain(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    return value


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def finished_or_unknown(sweep: Sweep) -> pd.Index:
    """Run ids (text) that did not crash, fail or get killed (their curves end where training ended)."""
    runs = sweep.runs
    return pd.Index(runs.loc[~runs["state"].isin(FAILED_STATES).to_numpy(), "run_id"].astype(str))
