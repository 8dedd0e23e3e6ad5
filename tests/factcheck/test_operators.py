"""Operators: which comparator governs a number, whether it holds, and the failure message and fix."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reportgen.factcheck.numbers import parse_numbers
from reportgen.factcheck.operators import Comparison, describe_failure, find_comparison, suggest_fix


def comparison(text: str, index: int = -1) -> Comparison:
    span = parse_numbers(text)[index]
    found = find_comparison(text, span)
    assert found is not None
    return found


OPERATORS = [
    ("lr above 0.01", "gt", "above"),
    ("lr over 0.01", "gt", "over"),
    ("lr more than 0.01", "gt", "more than"),
    ("lr greater than 0.01", "gt", "greater than"),
    ("lr higher than 0.01", "gt", "higher than"),
    ("lr exceeding 0.01", "gt", "exceeding"),
    ("lr > 0.01", "gt", ">"),
    ("lr at least 0.01", "ge", "at least"),
    ("lr no less than 0.01", "ge", "no less than"),
    ("lr >= 0.01", "ge", ">="),
    ("lr \u2265 0.01", "ge", "\u2265"),
    ("lr below 0.01", "lt", "below"),
    ("lr under 0.01", "lt", "under"),
    ("lr less than 0.01", "lt", "less than"),
    ("lr lower than 0.01", "lt", "lower than"),
    ("fewer than 3 runs", "lt", "fewer than"),
    ("lr < 0.01", "lt", "<"),
    ("lr at most 0.01", "le", "at most"),
    ("lr no more than 0.01", "le", "no more than"),
    ("lr up to 0.01", "le", "up to"),
    ("lr <= 0.01", "le", "<="),
    ("lr \u2264 0.01", "le", "\u2264"),
    ("lr equal to 0.01", "eq", "equal to"),
    ("a learning rate of 0.01", "eq", "of"),
    ("lr is 0.01", "eq", "is"),
    ("lr = 0.01", "eq", "="),
    ("lr 0.01", "eq", ""),
    ("lr is not 0.01", "ne", "is not"),
    ("lr not above 0.01", "le", "not above"),
    ("lr not less than 0.01", "ge", "not less than"),
    ("a batch size of 32 or more", "ge", "or more"),
    ("32 or higher", "ge", "or higher"),
    ("32 and above", "ge", "and above"),
    ("10+ runs", "ge", "+"),
    ("3 or fewer runs", "le", "or fewer"),
    ("0.01 or less", "le", "or less"),
    ("lr between 0.01 and 0.02", "between", "between"),
    ("lr 0.01-0.02", "between", ""),
    ("at least about 0.5", "ge", "at least"),
    ("lr at or above 0.01", "ge", "at or above"),
    ("lr at or below 0.01", "le", "at or below"),
]


@pytest.mark.parametrize(("text", "op", "phrase"), OPERATORS)
def test_find_comparison(text: str, op: str, phrase: str) -> None:
    found = comparison(text)
    assert (found.op, found.phrase) == (op, phrase)
    covered = text[found.start : found.end]
    assert found.stated.text in covered
    if phrase and phrase != "+":
        assert phrase.split()[0] in covered


@pytest.mark.parametrize("text", ["moreover 0.5", "handover 3", "isn't it 3"])
def test_words_containing_operators_are_not_operators(text: str) -> None:
    assert comparison(text).op in ("eq", "ne")
    assert comparison("moreover 0.5").op == "eq"


def test_intervals_name_buckets_and_have_no_comparison() -> None:
    text = "bucket `(0.005, 0.01]` has a rate of 1.0"
    assert find_comparison(text, parse_numbers(text)[0]) is None


def test_hedge_is_attached_to_equality() -> None:
    found = comparison("lr is about 0.5")
    assert found.hedge is not None and found.hedge.word == "about"
    assert found.holds(0.54)
    assert "lr is about 0.5"[found.start : found.end] == "is about 0.5"


BOUNDARIES = [
    ("above 0.01", 0.01, False),
    ("above 0.01", 0.0100000001, False),  # float noise is not "above"
    ("above 0.01", 0.0101, True),
    ("over 32", 32.0, False),
    ("at least 0.01", 0.01, True),
    ("at least 0.01", 0.0099999999999, True),
    ("at least 0.01", 0.009, False),
    ("below 0.01", 0.01, False),
    ("below 0.01", 0.009, True),
    ("at most 0.01", 0.01, True),
    ("up to 0.01", 0.011, False),
    ("no more than 2", 2.0, True),
    ("fewer than 3", 3.0, False),
    ("above 50%", 0.5, False),
    ("above 50%", 0.51, True),
    ("between 16 and 32", 32.0, True),  # inclusive
    ("between 16 and 32", 16.0, True),
    ("between 16 and 32", 33.0, False),
    ("strictly between 16 and 32", 32.0, False),
    ("strictly between 16 and 32", 20.0, True),
    ("0.01-0.02", 0.015, True),
    ("0.01 to 0.02", 0.021, False),  # a range's ends are exact bounds for "between"
    ("is 5.33", 5.3333, True),
    ("is 5.33", 5.34, False),
    ("is not 5.33", 5.34, True),
    ("32 or more", 32.0, True),
    ("32 or more", 31.0, False),
    ("10+", 10.0, True),
    ("above 0.01", math.nan, False),
    ("below 0.01", math.nan, False),
    ("above 0.01", math.inf, True),
]


@pytest.mark.parametrize(("text", "actual", "expected"), BOUNDARIES)
def test_holds_on_boundaries(text: str, actual: float, expected: bool) -> None:
    assert comparison(text).holds(actual) is expected


FAILURES = [
    ("lr above 0.01", "lr", 0.01, "lr = 0.01 is not above 0.01", "at or above 0.01"),
    ("lr above 0.01", "lr", 0.005, "lr = 0.005 is not above 0.01", "below 0.01"),
    ("lr above 0.01", "lr", 0.0100000001, "lr = 0.0100000001 is not above 0.01", "at or above 0.01"),
    ("lr below 0.01", "lr", 0.01, "lr = 0.01 is not below 0.01", "at or below 0.01"),
    ("lr at least 0.01", "lr", 0.005, "lr = 0.005 is not at least 0.01", "below 0.01"),
    ("lr at most 0.01", "lr", 0.02, "lr = 0.02 is not at most 0.01", "above 0.01"),
    ("rate above 50%", "rate", 0.25, "rate = 25% is not above 50%", "below 50%"),
    ("ratio of 5.33", "ratio", 5.4123, "ratio = 5.4123 is not 5.33", "of 5.41"),
    ("rate 75%", "rate", 32 / 42, "rate = 76.1905% is not 75%", "76%"),
    ("two runs crashed", "crashed", 3.0, "crashed = 3 is not two", "3"),
    ("about 0.5", "x", 0.7, "x = 0.7 is not about 0.5", "0.7"),
    ("between 16 and 32", "bs", 64.0, "bs = 64 is not between 16 and 32", None),
    ("lr is not 0.01", "lr", 0.01, "lr = 0.01 is 0.01", None),
]


@pytest.mark.parametrize(("text", "name", "actual", "message", "fix"), FAILURES)
def test_describe_failure_and_suggest_fix(
    text: str, name: str, actual: float, message: str, fix: str | None
) -> None:
    found = comparison(text)
    assert not found.holds(actual)
    assert describe_failure(name, actual, found) == message
    assert suggest_fix(actual, found) == fix


@pytest.mark.parametrize(
    ("text", "actual"), [("lr above 0.01", 0.01), ("lr below 32", 40.0), ("ratio of 5.33", 5.5)]
)
def test_a_suggested_fix_holds_when_substituted(text: str, actual: float) -> None:
    found = comparison(text)
    fix = suggest_fix(actual, found)
    assert fix is not None
    fixed = text[: found.start] + fix + text[found.end :]
    refound = comparison(fixed)
    assert refound.holds(actual)


def test_no_fix_when_the_comparison_holds() -> None:
    assert suggest_fix(0.02, comparison("lr above 0.01")) is None


def test_seed_000_above_0_01_family() -> None:
    text = "Avoid setting learning rates above 0.01 to prevent NaN loss."
    found = comparison(text)
    assert found.op == "gt"
    assert not found.holds(0.01)  # trial_id 2 had lr = 0.01
    assert found.holds(0.02)  # trial_id 4
    assert describe_failure("lr", 0.01, found) == "lr = 0.01 is not above 0.01"


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=120))
def test_find_comparison_never_raises(text: str) -> None:
    for span in parse_numbers(text):
        found = find_comparison(text, span)
        if found is not None:
            assert 0 <= found.start <= span.start and found.end >= span.end
            found.holds(0.5)
