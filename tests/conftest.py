"""Shared paths for the tests: the repo's fixtures and the steering repo's real exports beside it."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
REALDATA = REPO.parent / "shared" / "realdata"


@pytest.fixture
def realdata() -> Path:
    """The real exports of ../shared/realdata (present in CI and in every checkout beside shared/)."""
    if not REALDATA.is_dir():
        pytest.skip("../shared/realdata is not beside this checkout")
    return REALDATA


@cache
def fact_sheet(name: str) -> tuple[Any, Any]:
    """(FactSheet, Vocabulary) of ``fixtures/<name>/runs.csv`` (with its ``history.csv`` when present),
    built once per test session: the checker's tests all read the same few sweeps."""
    from reportgen.detectors.run import run_detectors
    from reportgen.factcheck.entities import build_vocabulary
    from reportgen.facts import build_factsheet
    from reportgen.io.load import LoadOptions, load_sweep

    folder = FIXTURES / name
    history = folder / "history.csv"
    sweep = load_sweep(folder / "runs.csv", LoadOptions(history=history if history.is_file() else None))
    facts = build_factsheet(sweep, run_detectors(sweep))
    return facts, build_vocabulary(sweep, facts)


@pytest.fixture
def seed_sheet() -> tuple[Any, Any]:
    """The seed-000 fixture's FactSheet and Vocabulary."""
    return fact_sheet("seed000")
