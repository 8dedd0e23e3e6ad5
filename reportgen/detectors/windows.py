"""Rolling windows inside curves, evaluated only at the rows a detector needs.

A window is a range of rows around a row, clipped to that row's curve (a block of a curves table; see
`sweep_history.Segments`), so it never reaches into a neighbouring curve. `clipped` gives each row's
window as [start, stop); `medians` and `minima` reduce those ranges. The values equal pandas'
`rolling(...).median()` and `.min()` over each curve on its own (the median of an even count is the
mean of its two middle values, `(a + b) / 2`, as pandas computes it), but they cost work only at the
rows asked for: a rolling median at every row of a large sweep was most of detection's time, while the
detectors need exact medians only where a cheaper bound leaves the verdict open.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from reportgen.sweep_history import Segments

_CHUNK = 1 << 16  # windows sorted per numpy call: bounds the copy of the windows (chunk x window length)


def clipped(
    blocks: Segments, rows: np.ndarray, first: int, last: int, block: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's window, rows `first` to `last` relative to it (inclusive; negative is before), clipped
    to the row's block, as [start, stop) (stop == start when nothing of the window is in the block).
    `block`, each row's block number, is found by a binary search when the caller does not know it.

    pandas' windows in these terms: `w` points before the row (excluded) is (-w, -1), `w` points after
    it is (1, w), a centred window of `w` points is (-(w // 2), (w - 1) // 2)."""
    if block is None:
        block = np.searchsorted(blocks.starts, rows, side="right") - 1
    start = np.maximum(rows + first, blocks.starts[block])
    stop = np.minimum(rows + last + 1, blocks.stops[block])
    return start, np.maximum(stop, start)


def medians(values: np.ndarray, start: np.ndarray, stop: np.ndarray, min_periods: int = 1) -> np.ndarray:
    """The median of `values[start[i]:stop[i]]` for every i; NaN where the range holds fewer than
    `min_periods` values (or none). `values` must be free of NaN (the curves tables are finite).

    Windows of one length are sorted together (a loop over the distinct lengths, at most the window
    size, and over chunks of rows, never over single rows)."""
    out = np.full(len(start), np.nan)
    size = stop - start
    for k in np.unique(size[size >= max(min_periods, 1)]):
        k = int(k)
        picked = np.flatnonzero(size == k)
        windows = sliding_window_view(values, k)
        for at in range(0, len(picked), _CHUNK):
            rows = picked[at : at + _CHUNK]
            ordered = np.sort(windows[start[rows]], axis=1)
            out[rows] = ordered[:, k // 2] if k % 2 else (ordered[:, k // 2 - 1] + ordered[:, k // 2]) / 2
    return out


def minima(values: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """The minimum of `values[start[i]:stop[i]]` for every i; NaN for an empty range. One `reduceat`
    over the ranges' bounds and no copy of `values`: `reduceat` takes no bound equal to the length, so a
    range that reaches the end is reduced up to the last row and then met with it (exact for a minimum)."""
    out = np.full(len(start), np.nan)
    full = np.flatnonzero(stop > start)
    if len(full) == 0:
        return out
    end = len(values) - 1
    bounds = np.empty(2 * len(full), dtype=np.int64)
    bounds[0::2], bounds[1::2] = start[full], np.minimum(stop[full], end)
    found = np.minimum.reduceat(values, bounds)[0::2]
    at_end = stop[full] > end
    found[at_end] = np.minimum(found[at_end], values[end])
    out[full] = found
    return out
