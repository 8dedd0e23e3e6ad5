"""The checker's data: a ``Claim`` (what a unit states, about which entities) and its ``Verdict``.

Codes are stable (``FCTnnn kebab-name``); tools and ``<!-- reportgen: ignore FCTnnn -->`` key on the number.
Each family has a supported code and a contradicted code, so a suppression names exactly what it silences:

- ``FCT001 supported-value`` / ``FCT002 value-mismatch``: a per-run param, metric or ratio value ("trial 3's
  val_loss/train_loss ratio of 5.33"); ``expected`` is the fact, ``fix`` the correct value at the stated
  precision.
- ``FCT004 supported-comparison`` / ``FCT003 comparison-false``: a comparison over the runs it covers
  ("learning rate above 0.01"); ``expected`` is the failing run's value, ``fix`` a phrase that holds ("at or
  above 0.01").
- ``FCT005 supported-count`` / ``FCT006 count-mismatch``: a count, share or rate of runs or issues, overall
  or in a bucket or group ("5 issues across 3 trials", "12.5% of runs crashed", "buckets ... have issue
  rates of 0.5"); ``expected`` is the recomputed count or fraction.
- ``FCT007 supported-membership`` / ``FCT008 membership-mismatch``: which runs have an issue or state (a
  table row "overfitting | 2 | 3, 4" lists run 4, which has no overfitting flag).
- ``FCT011 supported-ranking`` / ``FCT012 ranking-false``: a superlative ("trial 4 had the highest learning
  rate", "the best val_loss was 0.515").
- ``FCT020 supported-trend`` / ``FCT021 trend-reversed``: a trend or causal claim whose direction the data
  shows (or shows the other way), with the column that decided it.
- ``FCT022 trend-weak-evidence``: the direction agrees but rests on too few runs to call (verdict
  unverifiable: an n = 1 bucket does not make a cause).
- ``FCT010 unresolved-claim``: the checker could not decide; the message says why. Never a pass.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
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
SUPPORTED_COUNT = "FCT005 supported-count"
COUNT_MISMATCH = "FCT006 count-mismatch"
SUPPORTED_MEMBERSHIP = "FCT007 supported-membership"
MEMBERSHIP_MISMATCH = "FCT008 membership-mismatch"
UNRESOLVED = "FCT010 unresolved-claim"
SUPPORTED_RANKING = "FCT011 supported-ranking"
RANKING_FALSE = "FCT012 ranking-false"
SUPPORTED_TREND = "FCT020 supported-trend"
TREND_REVERSED = "FCT021 trend-reversed"
TREND_WEAK = "FCT022 trend-weak-evidence"

CODES = (
    SUPPORTED_VALUE,
    VALUE_MISMATCH,
    COMPARISON_FALSE,
    SUPPORTED_COMPARISON,
    SUPPORTED_COUNT,
    COUNT_MISMATCH,
    SUPPORTED_MEMBERSHIP,
    MEMBERSHIP_MISMATCH,
    UNRESOLVED,
    SUPPORTED_RANKING,
    RANKING_FALSE,
    SUPPORTED_TREND,
    TREND_REVERSED,
    TREND_WEAK,
)


@dataclass(frozen=True, slots=True)
class Claim:
    """One statement of ``unit`` and what it is about.

    ``start:end`` is the claim's span in ``unit.text``: the number alone for an equality (so a fix replaces
    just the number), the operator and the number for a comparison ("above 0.01"), the whole phrase for a
    claim without a number (a trend "small batch sizes lead to shorter training times"). ``number`` is the
    stated number (None for claims without one); ``attribute`` the FactSheet column or sweep fact that
    decided it (``lr``, ``val_loss/train_loss``, ``issue.overfitting``, ``runtime_s``) or None; ``runs``
    the run ids the claim covers (empty when none could be determined); ``entities`` every entity of the
    unit; ``uses`` the start offsets of other numbers the claim read as its conditions ("2 runs with lr
    above 0.01" uses 0.01), which then need no verdict of their own when it was decided.
    """

    unit: Unit
    unit_index: int
    start: int
    end: int
    number: NumberSpan | None
    op: Op | None
    comparison: Comparison | None
    attribute: str | None
    runs: tuple[str, ...]
    entities: tuple[EntitySpan, ...]
    uses: tuple[int, ...] = ()

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


def with_claim(claim: Claim, **changes: object) -> Claim:
    """``claim`` with some fields replaced."""
    return replace(claim, **changes)  # type: ignore[arg-type]


def make_verdict(
    claim: Claim,
    verdict: VerdictKind,
    code: str,
    message: str,
    expected: float | None = None,
    fix: str | None = None,
) -> Verdict:
    """The verdict on ``claim``, positioned at its span in the source."""
    line, column, end_line, end_column = claim.unit.source_span(claim.start, claim.end)
    return Verdict(
        verdict=verdict,
        code=code,
        message=message,
        expected=expected,
        fix=fix,
        line=line,
        column=column,
        end_line=end_line,
        end_column=end_column,
        text=claim.text,
        claim=claim,
    )


def unresolved(claim: Claim, why: str) -> Verdict:
    """``FCT010 unresolved-claim``: unverifiable, with the reason."""
    return make_verdict(claim, "unverifiable", UNRESOLVED, why)
