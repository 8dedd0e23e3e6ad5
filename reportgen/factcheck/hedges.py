"""Hedges ("about 0.5", "~5.3x", "nearly 50%") and equality at the stated precision.

``matches`` is the one definition of "the text states this value": the actual value rounds to the stated
digits (``|actual - value| <= precision / 2``), plus float noise (relative ``FLOAT_NOISE`` = 1e-7), so
"5.33" matches 5.3333, "48.65%" matches 0.48653 and "0.01" matches 0.0100000001, while "75%" does not match
32/42 = 0.7619.

A plain integer is exact when the fact is whole (a count: "5 issues" is not 6) and rounded to the unit when
the fact is not whole and at least 100 ("a runtime of 260 s" matches 260.42, not 261.2; "0" never matches
a weight decay of 0.0001).

A hedge widens the tolerance by a documented amount:

- ``approximate`` ("about", "around", "approximately", "approx.", "roughly", "some", "circa", "~", "≈"):
  ``actual`` may be within ``HEDGE_RELATIVE`` (10%) of the stated value or one unit of the stated
  precision, whichever is larger (an exact integer's unit is 1: "about 30" allows 27..33, "about 5" 4..6).
- ``nearly`` ("nearly", "almost"): the same lower reach, but from below only: "nearly 50%" allows 45%..50.5%
  (the upper end is the stated precision), never 52%.

"over"/"under" are operators (see ``operators.py``), not hedges.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from reportgen.factcheck.numbers import NumberSpan

HedgeKind = Literal["approximate", "nearly"]
HEDGE_RELATIVE = 0.10

_HEDGE_KINDS: dict[str, HedgeKind] = {
    "about": "approximate",
    "around": "approximate",
    "approximately": "approximate",
    "approx.": "approximate",
    "approx": "approximate",
    "roughly": "approximate",
    "some": "approximate",
    "circa": "approximate",
    "~": "approximate",
    "\u2248": "approximate",  # ≈
    "\u223c": "approximate",  # tilde operator
    "nearly": "nearly",
    "almost": "nearly",
}
# the hedge must end right before the number (only whitespace between); words need a word start
_HEDGE_BEFORE = re.compile(
    r"(?i)(?:(?<!\w)(?P<word>approximately|approx\.?|about|around|roughly|some|circa|nearly|almost)\s+"
    r"|(?P<symbol>[~\u2248\u223c])\s*)$"
)


@dataclass(frozen=True, slots=True)
class Hedge:
    """A hedge word or symbol at ``start:end``, governing the number right after it."""

    word: str
    start: int
    end: int
    kind: HedgeKind


def find_hedge(text: str, span: NumberSpan) -> Hedge | None:
    """The hedge right before ``span`` ("about 0.5", "~0.5"), or None."""
    m = _HEDGE_BEFORE.search(text, max(0, span.start - 20), span.start)
    if m is None:
        return None
    name = "word" if m["word"] is not None else "symbol"
    word = m[name]
    return Hedge(word=word, start=m.start(name), end=m.end(name), kind=_HEDGE_KINDS[word.lower()])


# Values that passed through float32 (parquet columns, some trackers' summaries) differ from the decimal
# the report states by up to ~6e-8 relative; anything closer than this is the same number.
FLOAT_NOISE = 1e-7
ROUNDED_INTEGER_FLOOR = 100.0


def _noise(a: float, b: float) -> float:
    return FLOAT_NOISE * max(abs(a), abs(b)) + 1e-12


def same_up_to_noise(a: float, b: float) -> bool:
    """Equal up to float noise: 0.0100000001 is 0.01."""
    return a == b or (math.isfinite(a) and math.isfinite(b) and abs(a - b) <= _noise(a, b))


def _unit(value: float, precision: float) -> float:
    if precision > 0:
        return precision
    return 1.0 if value.is_integer() else 0.0


def _within(value: float, precision: float, actual: float, hedge: Hedge | None) -> bool:
    """``actual`` equals ``value`` stated at ``precision``, widened by ``hedge``."""
    if not (math.isfinite(actual) and math.isfinite(value)):
        return actual == value
    noise = _noise(value, actual)
    half = precision / 2
    if hedge is None:
        return abs(actual - value) <= half + noise
    reach = max(HEDGE_RELATIVE * abs(value), _unit(value, precision))
    if hedge.kind == "nearly":
        return value - reach - noise <= actual <= value + half + noise
    return abs(actual - value) <= reach + noise


def _at(end: float, actual: float) -> bool:
    return math.isfinite(end) and same_up_to_noise(end, actual)


def _in_interval(stated: NumberSpan, actual: float) -> bool:
    """Membership honouring the closed sides; a value at an end up to float noise is *at* that end."""
    lo = stated.value
    hi = stated.high if stated.high is not None else math.inf
    left_ok = stated.closed in ("left", "both") if _at(lo, actual) else actual > lo
    right_ok = stated.closed in ("right", "both") if _at(hi, actual) else actual < hi
    return left_ok and right_ok


def _rounds_to_unit(actual: float) -> bool:
    """A fact a plain integer may round: not whole, and at least ``ROUNDED_INTEGER_FLOOR`` (where one unit
    is at most 1% of it; "0" for a weight decay of 0.0001 is still wrong)."""
    return math.isfinite(actual) and not float(actual).is_integer() and abs(actual) >= ROUNDED_INTEGER_FLOOR


def matches(stated: NumberSpan, actual: float, hedge: Hedge | None = None) -> bool:
    """True when ``actual`` is what ``stated`` says, at the stated precision (widened by ``hedge``).

    ``actual`` is a fraction when ``stated`` is a percentage. A range matches anything between its ends (each
    at its own precision); an interval matches what it contains, honouring its closed sides; a ``count_of``
    compares the count (check the total against ``stated.denominator`` separately). NaN never matches.
    """
    if math.isnan(actual):
        return False
    if stated.kind == "interval":
        return _in_interval(stated, actual)
    if stated.kind == "range" and stated.high is not None:
        high_precision = stated.high_precision or 0.0
        below_high = actual <= stated.high or _within(stated.high, high_precision, actual, hedge)
        above_low = actual >= stated.value or _within(stated.value, stated.precision, actual, hedge)
        return below_high and above_low
    precision = stated.precision
    if stated.kind == "integer" and precision == 0 and _rounds_to_unit(actual):
        precision = 1.0  # "a runtime of 260 s" for 260.42: a whole number rounds a large value that is not
    return _within(stated.value, precision, actual, hedge)
