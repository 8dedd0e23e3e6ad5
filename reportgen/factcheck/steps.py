"""Per-run step facts: how long a run trained and where it stopped (``FCT001``/``FCT002``).

Forms read, with a run named in the same clause (else in the sentence):

- "trial 7 ran 20 epochs", "finished 15 epochs", "trained for 300 steps", "after 20 iterations": the run's
  length, matched against both its number of logged steps (``steps``) and its last step (``last_step``),
  because step axes start at 0 or 1 depending on the tracker;
- "crashed|killed|stopped|ended|failed|was pruned at step|epoch N": the run's ``last_step``;
- "hit NaN|became NaN|went to inf at step N": the first non-finite step of any of its metrics
  (``<metric>.nonfinite_step``).

A state word in the phrase ("crashed at epoch 10") is checked too: a finished run did not crash.
"""

from __future__ import annotations

import math
import re

from reportgen.factcheck.claims import (
    MEMBERSHIP_MISMATCH,
    SUPPORTED_VALUE,
    VALUE_MISMATCH,
    Claim,
    Verdict,
    make_verdict,
    unresolved,
    with_claim,
)
from reportgen.factcheck.context import RUN_KINDS, Sheet, runs_of
from reportgen.factcheck.counts import clause
from reportgen.factcheck.entities import EntitySpan
from reportgen.factcheck.wording import render_like, show

_UNIT = r"(?:steps?|epochs?|iterations?|iters?|updates?)"
_LENGTH_AFTER = re.compile(rf"(?i)\s+{_UNIT}\b")
_AT_BEFORE = re.compile(
    rf"(?i)\b(?P<event>crash(?:ed|es)?|killed|stopped|ended|failed|pruned|died|terminated|nan|inf|"
    rf"diverged|non-?finite)\b[\w\s-]{{0,20}}?\b(?:at|after|by|on|in)\s+(?:the\s+)?(?:{_UNIT})\s+$"
)
_EVENT_STATE = {"crash": "crashed", "crashed": "crashed", "crashes": "crashed", "killed": "killed",
                "failed": "failed", "pruned": "pruned"}  # fmt: skip
_NONFINITE = frozenset({"nan", "inf", "nonfinite", "non-finite", "diverged"})


def check_step(sheet: Sheet, claim: Claim, spans: list[EntitySpan]) -> Verdict | None:
    """The verdict on a run's length or stopping step, or None when ``claim.number`` is not one."""
    number, comparison, text = claim.number, claim.comparison, claim.unit.text
    if number is None or comparison is None or number.kind not in ("integer", "word"):
        return None
    at = _AT_BEFORE.search(text, max(0, number.start - 60), number.start)
    length = at is None and _LENGTH_AFTER.match(text, number.end) is not None
    if at is None and not length:
        return None
    lo, hi = clause(text, number.start, number.end)
    runs = runs_of(s for s in spans if lo <= s.start and s.end <= hi) or runs_of(
        s for s in spans if s.kind in RUN_KINDS
    )
    if not runs:
        if at is not None:
            return unresolved(claim, f"no run is named for the step {number.text}")
        return None  # "trained for 20 epochs" about the sweep: not a per-run claim
    claim = with_claim(claim, runs=runs)
    for run in runs:
        if at is not None:
            verdict = _event(sheet, claim, run, at["event"].lower())
        else:
            verdict = _length(sheet, claim, run)
        if verdict.verdict != "supported":
            return verdict
    return verdict


def _length(sheet: Sheet, claim: Claim, run: str) -> Verdict:
    assert claim.comparison is not None and claim.number is not None
    found = [(c, sheet.value(run, c)) for c in ("steps", "last_step")]
    known = [(c, v) for c, v in found if v is not None and math.isfinite(v)]
    if not known:
        return unresolved(claim, f"run {run} has no logged steps")
    for column, value in known:
        if claim.comparison.holds(value):
            message = f"run {run}: {column} = {show(value)}"
            return make_verdict(
                with_claim(claim, attribute=column), "supported", SUPPORTED_VALUE, message, value
            )
    column, value = known[-1]
    facts = ", ".join(f"{c} = {show(v)}" for c, v in known)
    message = f"run {run} has {facts}, not {claim.number.text}"
    fix = (
        render_like(value, claim.number)
        if claim.comparison.op == "eq" and claim.number.kind != "word"
        else None
    )
    return make_verdict(
        with_claim(claim, attribute=column), "contradicted", VALUE_MISMATCH, message, value, fix
    )


def _event(sheet: Sheet, claim: Claim, run: str, event: str) -> Verdict:
    assert claim.comparison is not None and claim.number is not None
    state = _EVENT_STATE.get(event)
    if state is not None:
        mask = sheet.selection("state", (state,))
        if mask is not None and run in sheet.position and not bool(mask.iloc[sheet.position[run]]):
            actual = str(sheet.states[sheet.position[run]])
            message = f"run {run}'s state is {actual}, not {state}"
            return make_verdict(
                with_claim(claim, attribute="state"), "contradicted", MEMBERSHIP_MISMATCH, message
            )
    if event in _NONFINITE:
        columns = sorted(c for c in sheet.columns if c.endswith(".nonfinite_step"))
        steps = [(v, c) for c in columns if (v := sheet.value(run, c)) is not None and math.isfinite(v)]
        if not steps:
            return make_verdict(claim, "contradicted", VALUE_MISMATCH, f"run {run} has no NaN or inf value")
        value, column = min(steps)
    else:
        column = "last_step"
        found = sheet.value(run, column)
        if found is None or not math.isfinite(found):
            return unresolved(claim, f"run {run} has no logged steps")
        value = found
    number, comparison = claim.number, claim.comparison
    claim = with_claim(claim, attribute=column)
    if comparison.holds(value):
        return make_verdict(
            claim, "supported", SUPPORTED_VALUE, f"run {run}: {column} = {show(value)}", value
        )
    message = f"run {run}'s {column} is {show(value)}, not {number.text}"
    fix = render_like(value, number) if comparison.op == "eq" else None
    return make_verdict(claim, "contradicted", VALUE_MISMATCH, message, value, fix)
