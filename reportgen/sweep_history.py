"""Segments of a sorted long table: the blocks of consecutive rows that share a key, found once.

The Sweep's history is sorted by run (runs-table order), metric and step (`io.run_history.keyed_history`
keeps that invariant), so every curve, one (run, metric) series, is one contiguous block of rows, and so
is every run's part of one metric's rows. Finding the blocks takes one pass over integer codes; per-block
firsts, lasts, counts, minima and maxima are then slices and `ufunc.reduceat` calls, instead of groupbys
that hash millions of keys again (the cost that dominated loading and detection on large sweeps).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# rows per chunk of a pass over a whole history (small enough for the allocator to reuse its buffers)
_CHUNK = 1 << 16

# the columns of the per-curve statistics (`detectors.curves.curve_stats`, and the exact ones an
# out-of-core reduction computes), in order
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


@dataclass(frozen=True)
class Segments:
    """Blocks of consecutive rows: `starts[i]` is the first row of block i, `stops[i]` one past its last.
    Blocks are disjoint and not empty; those of `segments` are in row order and cover every row, a
    selection of them (`pick`) covers part. `ids` and `spread` are over the rows of the
    blocks, one block after the other (every row in order, for covering blocks)."""

    starts: np.ndarray
    stops: np.ndarray

    @property
    def sizes(self) -> np.ndarray:
        return np.asarray(self.stops - self.starts)

    @property
    def lasts(self) -> np.ndarray:
        """The last row of each block."""
        return np.asarray(self.stops - 1)

    def __len__(self) -> int:
        return len(self.starts)

    def pick(self, which: np.ndarray) -> Segments:
        """The blocks selected by a mask or an index array, in that order."""
        return Segments(self.starts[which], self.stops[which])

    def rows(self) -> np.ndarray:
        """The rows of the blocks, one after the other (int32 when they fit: an index as long as a
        history is its largest temporary)."""
        total = int(self.sizes.sum())
        kind = (
            np.int32
            if total < np.iinfo(np.int32).max and len(self) and self.stops.max() < 2**31
            else np.int64
        )
        out = np.repeat((self.starts - self.offsets()).astype(kind), self.sizes)
        out += np.arange(total, dtype=kind)
        return out

    def offsets(self) -> np.ndarray:
        """Where each block begins among `rows()`."""
        return np.asarray(np.cumsum(self.sizes) - self.sizes)

    def ids(self) -> np.ndarray:
        """The block number of every row (int64)."""
        return np.repeat(np.arange(len(self.starts), dtype=np.int64), self.sizes)

    def spread(self, per_block: np.ndarray) -> np.ndarray:
        """A per-block array repeated over the rows of each block."""
        return np.repeat(per_block, self.sizes)


def segments(*codes: np.ndarray) -> Segments:
    """The blocks of consecutive rows over which every one of the equally long `codes` arrays is constant
    (no block at all for zero rows). The rows are compared in chunks: no mask as long as the rows."""
    n = len(codes[0])
    if n == 0:
        empty = np.array([], dtype=np.int64)
        return Segments(empty, empty)
    found = [np.zeros(1, dtype=np.int64)]
    for at in range(0, n - 1, _CHUNK):
        stop = min(at + _CHUNK, n - 1)
        change = codes[0][at + 1 : stop + 1] != codes[0][at:stop]
        for code in codes[1:]:
            change |= code[at + 1 : stop + 1] != code[at:stop]
        found.append(np.flatnonzero(change) + (at + 1))
    starts = np.concatenate(found)
    return Segments(starts, np.append(starts[1:], n))


def category_codes(series: pd.Series) -> np.ndarray:
    """A categorical column's integer codes (-1 for missing): the categorical's own array, read-only, not
    a copy (`series.cat.codes` copies them, a new array on every call)."""
    return np.asarray(series.array.codes)


def curve_segments(history: pd.DataFrame) -> Segments:
    """The (run, metric) curves of a Sweep's sorted history, one block each."""
    return segments(category_codes(history["run_id"]), category_codes(history["metric"]))


def extremes(blocks: Segments, values: np.ndarray, ufunc: np.ufunc) -> tuple[np.ndarray, np.ndarray]:
    """Each block's minimum (`np.fmin`) or maximum (`np.fmax`) ignoring NaN (NaN for a block without a
    value), and the first row holding it (-1 for none)."""
    found = ufunc.reduceat(values, blocks.starts)
    return found, first_true(blocks, values == blocks.spread(found))


def first_true(blocks: Segments, mask: np.ndarray) -> np.ndarray:
    """The first row of each block where `mask` holds, -1 where it holds nowhere in the block: one running
    count and one binary search per block, not a groupby."""
    count, before, total = _running_count(blocks, mask)
    return np.where(total > 0, np.searchsorted(count, before + 1), -1)


def _running_count(blocks: Segments, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(running count of `mask` over all rows, count before each block, count inside each block), in
    int32 when the rows allow (half the memory of int64, and no cast inside `searchsorted`)."""
    kind = np.int32 if len(mask) < np.iinfo(np.int32).max else np.int64
    count = np.cumsum(mask, dtype=kind)
    before = np.where(blocks.starts > 0, count[np.maximum(blocks.starts - 1, 0)], 0).astype(kind)
    return count, before, (count[blocks.lasts] - before).astype(kind)


def search_sorted_ranges(
    values: np.ndarray, start: np.ndarray, stop: np.ndarray, targets: np.ndarray
) -> np.ndarray:
    """For each i, the first row in [start[i], stop[i]) whose value is greater than targets[i] (stop[i]
    when none is), `values` being ascending within every range: a bisection run on all ranges at once,
    as many rounds as the longest range has bits, never a loop per range or per row."""
    lo, hi = np.asarray(start, dtype=np.int64).copy(), np.asarray(stop, dtype=np.int64).copy()
    last = len(values) - 1
    while bool(np.any(lo < hi)):
        open_ = lo < hi
        mid = (lo + hi) // 2
        right = open_ & (values[np.clip(mid, 0, last)] <= targets)
        lo = np.where(right, mid + 1, lo)
        hi = np.where(open_ & ~right, mid, hi)
    return lo
