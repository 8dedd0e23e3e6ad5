"""How a raw table cell is shown, by its column's format string; shared by the Markdown and HTML renderers.

Tables carry raw values and a format per column (``Table.formats``); this is the one place they become text.
The fact-checker later reads these cells back at their stated precision ("0.0125" claims 0.01245..0.01255,
a bare "12" claims exactly 12, "4.2%" claims 4.15%..4.25%), so every rule below keeps the shown text true at
the precision it states:

- ``int``: integers exactly ("12000", no thousands separators). An integral float is shown as an integer;
  a non-integral one exactly, as ``auto`` shows it, never rounded to a bare integer that would read as exact.
- ``floatN``: N significant digits (``float4``: 0.012346, 2.000, 1.235e3), not N decimals, so a small value
  keeps its digits (``float2`` shows 0.0099 as "0.0099", never "0.01" or "0.00"). Trailing zeros are kept
  because they are stated digits. A value whose N digits would all sit left of the point is not shown as a
  bare integer (that reads as exact): 123.4 under ``float3`` is "123.4", and one too large for N digits goes
  to scientific notation ("1.23e4"), except that an integral value is then shown whole ("12345").
  A Python ``int`` is shown exactly under any numeric format.
- ``percentN``: a fraction shown as a percentage with N decimals (``percent1``: 0.4867 -> "48.7%"). A
  fraction that is not exactly 0 or 1 never shows as "0.0%" or "100.0%": it gets the decimals it needs to
  tell ("0.004%", "99.96%").
- ``sci`` / ``sciN``: scientific notation with 3 (or N) significant digits and a compact exponent
  ("1.23e-4").
- ``text`` and ``auto``: strings as they are; numbers exactly, in their shortest round-trip form
  (an integral float as an integer: a step of 1000.0 is "1000"; 0.0003 is "0.0003"; 1e-05 is "1e-5").
  ``auto`` is for columns of hyperparameter values, which are inputs and must be shown as given.

Under every format: ``None`` is "—", NaN "nan", infinities "inf"/"-inf" (as the checker and pandas spell
them), booleans "True"/"False", and a string is shown as it is (a label in a numeric column). An unknown
format string raises ``ValueError``: formats are written by code, so a bad one is a bug to surface.
"""

from __future__ import annotations

import math
import re

from reportgen.report.model import Cell

EMPTY = "\u2014"
_FORMAT = re.compile(r"(?P<kind>int|text|auto|float|percent|sci)(?P<digits>\d{0,2})")
# an integral float up to this magnitude is shown whole: beyond 2**53 not every integer is a float
_EXACT_INT = 2.0**53


def format_cell(value: Cell, fmt: str) -> str:
    """``value`` as text under the column format ``fmt`` (see the module docstring for the formats)."""
    kind, digits = _parse(fmt)
    if value is None:
        return EMPTY
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int):
        return str(value)
    x = float(value)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    x = x + 0.0  # -0.0 -> 0.0: a sign on zero states nothing
    if kind == "float":
        return _significant(x, digits)
    if kind == "percent":
        return _percent(x, digits)
    if kind == "sci":
        return _compact_exponent(f"{x:.{digits - 1}e}")
    return _exact(x)


def _parse(fmt: str) -> tuple[str, int]:
    """(kind, digits) of a format string; ``sci`` defaults to 3 digits, float and percent must say."""
    m = _FORMAT.fullmatch(fmt)
    if m is None or (m["digits"] and m["kind"] in ("int", "text", "auto")):
        raise ValueError(f"unknown cell format {fmt!r}: use int, text, auto, floatN, percentN, sci or sciN")
    kind, digits = m["kind"], m["digits"]
    if kind in ("float", "percent") and not digits:
        raise ValueError(f"cell format {fmt!r} needs its digits, e.g. {kind}3")
    n = int(digits) if digits else 3
    if kind in ("float", "sci") and not 1 <= n <= 17:
        raise ValueError(f"cell format {fmt!r}: significant digits must be 1..17")
    return kind, n


def _exact(x: float) -> str:
    """The shortest text that reads back as exactly ``x``."""
    if x.is_integer() and abs(x) < _EXACT_INT:
        return str(int(x))
    return _compact_exponent(repr(x))


def _significant(x: float, digits: int) -> str:
    """``x`` to ``digits`` significant digits, never as a bare integer unless it is one."""
    text = f"{x:#.{digits}g}"  # '#' keeps trailing zeros: "2.000" states four digits
    mantissa, _, exponent = text.partition("e")
    mantissa = mantissa.removesuffix(".")
    if exponent:
        if x.is_integer() and abs(x) < _EXACT_INT:
            return str(int(x))
        return _compact_exponent(f"{mantissa}e{exponent}")
    if "." not in mantissa and not x.is_integer():
        return f"{x:.1f}"  # "123" would claim exactly 123 for 123.4
    return mantissa


def _percent(x: float, decimals: int) -> str:
    """A fraction as a percentage; only exactly 0 and 1 may show as 0% and 100%."""
    pct = x * 100.0
    for edge in (0.0, 100.0):
        if pct != edge and float(f"{pct:.{decimals}f}") == edge:
            decimals = max(decimals, -math.floor(math.log10(abs(pct - edge))))
    return f"{pct:.{decimals}f}%"


def _compact_exponent(text: str) -> str:
    """'1.23e-04' -> '1.23e-4', '1e+20' -> '1e20': the same number, as people write it."""
    mantissa, e, exponent = text.partition("e")
    return f"{mantissa}e{int(exponent)}" if e else text
