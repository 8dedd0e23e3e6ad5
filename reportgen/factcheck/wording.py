"""How the checker words facts in its messages and fixes: in the stated units, at a useful precision."""

from __future__ import annotations

import math
from collections.abc import Sequence

from reportgen.factcheck.entities import EntitySpan
from reportgen.factcheck.numbers import NumberSpan, render_number
from reportgen.factcheck.operators import Comparison, suggest_fix


def show(value: float, stated: NumberSpan | None = None) -> str:
    """A fact for a message: five significant digits, in the stated units (a percentage if stated so)."""
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    percent = stated is not None and stated.is_percent
    shown = value * 100 if percent else value
    suffix = "%" if percent else ""
    if float(shown).is_integer() and abs(shown) < 1e15:
        return f"{int(shown)}{suffix}"
    return f"{shown:.5g}{suffix}"


def run_label(run: str, mention: EntitySpan | None) -> str:
    """ "trial 4" when the draft says trial, else "run 4"."""
    word = "trial" if mention is not None and mention.text.lower().startswith("trial") else "run"
    return f"{word} {run}"


def run_list(runs: Sequence[str], limit: int = 8) -> str:
    """ "runs 2, 4" / "run 3" / "no run"; long lists end with "and N more"."""
    if not runs:
        return "no run"
    head = ", ".join(runs[:limit])
    more = f" and {len(runs) - limit} more" if len(runs) > limit else ""
    return f"{'run' if len(runs) == 1 else 'runs'} {head}{more}"


def plural(n: float, word: str) -> str:
    return f"{show(n)} {word}" + ("" if n == 1 else "s")


def value_fix(actual: float, comparison: Comparison) -> str | None:
    """The correct value at the stated precision, replacing just the number (no equality word); a finer
    precision when the stated one would round a non-zero fact to zero ("0.001" for 0.0001 gives "0.0001")."""
    if suggest_fix(actual, comparison) is None:
        return None
    return render_like(actual, comparison.stated)


def render_like(actual: float, stated: NumberSpan) -> str:
    """``actual`` written the way ``stated`` was (percent or not, same precision unless that hides it)."""
    shown = actual * 100 if stated.is_percent else actual
    precision = stated.precision * (100 if stated.is_percent else 1)
    coarse = precision > abs(shown) or (precision == 0 and not float(shown).is_integer())
    if shown != 0 and math.isfinite(shown) and coarse:
        precision = 10.0 ** (math.floor(math.log10(abs(shown))) - (2 if precision == 0 else 0))
    return render_number(shown, precision) + ("%" if stated.is_percent else "")
