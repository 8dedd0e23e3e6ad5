"""Unit tests of the checker's pieces that the draft tests exercise only through whole sentences."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reportgen.factcheck.entities import resolve_entities
from reportgen.factcheck.numbers import parse_numbers
from reportgen.factcheck.operators import find_comparison, holds_each
from reportgen.factcheck.trends import LARGE_N, _evidence, _Side
from reportgen.factcheck.verify import check_markdown

FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64)


@given(values=st.lists(FLOATS, max_size=30), op=st.sampled_from(["above", "at least", "below", "at most"]))
def test_holds_each_agrees_with_holds(values: list[float], op: str) -> None:
    text = f"lr {op} 0.01"
    [number] = parse_numbers(text)
    comparison = find_comparison(text, number)
    assert comparison is not None
    got = holds_each(comparison, np.array(values, dtype="float64"))
    assert got.tolist() == [comparison.holds(v) for v in values]


def test_run_mentions_resume_after_each_list(seed_sheet) -> None:  # type: ignore[no-untyped-def]
    _, vocab = seed_sheet
    spans = [s for s in resolve_entities("Trial 6 and trial 2 both ran; trials 3, 4 too.", vocab)]
    runs = [(s.text, s.target) for s in spans if s.kind == "run"]
    assert runs == [("Trial 6", ("6",)), ("trial 2", ("2",)), ("trials 3, 4", ("3", "4"))]


def test_infinite_values_are_claims(seed_sheet) -> None:  # type: ignore[no-untyped-def]
    [v] = [
        v
        for v in check_markdown("Trial 4 had a val_loss/train_loss ratio of inf.", *seed_sheet)
        if v.text == "inf"
    ]
    assert (v.verdict, v.code) == ("supported", "FCT001 supported-value")
    [w] = check_markdown("Trial 3 had a val_loss/train_loss ratio of inf.", *seed_sheet)
    assert w.verdict == "contradicted" and w.expected == pytest.approx(16 / 3)


def test_value_before_a_param_describes_some_run(seed_sheet) -> None:  # type: ignore[no-untyped-def]
    [ok] = check_markdown("Zero weight decay was tried.", *seed_sheet)
    assert ok.verdict == "supported" and ok.claim.runs == ("3", "4")
    [bad] = check_markdown("A 0.5 weight decay was tried.", *seed_sheet)
    assert bad.verdict == "contradicted" and "no run has weight_decay = 0.5" in bad.message


def test_share_counts_the_outcome_among_the_population(seed_sheet) -> None:  # type: ignore[no-untyped-def]
    verdicts = check_markdown("1 of 2 runs with a learning rate above 0.005 crashed.", *seed_sheet)
    assert [(v.text, v.verdict) for v in verdicts] == [("1 of 2", "supported")]  # 0.005 is a condition
    verdicts = check_markdown("50% of runs with zero weight decay crashed.", *seed_sheet)
    [share] = [v for v in verdicts if v.text == "50%"]
    assert share.verdict == "contradicted" and share.expected == 0.0  # runs 3 and 4 both finished


def test_counts_read_numbers_as_written(seed_sheet) -> None:  # type: ignore[no-untyped-def]
    [word] = check_markdown("Two runs had NaN loss.", *seed_sheet)
    assert word.verdict == "supported"
    [issues] = check_markdown("We saw 7 issues.", *seed_sheet)
    assert issues.verdict == "contradicted" and issues.expected == 6 and issues.fix == "6"
    # 3 of 8 runs have an issue (37.5%); "about" allows max(10% of 30, one unit) = 3 points either side
    [hedged] = check_markdown("About 30% of runs had an issue.", *seed_sheet)
    assert hedged.verdict == "contradicted" and hedged.expected == 0.375
    [close] = check_markdown("About 35% of runs had an issue.", *seed_sheet)
    assert close.verdict == "supported"


def test_large_sweeps_use_the_normal_approximation() -> None:
    rng = np.random.default_rng(1)
    n = LARGE_N + 100
    x = rng.normal(size=n)
    y = 0.1 * x + rng.normal(size=n)
    index = pd.Index([str(i) for i in range(n)])
    cause = _Side(pd.Series(x, index=index), 1, False, "x", "x", 0, 1)
    outcome = _Side(pd.Series(y, index=index), 1, False, "y", "y", 0, 1)
    found = _evidence(cause, outcome)
    assert found is not None
    rho = found.rho
    assert found.p == pytest.approx(math.erfc(abs(rho) * math.sqrt((n - 1) / 2)))
    assert 0 < found.p < 1


def test_a_whole_number_rounds_only_large_facts_that_are_not_whole() -> None:
    from reportgen.factcheck.hedges import matches

    [n260] = parse_numbers("260")
    [n0] = parse_numbers("0")
    [n5] = parse_numbers("5")
    assert matches(n260, 260.42) and not matches(n260, 261.2)  # a runtime of 260 s
    assert not matches(n0, 0.0001)  # a weight decay of 0.0001 is not "0"
    assert matches(n5, 5.0) and not matches(n5, 5.3)  # counts stay exact; small values too
