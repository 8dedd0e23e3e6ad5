"""Numbers as a report states them: value, stated precision, kind and exact offsets.

``parse_numbers`` finds every number a sentence states and keeps how precisely it was stated, because the
checker compares at that precision: "5.33" claims 5.325 <= x <= 5.335, "48.65%" claims 0.48645 <= x <=
0.48655, "1e-3" claims one significant digit. Precision is the unit of the last stated digit, in the same
units as ``value`` (a fraction for percentages), and 0.0 means exact.

Decisions, each tested in ``tests/factcheck/test_numbers.py``:

- Plain integers are exact (counts: "5 issues"); integer percentages and multipliers are rounded to one
  unit ("75%" claims 74.5%..75.5%, "3x" claims 2.5..3.5), because nobody writes those as exact values.
- Percentages are stored as fractions (``value`` 0.4865, ``is_percent`` True): percent and fraction are one
  quantity.
- Not claims: numbers glued to identifiers (``rux19b6a``, ``gpt2_char_to_token1729534595``, ``GPT-2``,
  ``llama-7b``, ``like_this_1``), version strings (``v1.2.3``, ``1.2.3``), dates and times (``2024-05-25``,
  ``12:30:45``), list markers ("1. " at a line start), heading numbering ("## 2.1 Setup"), and years (an
  integer 1900..2100 right after a month name, or after "in"/"since"/"during"/"until"/"year" when no word
  follows it: "in 2024." is a year, "in 2000 steps" is a claim).
- Ranges ("0.01-0.02", "0.01 to 0.02", "between 0.01 and 0.02") keep both ends; "from X to Y" is a change,
  not a range, so it gives two numbers (but "ranging from X to Y" is a range).
- Intervals as pandas writes them (``(0.005, 0.01]``, ``[1, 2)``) keep both ends and which are closed. A
  plain ``(a, b)`` is only an interval when an end has a decimal point, an exponent or ``inf``, or it sits in
  backticks; "(2, 4)" in prose is two numbers (often a list of trial ids).
- "32 of 42", "32 out of (the) 42" and "32/42" are ``count_of`` spans: ``value`` is the count (32),
  ``denominator`` the total (42).
- "inf", "-inf", "Infinity" and "\u221e" are infinite values (exact), as logs and pandas print them.
- Number words: zero..nineteen, the tens, compounds ("twenty-five"), "hundred"/"a hundred", "half",
  "twice"/"thrice" (multipliers), and "a third"/"a quarter"/"two thirds"/"three quarters" only before
  "of" or punctuation ("a third run" is an ordinal). "one" after a determiner ("the one", "each one") is a
  pronoun, not a number.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

NumberKind = Literal[
    "integer",  # 32, 1,234, -3
    "decimal",  # 5.33, 0.0010
    "scientific",  # 1e-3, 5E-4, 1.5e+2
    "percent",  # 48.65%, 48.65 %, 48.65 percent (value is the fraction)
    "word",  # two, twenty-five, half, a third
    "ratio",  # 5.33x, 5.33\u00d7, 3-fold, 3:1, twice
    "sample_size",  # n=1, n = 12
    "range",  # 0.01-0.02, 0.01 to 0.02, between 0.01 and 0.02 (value/high are the ends)
    "interval",  # (0.005, 0.01], [1, 2) (value/high are left/right, closed says which ends are in)
    "count_of",  # 32 of 42, 32/42 (value is the count, denominator the total)
]
Closed = Literal["left", "right", "both", "neither"]
SCALAR_KINDS: frozenset[str] = frozenset(
    {"integer", "decimal", "scientific", "percent", "word", "ratio", "sample_size", "count_of"}
)


@dataclass(frozen=True, slots=True)
class NumberSpan:
    """One number as stated in a text, at ``text[start:end]``."""

    start: int
    end: int
    text: str
    kind: NumberKind
    value: float  # the number; the low/left end of a range or interval; the count of a count_of
    precision: float  # unit of the last stated digit of ``value`` (0.0 = exact)
    is_percent: bool = False
    high: float | None = None  # high/right end of a range or interval
    high_precision: float | None = None
    closed: Closed | None = None  # intervals only
    numerator: int | None = None  # count_of and a:b ratios
    denominator: int | None = None

    @property
    def half_width(self) -> float:
        """How far from ``value`` a quantity may be and still round to the stated digits."""
        return self.precision / 2


# -- building blocks of the one scanning pattern ---------------------------------------------------------

# A number must not be glued to an identifier, path, version or another number on its left: this is what
# keeps rux19b6a, GPT-2, llama-7b, v1.2, a/1 and #3 out (the "-" of "GPT-2" is not a sign).
_GUARD = r"(?<![\w.#@/\\\-\u2212+])"
# ... nor on its right: "7b", "1.2.3", "2e" (but "0.01." ending a sentence is fine).
_END = r"(?!\.?\w)"
_SIGN = r"(?:[-+\u2212](?=\d))?"
# a cheap first test, so the scan moves past letters without trying every lookbehind
_DIGIT_FIRST = r"(?=[-+\u2212]?\d)"
# thousands separators only in groups of exactly three ("1,234"; "1,2" is a list of two numbers)
_UNSIGNED = r"(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?"
_NUM = _SIGN + _UNSIGNED
_PCT = r"(?:[ \t]?%|\s+(?i:percent|per\s+cent)\b)"

_SMALL_NUMBERS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)  # fmt: skip
_WORD_VALUES: dict[str, float] = {w: float(i) for i, w in enumerate(_SMALL_NUMBERS)}
_TENS = {
    w: 10.0 * (i + 2)
    for i, w in enumerate(["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"])
}
_WORD_VALUES |= _TENS
_WORD_VALUES |= {"hundred": 100.0, "a hundred": 100.0, "one hundred": 100.0, "half": 0.5, "a half": 0.5}
_MULTIPLIERS = {"twice": 2.0, "thrice": 3.0}
_FRACTION_WORDS = {
    "a third": 1 / 3,
    "one third": 1 / 3,
    "two thirds": 2 / 3,
    "a quarter": 0.25,
    "one quarter": 0.25,
    "three quarters": 0.75,
}
_DETERMINERS = frozenset(["the", "this", "that", "each", "any", "no", "which", "every", "another"])
_UNITS_RE = "one|two|three|four|five|six|seven|eight|nine"


def _words_alternation(words: list[str]) -> str:
    # longest first, so "a hundred" wins over "hundred"; spaces match any run of whitespace
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))


_PATTERN = re.compile(
    "|".join(
        [
            # list markers and heading numbering at a line start are structure, not claims
            r"(?P<marker>^[ \t]*\d+[.)][ \t]|^[ \t]*\#{1,6}[ \t]+(?:\d+(?:\.\d+)+\.?|\d+\.)(?=[ \t]))",
            # dates and clock times, with any timestamp tail (2024-05-25T10:00:00Z)
            rf"(?P<date>(?=\d){_GUARD}(?:\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}"
            rf"|\d{{1,2}}:\d{{2}}:\d{{2}})[\w:.+\-]*)",
            # pandas intervals: (0.005, 0.01], [1, 2), (-inf, 0.5]
            rf"(?P<interval>(?P<iv_open>[(\[])[ \t]*(?P<iv_lo>[-+\u2212]?(?:{_UNSIGNED}|inf))[ \t]*,"
            rf"[ \t]*(?P<iv_hi>[-+\u2212]?(?:{_UNSIGNED}|inf))[ \t]*(?P<iv_close>[)\]]))",
            rf"(?P<between>(?=[Bb])\b(?i:between)\s+{_GUARD}(?P<bt_lo>{_NUM})(?P<bt_lo_pct>{_PCT})?\s+(?i:and)\s+"
            rf"(?P<bt_hi>{_NUM})(?:(?P<bt_hi_pct>{_PCT})|{_END}))",
            # "0.01-0.02", "10 to 20%"; "from X to Y" is a change unless it is "ranging from X to Y"
            rf"(?P<range>(?:(?=[Rr])\b(?i:ranging|ranges|ranged|range)\s+(?i:from)\s+|{_DIGIT_FIRST}(?<![Ff]rom\s))"
            rf"{_GUARD}"
            rf"(?P<rg_lo>{_NUM})(?P<rg_lo_pct>{_PCT})?(?:[ \t]*[-\u2013\u2014][ \t]*|\s+(?i:to)\s+)"
            rf"(?P<rg_hi>{_NUM})(?:(?P<rg_hi_pct>{_PCT})|{_END}))",
            rf"(?P<count>(?=\d){_GUARD}(?P<co_num>\d+)(?:\s+(?i:out\s+of|of)(?:\s+(?i:the))?\s+|/)(?P<co_den>\d+){_END})",
            rf"(?P<colon>(?=\d){_GUARD}(?P<cr_a>\d+(?:\.\d+)?):(?P<cr_b>\d+(?:\.\d+)?){_END})",
            rf"(?P<sample>(?<!\w)[nN][ \t]*=[ \t]*(?P<n_val>\d+){_END})",
            rf"(?P<scalar>{_DIGIT_FIRST}{_GUARD}(?P<sc_num>{_NUM})"
            rf"(?:(?P<sc_pct>{_PCT})|(?P<sc_times>x(?!\w)|[ \t]?\u00d7|-fold\b)|{_END}))",
            # infinity as logs and pandas print it ("a ratio of inf", "-inf"); not inside a word ("info")
            r"(?P<infinite>(?<![\w.\-+\u2212])(?P<inf_sign>[-+\u2212])?(?<![\w.])(?i:infinity|inf)(?!\w)|\u221e)",
            # number words: not the tail of a compound ("non-zero")
            rf"(?P<fraction>\b(?<!\w-)(?i:(?:{_words_alternation(list(_FRACTION_WORDS))})\b)"
            r"(?=\s+of\b|\s*[.,;:!?)]|\s*$))",
            rf"(?P<word>\b(?<!\w-)(?i:(?:(?:{'|'.join(_TENS)})[-\s](?:{_UNITS_RE})"
            rf"|{_words_alternation([*_WORD_VALUES, *_MULTIPLIERS])})\b))",
        ]
    ),
    re.MULTILINE,
)

_YEAR_CONTEXT = re.compile(
    r"(?i)(?:\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?,?\s+$)"
    r"|(?P<weak>\b(?:in|since|during|until|year)\s+$)"
)
_WORD_AFTER = re.compile(r"\s+[A-Za-z]")
_PREVIOUS_WORD = re.compile(r"(\w+)\s+$")


# -- turning matched text into values --------------------------------------------------------------------


def _clean(num: str) -> str:
    return num.replace(",", "").replace("\u2212", "-")


def _precision(num: str, *, percent: bool = False) -> float:
    """Unit of the last stated digit: 5.33 -> 0.01, 1e-3 -> 1e-3, 1.5e+2 -> 10, 32 -> 0 (exact)."""
    mantissa, _, exponent = num.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    shift = int(exponent) if exponent else 0
    if percent:  # integer percentages are rounded too: "75%" is 74.5%..75.5%
        return _power_of_ten(shift - decimals - 2)
    if not exponent and not decimals:
        return 0.0
    return _power_of_ten(shift - decimals)


def _power_of_ten(exponent: int) -> float:
    """10 ** exponent as a float, inf or 0.0 beyond float range ("0e310" is a number, not an overflow)."""
    return float(Decimal(1).scaleb(exponent))


def _value(num: str, *, percent: bool = False) -> float:
    clean = _clean(num)
    if not percent:
        return float(clean)
    if "e" in clean.lower():
        return float(Decimal(clean).scaleb(-2))
    return float(clean + "e-2")  # one correctly rounded conversion: 48.65% -> 0.4865, not 0.48650000000000004


def _scalar_kind(num: str) -> NumberKind:
    if "e" in num.lower():
        return "scientific"
    return "decimal" if "." in num else "integer"


def _is_year(text: str, start: int, end: int, value: float) -> bool:
    if not 1900 <= value <= 2100:
        return False
    context = _YEAR_CONTEXT.search(text, max(0, start - 16), start)
    if context is None:
        return False
    return context.group("weak") is None or _WORD_AFTER.match(text, end) is None


Handler = Callable[[str, "re.Match[str]", list[NumberSpan]], None]


def _on_marker(text: str, m: re.Match[str], out: list[NumberSpan]) -> None:
    """Structure (list markers, heading numbers, dates) is skipped on purpose."""


def _on_interval(text: str, m: re.Match[str], out: list[NumberSpan]) -> None:
    lo_text, hi_text = m["iv_lo"], m["iv_hi"]
    lo, hi = float(_clean(lo_text)), float(_clean(hi_text))
    plain_parens = m["iv_open"] == "(" and m["iv_close"] == ")"
    in_code = m.start() > 0 and text[m.start() - 1] == "`" and text[m.end() : m.end() + 1] == "`"
    looks_numeric = any(c in lo_text + hi_text for c in ".eEi")
    if lo > hi or (plain_parens and not (in_code or looks_numeric)):
        _scan(text, m.start() + 1, m.end() - 1, out)  # "(2, 4)" in prose: two numbers
        return
    left, right = m["iv_open"] == "[", m["iv_close"] == "]"
    closed: Closed = ("both" if right else "left") if left else ("right" if right else "neither")
    out.append(
        NumberSpan(
            start=m.start(),
            end=m.end(),
            text=m[0],
            kind="interval",
            value=lo,
            precision=0.0 if math.isinf(lo) else _precision(lo_text),
            high=hi,
            high_precision=0.0 if math.isinf(hi) else _precision(hi_text),
            closed=closed,
        )
    )


def _range(m: re.Match[str], prefix: str, out: list[NumberSpan]) -> None:
    lo_text, hi_text = m[f"{prefix}_lo"], m[f"{prefix}_hi"]
    percent = m[f"{prefix}_lo_pct"] is not None or m[f"{prefix}_hi_pct"] is not None
    out.append(
        NumberSpan(
            start=m.start(),
            end=m.end(),
            text=m[0],
            kind="range",
            value=_value(lo_text, percent=percent),
            precision=_precision(lo_text, percent=percent),
            is_percent=percent,
            high=_value(hi_text, percent=percent),
            high_precision=_precision(hi_text, percent=percent),
        )
    )


def _on_between(text: str, m: re.Match[str], out: list[NumberSpan]) -> None:
    _range(m, "bt", out)


def _on_range(text: str, m: re.Match[str], out: list[NumberSpan]) -> None:
    _range(m, "rg", out)


def _on_count(text: str, m: re.Match[str], out: list[NumberSpan]) -> None:
    num, den = int(m["co_num"]), int(m["co_den"])
    out.append(
        NumberSpan(m.start(), m.end(), m[0], "count_of", float(num), 0.0, numerator=num, denominator=den)
    )


def _on_colon(text: str, m: re.Match[str], out: list[NumberSpan]) -> None:
    a, b = m["cr_a"], m["cr_b"]
    if float(b) == 0:
        return
    exact = "." not in a + b
    out.append(
        NumberSpan(
            start=m.start(),
            end=m.end(),
            text=m[0],
            kind="ratio",
            value=float(a) / float(b),
            precision=0.0 if exact else max(_precision(a), _precision(b)) / float(b),
            numerator=int(a) if exact else None,
            denominator=int(b) if exact else None,
        )
    )


def _on_sample(text: str, m: re.Match[str], out: list[NumberSpan]) -> None:
    out.append(NumberSpan(m.start(), m.end(), m[0], "sample_size", float(m["n_val"]), 0.0))


def _on_scalar(text: str, m: re.Match[str], out: list[NumberSpan]) -> None:
    num = m["sc_num"]
    percent = m["sc_pct"] is not None
    value = _value(num, percent=percent)
    kind: NumberKind = "percent" if percent else "ratio" if m["sc_times"] else _scalar_kind(num)
    precision = _precision(num, percent=percent)
    if kind == "ratio" and precision == 0.0:
        precision = 1.0  # "3x" is rounded, not exact
    if kind == "integer" and num.isdigit() and _is_year(text, m.start(), m.end(), value):
        return
    out.append(NumberSpan(m.start(), m.end(), m[0], kind, value, precision, is_percent=percent))


def _on_infinite(text: str, m: re.Match[str], out: list[NumberSpan]) -> None:
    value = -math.inf if m["inf_sign"] in ("-", "\u2212") else math.inf
    out.append(NumberSpan(m.start(), m.end(), m[0], "decimal", value, 0.0))


def _on_fraction(text: str, m: re.Match[str], out: list[NumberSpan]) -> None:
    value = _FRACTION_WORDS[" ".join(m[0].lower().split())]
    out.append(NumberSpan(m.start(), m.end(), m[0], "word", value, 0.0))


def _on_word(text: str, m: re.Match[str], out: list[NumberSpan]) -> None:
    words = m[0].lower().replace("-", " ").split()
    key = " ".join(words)
    if key == "one":
        previous = _PREVIOUS_WORD.search(text, max(0, m.start() - 12), m.start())
        if previous is not None and previous[1].lower() in _DETERMINERS:
            return
    if key in _MULTIPLIERS:
        out.append(NumberSpan(m.start(), m.end(), m[0], "ratio", _MULTIPLIERS[key], 0.0))
        return
    # a compound such as "twenty five" is tens + units; everything else is in the table
    value = _WORD_VALUES.get(key) or sum(_WORD_VALUES[w] for w in words)
    out.append(NumberSpan(m.start(), m.end(), m[0], "word", value, 0.0))


# one row per alternative of _PATTERN: the group name that matched picks the handler
_HANDLERS: dict[str, Handler] = {
    "marker": _on_marker,
    "date": _on_marker,
    "interval": _on_interval,
    "between": _on_between,
    "range": _on_range,
    "count": _on_count,
    "colon": _on_colon,
    "sample": _on_sample,
    "scalar": _on_scalar,
    "infinite": _on_infinite,
    "fraction": _on_fraction,
    "word": _on_word,
}


def _scan(text: str, pos: int, endpos: int, out: list[NumberSpan]) -> None:
    for m in _PATTERN.finditer(text, pos, endpos):
        # lastgroup is the top-level alternative: it is the outermost group and closes last
        _HANDLERS[m.lastgroup or ""](text, m, out)


def parse_numbers(text: str) -> list[NumberSpan]:
    """Every number ``text`` states, left to right, with 0-based offsets (``text[start:end] == span.text``).

    Spans never overlap. Non-claims (identifiers, versions, dates, list markers, years...) are left out;
    see the module docstring for the exact rules.
    """
    out: list[NumberSpan] = []
    _scan(text, 0, len(text), out)
    return out


# -- rendering -------------------------------------------------------------------------------------------


def _decimals(precision: float) -> int:
    """Digits after the point for ``precision`` (one that is not a power of ten rounds to a finer one)."""
    return math.ceil(-math.log10(precision) - 1e-9)


def render_number(value: float, precision: float, *, percent: bool = False) -> str:
    """Text stating ``value`` to ``precision`` that ``parse_numbers`` reads back as the same number.

    Precision 0.0 means exact: integral values render as integers, others as the shortest repr. Precisions
    below 1e-6 use scientific notation for values under 1e-3 ("1.50e-07"), so the digits stay readable.
    With ``percent``, ``value`` is a fraction and the text is a percentage ("48.65%").
    """
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if percent:
        return render_number(value * 100, precision * 100) + "%"
    if precision <= 0:
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    digits = _decimals(precision)
    if digits <= 0:
        return str(int(round(value, digits)))
    rounded = round(value, digits)
    if digits > 6 and 0 < abs(rounded) < 1e-3:
        exponent = math.floor(math.log10(abs(rounded)))
        text = f"{rounded:.{digits + exponent}e}"
        # formatting may carry into the next power of ten (9.996e-08 -> 1.000e-07): keep the precision
        shown = int(text.partition("e")[2])
        return text if shown == exponent else f"{rounded:.{digits + shown}e}"
    return f"{rounded:.{digits}f}"
