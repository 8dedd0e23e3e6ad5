"""The comparator that governs a stated number ("above 0.01", "at least 3", "0.5 or more", "between 1 and 2").

Decisions, each tested in ``tests/factcheck/test_operators.py``:

- Strict operators are strict: "above 0.01" is False for 0.01 (and for 0.0100000001, which is 0.01 up to
  float noise). The bound is the stated value taken exactly, not a rounded interval: "above 32" is a
  statement about 32.
- "between X and Y" and the ranges "X-Y" / "X to Y" are inclusive ("between 16 and 32" holds for 32);
  "strictly between" is exclusive.
- Equality (the default when no operator is written, or "is", "of", "equal to", "=") is ``matches``: equal
  at the stated precision, widened by a hedge ("about") right before the number.
- "not" before an operator negates it ("not above" is "at most"); "is not X" is ``ne``.
- A postfix "or more"/"or higher"/"and above"/"+" (``ge``) or "or less"/"or fewer"/"and below" (``le``)
  overrides a bare equality word before the number ("a batch size of 32 or more").
- Interval spans (bucket labels such as ``(0.005, 0.01]``) name an entity, not a claim: no comparison.
- "over" is always ``gt`` ("over 15 epochs" is read as more than 15), a known false positive when a report
  uses "over" for "across"; "under" likewise is ``lt``.

``actual`` is always in the stated number's units: a fraction when the text states a percentage.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np

from reportgen.factcheck.hedges import FLOAT_NOISE, Hedge, find_hedge, matches, same_up_to_noise
from reportgen.factcheck.numbers import NumberSpan, render_number

Op = Literal["gt", "ge", "lt", "le", "eq", "ne", "between"]

_WORD_OPS: dict[str, Op] = {
    **dict.fromkeys(
        ["more than", "greater than", "higher than", "larger than", "bigger than", "above", "over",
         "exceeding", "exceeds", "exceeded", "in excess of"],
        "gt",
    ),
    **dict.fromkeys(["at least", "no less than", "no fewer than", "a minimum of", "at or above"], "ge"),
    **dict.fromkeys(
        ["less than", "lower than", "fewer than", "smaller than", "below", "under"], "lt"
    ),
    **dict.fromkeys(["at most", "no more than", "up to", "a maximum of", "at or below"], "le"),
    **dict.fromkeys(["equal to", "equals", "exactly", "is", "was", "are", "were", "of"], "eq"),
    **dict.fromkeys(["is not", "was not", "are not", "were not", "isn't", "wasn't", "not equal to"], "ne"),
}  # fmt: skip
_SYMBOL_OPS: dict[str, Op] = {
    ">": "gt", ">=": "ge", "\u2265": "ge", "<": "lt", "<=": "le", "\u2264": "le",
    "=": "eq", "==": "eq", "!=": "ne", "\u2260": "ne",
}  # fmt: skip
_NEGATED: dict[Op, Op] = {"gt": "le", "ge": "lt", "lt": "ge", "le": "gt", "eq": "ne", "ne": "eq"}


def _alternation(phrases: list[str]) -> str:
    # longest first so "no more than" is not read as "more than"
    return "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in sorted(phrases, key=len, reverse=True))


# Searched in a window that ends where the number (or its hedge) starts: the operator must end there.
# re.search returns the leftmost match, so the longest phrase ending at the number wins.
_PREFIX = re.compile(
    rf"(?i)(?:(?<!\w)(?P<neg>not\s+)?(?P<word>{_alternation(list(_WORD_OPS))})\s+"
    rf"|(?<![<>=!])(?P<symbol>{_alternation(list(_SYMBOL_OPS))})\s*)$"
)
_POSTFIX = re.compile(
    r"(?i)(?P<plus>\+)|\s+(?:or|and)\s+(?:(?P<up>more|greater|higher|larger|above|over|up)"
    r"|(?P<down>less|lower|fewer|smaller|below|under|down))\b"
)
_STRICTLY = re.compile(r"(?i)\bstrictly\s+$")


@dataclass(frozen=True, slots=True)
class Comparison:
    """What a sentence says about a quantity: ``op`` applied to ``stated``.

    ``text[start:end]`` covers the operator, any hedge and the number (and a postfix such as "or more");
    ``suggest_fix`` returns a replacement for exactly that text.
    """

    op: Op
    stated: NumberSpan
    phrase: str  # the operator as written ("above", ">=", "or more"); "" for an implicit equality
    start: int
    end: int
    hedge: Hedge | None = None
    inclusive: bool = True  # "between" only

    def holds(self, actual: float) -> bool:
        """True when ``actual`` satisfies the comparison; NaN never does."""
        if math.isnan(actual):
            return False
        bound = self.stated.value
        same = same_up_to_noise(actual, bound)
        if self.op == "between":
            high = self.stated.high if self.stated.high is not None else bound
            if same_up_to_noise(actual, high) or same:
                return self.inclusive
            return bound < actual < high
        return {
            "gt": actual > bound and not same,
            "ge": actual > bound or same,
            "lt": actual < bound and not same,
            "le": actual < bound or same,
            "eq": matches(self.stated, actual, self.hedge),
            "ne": not matches(self.stated, actual, self.hedge),
        }[self.op]


def holds_each(comparison: Comparison, values: np.ndarray) -> np.ndarray:
    """``comparison.holds`` for every value at once (vectorized for the order operators; NaN never holds)."""
    values = np.asarray(values, dtype="float64")
    bound = comparison.stated.value
    finite = np.isfinite(values) & math.isfinite(bound)
    noise = np.zeros_like(values)
    noise[finite] = FLOAT_NOISE * np.maximum(np.abs(values[finite]), abs(bound)) + 1e-12
    same = (values == bound) | (finite & (np.abs(values - bound) <= noise))
    op = comparison.op
    if op == "gt":
        return (values > bound) & ~same
    if op == "ge":
        return (values > bound) | same
    if op == "lt":
        return (values < bound) & ~same
    if op == "le":
        return (values < bound) | same
    return np.array([comparison.holds(float(v)) for v in values], dtype=bool)


def find_comparison(text: str, span: NumberSpan) -> Comparison | None:
    """The comparator governing ``span`` in ``text``; equality when none is written; None for intervals."""
    if span.kind == "interval":
        return None
    hedge = find_hedge(text, span)
    if span.kind == "range":
        strict = _STRICTLY.search(text, max(0, span.start - 12), span.start) is not None
        phrase = "between" if span.text[:7].lower() == "between" else ""
        return Comparison("between", span, phrase, span.start, span.end, inclusive=not strict)
    op_end = hedge.start if hedge is not None else span.start
    op: Op = "eq"
    phrase = ""
    start = op_end
    prefix = _PREFIX.search(text, max(0, op_end - 40), op_end)
    if prefix is not None:
        if prefix["word"] is not None:
            phrase = " ".join(prefix[0].split())
            op = _WORD_OPS[" ".join(prefix["word"].lower().split())]
            if prefix["neg"] is not None:
                op = _NEGATED[op]
        else:
            phrase = prefix["symbol"]
            op = _SYMBOL_OPS[phrase]
        start = prefix.start()
    elif hedge is not None:
        start = hedge.start
    end = span.end
    postfix = _POSTFIX.match(text, span.end)
    if postfix is not None and op == "eq":
        op = "le" if postfix["down"] else "ge"
        phrase, end = " ".join(postfix[0].split()), postfix.end()
        start = hedge.start if hedge is not None else span.start
    return Comparison(op, span, phrase, start, end, hedge=hedge)


def _render_actual(actual: float, stated: NumberSpan) -> str:
    """``actual`` in the stated units, with enough digits to differ from the stated text when it differs."""
    value = actual * 100 if stated.is_percent else actual
    suffix = "%" if stated.is_percent else ""
    if not math.isfinite(value):
        return render_number(value, 0.0)
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value)}{suffix}"
    text = repr(value)
    for digits in (6, 9, 12, 17):
        text = f"{value:.{digits}g}"
        if float(text) == value or text + suffix != stated.text:
            break
    return text + suffix


def _stated_text(stated: NumberSpan) -> str:
    if stated.kind == "sample_size":
        return render_number(stated.value, 0.0)
    return stated.text


_FAILURE_WORDS: dict[Op, str] = {
    "gt": "is not above",
    "ge": "is not at least",
    "lt": "is not below",
    "le": "is not at most",
    "eq": "is not",
    "ne": "is",
}


def describe_failure(name: str, actual: float, comparison: Comparison) -> str:
    """One line saying why ``comparison`` fails for ``name`` = ``actual``: "lr = 0.01 is not above 0.01".

    Meant for a comparison that does not hold; the text does not re-check it.
    """
    stated = comparison.stated
    shown = f"{name} = {_render_actual(actual, stated)}"
    if comparison.op == "between":
        high = stated.high if stated.high is not None else stated.value
        low_text = render_number(stated.value, stated.precision, percent=stated.is_percent)
        high_text = render_number(high, stated.high_precision or 0.0, percent=stated.is_percent)
        strictly = "" if comparison.inclusive else "strictly "
        return f"{shown} is not {strictly}between {low_text} and {high_text}"
    hedge = f"{comparison.hedge.word} " if comparison.hedge is not None else ""
    return f"{shown} {_FAILURE_WORDS[comparison.op]} {hedge}{_stated_text(stated)}"


def suggest_fix(actual: float, comparison: Comparison) -> str | None:
    """Replacement for ``text[comparison.start:comparison.end]`` that is true for ``actual``, or None.

    "above 0.01" with 0.01 becomes "at or above 0.01"; "above 0.01" with 0.005 becomes "below 0.01"; a wrong
    "5.33" becomes the actual value at the stated precision ("5.41"), keeping an explicit equality word.
    No fix for a comparison that holds, for NaN, for "between" or for "is not".
    """
    if math.isnan(actual) or comparison.holds(actual):
        return None
    stated = comparison.stated
    bound = _stated_text(stated)
    same = same_up_to_noise(actual, stated.value)
    op = comparison.op
    if op in ("gt", "ge", "lt", "le"):
        if same:
            return f"at or above {bound}" if op == "gt" else f"at or below {bound}"
        return f"above {bound}" if actual > stated.value else f"below {bound}"
    if op == "eq":
        precision = stated.precision
        if precision == 0 and not (actual * 100 if stated.is_percent else actual).is_integer():
            precision = _three_significant(actual)
        rendered = render_number(actual, precision, percent=stated.is_percent)
        word = comparison.phrase if comparison.phrase and comparison.phrase != "exactly" else ""
        return f"{word} {rendered}" if word else rendered
    return None


def _three_significant(value: float) -> float:
    """A precision showing three significant digits of ``value``, for exact claims of non-integers."""
    if value == 0 or not math.isfinite(value):
        return 0.0
    return 10.0 ** (math.floor(math.log10(abs(value))) - 2)
