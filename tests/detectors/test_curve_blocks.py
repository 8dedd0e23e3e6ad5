"""The block arithmetic behind the curve detectors' speed (`curves`, `curve_shapes`, `windows`,
`loss_spike`): each shortcut against the plain per-row computation it replaces, on seeded random curves
with NaN, inf, ties, zero-span curves and chunk boundaries inside curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reportgen.detectors import curves, loss_spike
from reportgen.detectors.curve_shapes import curve_blocks, frac_starts, tail_blocks
from reportgen.detectors.windows import minima
from reportgen.sweep_history import Segments, segments


def first_true(blocks: Segments, mask: np.ndarray) -> np.ndarray:
    """Reference: the first row of each block where `mask` holds, -1 where it holds nowhere."""
    count = np.cumsum(mask)
    before = np.where(blocks.starts > 0, count[np.maximum(blocks.starts - 1, 0)], 0)
    total = count[blocks.lasts] - before
    return np.where(total > 0, np.searchsorted(count, before + 1), -1)


def last_true(blocks: Segments, mask: np.ndarray) -> np.ndarray:
    """Reference: the last row of each block where `mask` holds, -1 where it holds nowhere."""
    count = np.cumsum(mask)
    before = np.where(blocks.starts > 0, count[np.maximum(blocks.starts - 1, 0)], 0)
    total = count[blocks.lasts] - before
    return np.where(total > 0, np.searchsorted(count, before + total), -1)


def _blocks(rng: np.random.Generator, n: int):
    return segments(np.sort(rng.integers(0, int(rng.integers(1, 9)), n)))


@pytest.mark.parametrize("density", [0.0, 0.02, 0.5, 0.97, 1.0])
def test_ends_and_counts_match_running_counts(density: float) -> None:
    rng = np.random.default_rng(int(density * 100))
    for _ in range(300):
        blocks = _blocks(rng, int(rng.integers(1, 80)))
        mask = rng.random(int(blocks.stops[-1])) < density
        first, last = curves._ends(blocks, mask)
        assert (first == first_true(blocks, mask)).all() and (last == last_true(blocks, mask)).all()
        assert (curves._counts(blocks, mask) == np.add.reduceat(mask, blocks.starts, dtype=np.int64)).all()


def test_frac_starts_and_tails_match_the_per_row_columns() -> None:
    """`frac_starts` is the first row whose (step - first) / span reaches the share (0 on a curve of one
    step); `tail_blocks` the rows whose position is at least size - max(1, ceil(share * size))."""
    rng = np.random.default_rng(1)
    for trial in range(300):
        blocks = _blocks(rng, int(rng.integers(1, 80)))
        step = np.concatenate(
            [
                np.full(s, 7.0)
                if trial % 5 == 0
                else np.sort(rng.choice(1000, s, replace=False)).astype(float)
                for s in blocks.sizes
            ]
        )
        first, span = (
            blocks.spread(step[blocks.starts]),
            blocks.spread(step[blocks.lasts] - step[blocks.starts]),
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(span > 0, (step - first) / span, 0.0)
        n = blocks.spread(blocks.sizes)
        pos = np.arange(len(step)) - blocks.spread(blocks.offsets())
        for share in (0.0, 0.1, 0.5, 0.8, 1.0):
            found = first_true(blocks, frac >= share)
            assert (frac_starts(step, blocks, share) == np.where(found >= 0, found, blocks.stops)).all()
        for share in (0.01, 0.1, 0.5):
            tail = np.zeros(len(step), dtype=bool)
            tail[tail_blocks(blocks, share).rows()] = True
            assert (tail == (pos >= n - np.maximum(1, np.ceil(share * n)))).all()


def test_curve_blocks_are_the_runs_of_a_finite_curves_table() -> None:
    d = pd.DataFrame({"run_id": pd.Categorical.from_codes([0, 0, 1, 2, 2, 2], categories=["b", "a", "c"])})
    blocks = curve_blocks(d)
    assert blocks.starts.tolist() == [0, 2, 3] and blocks.stops.tolist() == [2, 3, 6]
    assert len(curve_blocks(pd.DataFrame({"run_id": pd.Categorical([])}))) == 0


def test_minima_reach_the_last_row() -> None:
    rng = np.random.default_rng(2)
    values = rng.normal(size=50)
    start = rng.integers(0, 50, 400)
    stop = np.minimum(start + rng.integers(0, 8, 400), 50)
    expected = [values[a:b].min() if b > a else np.nan for a, b in zip(start, stop, strict=True)]
    np.testing.assert_array_equal(minima(values, start, stop), expected)


def _history(rng: np.random.Generator, runs: int) -> pd.DataFrame:
    sizes = rng.integers(1, 120, runs)
    value = np.concatenate([2 * np.exp(-np.arange(s) / rng.uniform(2, 30)) for s in sizes])
    value += rng.normal(0, 0.05, len(value))
    spikes = rng.random(len(value)) < 0.05
    value[spikes] *= rng.uniform(1, 6, int(spikes.sum()))
    value[rng.random(len(value)) < 0.03] = np.nan
    value[rng.random(len(value)) < 0.01] = np.inf
    value[rng.random(len(value)) < 0.01] = -np.inf
    return pd.DataFrame(
        {
            "run_id": pd.Categorical.from_codes(
                np.repeat(np.arange(runs), sizes), [f"r{i}" for i in range(runs)]
            ),
            "step": np.concatenate([np.arange(s, dtype=float) for s in sizes]),
            "metric": pd.Categorical(["loss"] * len(value)),
            "value": value,
        }
    )


def test_chunked_passes_do_not_depend_on_the_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Curves cut by chunk boundaries give the statistics and spikes of one pass over all rows."""
    history = _history(np.random.default_rng(3), 40)
    d = history[np.isfinite(history["value"].to_numpy())].reset_index(drop=True)
    d["run_id"] = d["run_id"].cat.remove_unused_categories()
    thresholds = loss_spike.Thresholds(min_ratio=1.2, min_height=0.05, window=20)
    whole = curves._compute(history), loss_spike.spike_points(d, thresholds)
    assert len(whole[1])  # the seeded curves do spike
    monkeypatch.setattr(curves, "_CHUNK", 7)
    monkeypatch.setattr(loss_spike, "_CHUNK", 11)
    pd.testing.assert_frame_equal(curves._compute(history), whole[0], check_exact=True)
    pd.testing.assert_frame_equal(loss_spike.spike_points(d, thresholds), whole[1], check_exact=True)


def test_curve_stats_of_narrow_columns_are_the_float64_ones() -> None:
    """A float32 value or int32 step column gives the statistics of its float64 copy."""
    history = _history(np.random.default_rng(4), 30)
    narrow = history.astype({"value": "float32", "step": "int32"})
    wide = narrow.astype({"value": "float64", "step": "float64"})
    pd.testing.assert_frame_equal(curves._compute(narrow), curves._compute(wide), check_exact=True)
