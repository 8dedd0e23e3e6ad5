"""Column typing and canonical states."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reportgen.io.values import coerce_column
from reportgen.states import canonical_states


def test_mostly_numeric_column_reports_the_odd_cell() -> None:
    warnings: list[str] = []
    col = pd.Series(["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "oops"], name="epochs")
    out = coerce_column(col, "runs.csv", warnings)
    assert out.dtype == "float64"
    assert np.isnan(out.iloc[10]) and out.iloc[0] == 1.0
    assert warnings == [
        "runs.csv: column 'epochs' is numeric but 1 cell(s) are not (first: 'oops' in row "
        "12); read as missing"
    ]


def test_mixed_column_below_the_numeric_share_stays_text() -> None:
    warnings: list[str] = []
    out = coerce_column(pd.Series([1, "adam", 2, "sgd"], name="opt"), "r.json", warnings)
    assert out.tolist() == ["1", "adam", "2", "sgd"]
    assert "mixes numbers and text" in warnings[0]


def test_thousands_separators_and_booleans() -> None:
    warnings: list[str] = []
    assert coerce_column(pd.Series(["1,000", "25", "3,500,000"], name="n"), "r", warnings).tolist() == [
        1000,
        25,
        3500000,
    ]
    flags = coerce_column(pd.Series(["TRUE", "false", None], name="bias"), "r", warnings)
    assert str(flags.dtype) == "boolean" and flags.iloc[0] and not flags.iloc[1] and pd.isna(flags.iloc[2])


def test_states_from_every_tracker_any_case() -> None:
    raw = pd.Series(
        [
            "finished",
            "CRASHED",
            "COMPLETE",
            "PRUNED",
            "FAIL",
            "WAITING",
            "TERMINATED",
            "ERROR",
            "KILLED",
            "Running",
            "TrialState.COMPLETE",
            "preempting",
            None,
        ]
    )
    states, warnings = canonical_states(raw)
    assert states.tolist() == [
        "finished",
        "crashed",
        "finished",
        "pruned",
        "failed",
        "queued",
        "finished",
        "failed",
        "killed",
        "running",
        "finished",
        "unknown",
        "unknown",
    ]
    assert warnings == ["state 'preempting' (1 run(s)) is not a known state; kept as 'unknown'"]
