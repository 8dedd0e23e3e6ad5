"""Small sweeps for detector tests, loaded through the real loader from CSV text."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.io.load import load_sweep
from reportgen.io.options import LoadOptions
from reportgen.sweep import Sweep


@pytest.fixture
def make_sweep(tmp_path: Path):
    """make_sweep(runs_csv, history_csv=None, **options) -> Sweep."""
    counter = iter(range(1_000_000))

    def make(runs_csv: str, history_csv: str | None = None, **options) -> Sweep:
        n = next(counter)
        runs = tmp_path / f"runs{n}.csv"
        runs.write_text(runs_csv)
        if history_csv is not None:
            hist = tmp_path / f"history{n}.csv"
            hist.write_text(history_csv)
            options["history"] = hist
        return load_sweep(runs, LoadOptions(**options))

    return make
