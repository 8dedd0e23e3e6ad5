"""The checker's data: a ``Claim`` (what a number in a unit says, about which entities) and its ``Verdict``.

Codes are stable (``FCTnnn kebab-name``); tools and ``<!-- reportgen: ignore FCTnnn -->`` key on the number:

- ``FCT001 supported-value``: a per-run param, metric or ratio value equals the fact at the stated precision.
- ``FCT002 value-mismatch``: it does not (``expected`` is the fact, ``fix`` the correct value at the stated
  precision).
- ``FCT003 comparison-false``: a comparison ("learning rate above 0.01") fails for a run it covers
  (``expected`` is that run's value, ``fix`` a phrase that holds, e.g. "at or above 0.01").
- ``FCT004 supported-comparison``: the comparison holds for every run it covers.
- ``FCT010 unresolved-claim``: the checker could not decide; the message says why. Never a pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from reportgen.factcheck.entities import EntitySpan
from reportgen.factcheck.markdown import Unit
from reportgen.factcheck.numbers import NumberSpan
from reportgen.factcheck.operators import Comparison, Op

VerdictKind = Literal["supported", "contradicted", "unverifiable"]

SUPPORTED_VALUE = "FCT001 supported-value"
VALUE_MISMATCH = "FCT002 value-mismatch"
COMPARISON_FALSE = "FCT003 comparison-false"
SUPPORTED_COMPARISON = "FCT004 supported-comparison"
UNRESOLVED = "FCT010 unresolved-claim"

CODES = (SUPPORTED_VALUE, VALUE_MISMATCH, COMPARISON_FALSE, SUPPORTED_COMPARISON, UNRESOLVED)


@dataclass(frozen=True, slots=True)
class Claim:
    """One stated number of ``unit`` and what it is about.

    ``start:end`` is the claim's span in ``unit.text``: the number alone for an equality (so a fix replaces
    just the number), the operator and the number for a comparison ("above 0.01"). ``attribute`` is the
    FactSheet column (``lr``, ``val_loss/train_loss``, ``val_loss.min``) or None; ``runs`` the run ids the
    claim covers (empty when none could be determined); ``entities`` every entity of the unit.
    """

    unit: Unit
    unit_index: int
    start: int
    end: int
    number: NumberSpan
    op: Op | None
    comparison: Comparison | None
    attribute: str | None
    runs: tuple[str, ...]
    entities: tuple[EntitySpan, ...]

    @property
    def text(self) -> str:
        return self.unit.text[self.start : self.end]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision on one claim, positioned in the source (1-based; ``end_column`` exclusive).

    ``fix`` replaces the source text at ``line:column`` .. ``end_line:end_column`` exactly.
    """

    verdict: VerdictKind
    code: str
    message: str
    expected: float | None
    fix: str | None
    line: int
    column: int
    end_line: int
    end_column: int
    text: str
    claim: Claim
