"""Verify a Markdown draft against a FactSheet: every stated number, trend and ranking gets one verdict.

``check_markdown`` splits the draft into units (sentences, headings, table cells), resolves each unit's
entities once (``context.Draft``) and decides its claims. Numbers that are part of an entity's name (the "2"
of "trial_id 2", a bucket interval ``(0.005, 0.01]``) name something; they are not claims.

Per unit, first the claims that need no number: trends and causal claims (``trends``) and superlatives
naming a run (``rankings``). Then each number, by the first family that reads it:

1. a run id listed in a table cell under an id header (``membership``; ids that are not numbers are
   entities, decided before the numbers);
2. a count or rate in a table cell whose row label is an issue, state or group (``counts.table_count``);
3. a run's length or stopping step ("ran 20 epochs", "crashed at step 5": ``steps``);
4. a bucket's rate or size (``buckets``);
5. a count, share or rate of runs or issues (``counts.check_count``);
6. "zero weight decay" (a value right before a param): a run named in the sentence has it, else some run;
   "three architectures" (before a categorical param): how many levels it has;
7. **per-run value** (equality, "is", "of", no operator; "is not" too): the number pairs with the nearest
   param, metric or ratio before it (a table cell falls back to its column header), unless another entity
   or a statistic word stands between them; the run is the nearest run mention before the number (else
   after it; a table cell falls back to its row label); a run list or group is checked run by run. Equal at
   the stated precision (``hedges.matches``) is ``FCT001``; else ``FCT002`` with the fact as ``expected``
   and the correct value at the stated precision as ``fix``. A metric's modifier picks the curve statistic
   ("minimum val loss" -> ``val_loss.min``, "initial" -> ``.first``, "final" -> the summary);
8. **comparison over runs** ("learning rate above 0.01", "at least", "between"...): checked against every
   run it covers, taken from the first of: the runs the unit names; the runs named in its paragraph or list
   item; the runs its other entities select (an issue type selects its flagged runs, a state its runs, a
   group its level; several intersect); for a heading, the runs named in its section. Any failing run makes
   it ``FCT003`` with "lr = 0.01 is not above 0.01" and a fix ("at or above 0.01"); else ``FCT004``.

A number that conditions another decided claim ("2 runs with lr above 0.01", "batch sizes above 32 tend to
...") is held only to the runs the text names (never to the runs a selector picks: "batch sizes above 128
cause crashes" is not a claim about every crashed run), and gets no verdict of its own if it names none.
Everything else is ``FCT010 unresolved-claim`` with the reason (no attribute before the number, no run
named, a negation before the number that is not part of the operator, a missing fact). A negation after the
number ("... above 0.01 never diverged") is not seen.
"""

from __future__ import annotations

import re

import numpy as np

from reportgen.factcheck.aggregates import aggregate_of, check_stability, table_aggregate
from reportgen.factcheck.buckets import check_bucket
from reportgen.factcheck.claims import (
    COMPARISON_FALSE,
    COUNT_MISMATCH,
    SUPPORTED_COMPARISON,
    SUPPORTED_COUNT,
    SUPPORTED_VALUE,
    TREND_WEAK,
    UNRESOLVED,
    VALUE_MISMATCH,
    Claim,
    Verdict,
    make_verdict,
    unresolved,
    with_claim,
)
from reportgen.factcheck.context import (
    ATTRIBUTE_KINDS,
    RUN_KINDS,
    SELECTOR_KINDS,
    Draft,
    Sheet,
    inside_entity,
    nearest_after,
    nearest_before,
    negated,
    runs_of,
)
from reportgen.factcheck.counts import check_count, table_count
from reportgen.factcheck.entities import EntitySpan, Vocabulary
from reportgen.factcheck.markdown import Unit, split
from reportgen.factcheck.membership import listed_names, listed_run, table_membership
from reportgen.factcheck.numbers import NumberSpan, parse_numbers
from reportgen.factcheck.operators import (
    Comparison,
    describe_failure,
    find_comparison,
    holds_each,
    suggest_fix,
)
from reportgen.factcheck.rankings import check_rankings
from reportgen.factcheck.steps import check_step
from reportgen.factcheck.trends import check_trends
from reportgen.factcheck.wording import run_label, run_list, show, value_fix
from reportgen.facts import FactSheet

__all__ = ["check_markdown", "check_units"]

# words that make a number after a param a statistic about it, not its value ("lr buckets have rates of 1.0")
_STAT_WORDS = re.compile(
    r"(?i)\b(?:rates?|counts?|correlations?|coefficients?|fractions?|shares?|proportions?|percentages?|"
    r"number of|buckets?|runs|trials)\b"
)
# a negation the operator parser did not absorb ("did not have a learning rate of 0.01")
_NEGATION = re.compile(r"(?i)\b(?:not|never|no|neither|nor|without)\b|n't\b")
# a number that counts something ("(3 seeds)", "4 configs") is no attribute's value
_COUNTED = re.compile(
    r"(?i)\s+(?P<noun>seeds?|runs?|trials?|configs?|configurations?|buckets?|groups?|levels?|values?|params?"
    r"|parameters?|metrics?|issues?|findings?|points?)\b"
)
# a value of another run than the one named ("r07 ... (val_loss = 0.05; second best 0.58)")
_OTHER_RUN = re.compile(r"(?i)\b(?:second|third|next|runner-up|other|others|rest|remaining|previous)\b")
_MODIFIER_STATS = {"min": ".min", "max": ".max", "first": ".first", "final": ""}


def check_markdown(markdown: str, facts: FactSheet, vocab: Vocabulary) -> list[Verdict]:
    """One verdict per claim of the draft (every stated number, every trend and ranking), in source order."""
    return check_units(split(markdown).units, facts, vocab)


def check_units(units: list[Unit], facts: FactSheet, vocab: Vocabulary) -> list[Verdict]:
    """``check_markdown`` on units already split (the CLI splits once for units and directives)."""
    draft = Draft.build(units, vocab)
    checker = _Checker(Sheet(facts, vocab), draft)
    out: list[Verdict] = []
    for index, unit in enumerate(units):
        out.extend(checker.check_unit(index, unit))
    return out


class _Checker:
    def __init__(self, sheet: Sheet, draft: Draft) -> None:
        self.sheet = sheet
        self.draft = draft

    def check_unit(self, index: int, unit: Unit) -> list[Verdict]:
        spans = self.draft.entities[index]
        # a row's first cell names what the row is about ("| 5 | 0.005 |"): an entity, not a claim
        first_cell = unit.kind == "table_cell" and unit.text.strip() == (unit.row_label or "").strip()
        if first_cell and (self.sheet.row_runs(unit) or any(s.kind in SELECTOR_KINDS for s in spans)):
            return []
        numbers = [n for n in parse_numbers(unit.text) if not inside_entity(n, spans)]
        sentence_level = check_trends(self.sheet, self.draft, index, unit, spans, numbers)
        sentence_level += check_rankings(self.sheet, index, unit, spans)
        sentence_level += check_stability(self.sheet, index, unit, spans)
        sentence_level += listed_names(self.sheet, index, unit, spans)
        verdicts = [self._check_number(index, unit, spans, numbers, n) for n in numbers]
        # a number that conditions another claim ("2 runs with lr above 0.01", "batch sizes above 32 tend
        # to...") is checked only against the runs the text names, and needs no verdict if it names none
        decided = [
            v for v in sentence_level + verdicts if v.verdict != "unverifiable" or v.code == TREND_WEAK
        ]
        conditions = {u for v in decided for u in v.claim.uses}
        if conditions:
            verdicts = [
                self._check_number(index, unit, spans, numbers, n, True) if n.start in conditions else v
                for n, v in zip(numbers, verdicts, strict=True)
            ]
            verdicts = [
                v
                for n, v in zip(numbers, verdicts, strict=True)
                if not (v.code == UNRESOLVED and n.start in conditions)
            ]
        out = sentence_level + verdicts
        out.sort(key=lambda v: (v.claim.start, v.claim.end))
        return out

    def _check_number(
        self,
        index: int,
        unit: Unit,
        spans: list[EntitySpan],
        numbers: list[NumberSpan],
        number: NumberSpan,
        condition: bool = False,
    ) -> Verdict:
        """The verdict on one stated number; ``condition``: it is the threshold of a trend's cause."""
        comparison = find_comparison(unit.text, number)
        base = Claim(
            unit=unit,
            unit_index=index,
            start=number.start,
            end=number.end,
            number=number,
            op=comparison.op if comparison is not None else None,
            comparison=comparison,
            attribute=None,
            runs=(),
            entities=tuple(spans),
        )
        if comparison is None:
            return unresolved(base, f"{number.text!r} is not a scalar claim")
        run = listed_run(self.sheet, base)
        if run is not None:
            found = table_membership(self.sheet, base, run)
            if found is not None:
                return found
        decided = (
            table_count(self.sheet, base)
            or table_aggregate(self.sheet, base)
            or check_step(self.sheet, base, spans)
            or check_bucket(self.sheet, base, spans, numbers)
            or check_count(self.sheet, base, spans, numbers)
        )
        if decided is not None:
            return decided
        described = nearest_after(spans, number.end, frozenset({"param"}))
        if described is not None and unit.text[number.end : described.start].strip() in ("", "-"):
            # "zero weight decay", "a 0.01 learning rate": the value describes runs
            column, why = self._column(described)
            if column is None:
                return unresolved(base, why)
            base = with_claim(base, attribute=column)
            if self.sheet.is_categorical(column):
                return self._levels(base, comparison, column)
            if runs_of(spans):
                return self._per_run_value(base, spans, comparison, described, column)
            return self._exists(base, comparison, column)
        attribute_span = nearest_before(spans, number.start, ATTRIBUTE_KINDS)
        if attribute_span is None and unit.kind == "table_cell":
            header = [s for s in self.sheet.resolve(unit.table_header) if s.kind in ATTRIBUTE_KINDS]
            attribute_span = header[-1] if header else None
        if attribute_span is None:
            return unresolved(
                base,
                f"no param, metric or ratio is named before {number.text!r}, and it is not a count, rate or "
                "bucket statistic the checker reads",
            )
        counted = _COUNTED.match(unit.text, number.end)
        if counted is not None:
            return unresolved(
                base,
                f"{number.text!r} counts {counted['noun']}, not the value of {attribute_span.text!r}",
            )
        aggregate = aggregate_of(self.sheet, base, spans, attribute_span)
        if aggregate is not None:
            return aggregate
        between = [s for s in spans if attribute_span.end <= s.start and s.end <= number.start]
        other = next((s for s in between if s.kind not in RUN_KINDS), None)
        if other is not None or _STAT_WORDS.search(unit.text, attribute_span.end, number.start):
            about = repr(other.text) if other is not None else "a statistic"
            return unresolved(
                base,
                f"{number.text!r} is about {about}, not the value of {attribute_span.text!r}, "
                "and the checker "
                "could not tie it to a count, rate or bucket",
            )
        other_run = _OTHER_RUN.search(unit.text, attribute_span.end, number.start)
        if other_run is not None:
            return unresolved(
                base,
                f"{number.text!r} is the {other_run.group()!r} run's value, which the sentence does not name",
            )
        negation = _NEGATION.search(unit.text, 0, number.start)
        if negation is not None and "not" not in comparison.phrase.lower():
            return unresolved(
                base, f"negated claims ({negation.group()!r} before {number.text!r}) are not checked"
            )
        column, why = self._column(attribute_span)
        if column is None:
            return unresolved(base, why)
        base = with_claim(base, attribute=column)
        if comparison.op in ("eq", "ne"):
            return self._per_run_value(base, spans, comparison, attribute_span, column)
        return self._comparison(base, spans, comparison, column, condition)

    def _column(self, span: EntitySpan) -> tuple[str | None, str]:
        column = span.target[0]
        if span.kind == "metric" and span.modifiers:
            modifier = span.modifiers[0]
            if modifier not in _MODIFIER_STATS:
                return None, f"the {modifier!r} statistic of {column} is not checked as a per-run value"
            column = column + _MODIFIER_STATS[modifier]
        if column not in self.sheet.columns:
            return None, f"the FactSheet has no column {column!r}"
        return column, ""

    # family 1 --------------------------------------------------------------------------------------------
    def _per_run_value(
        self,
        claim: Claim,
        spans: list[EntitySpan],
        comparison: Comparison,
        attribute_span: EntitySpan,
        column: str,
    ) -> Verdict:
        number = comparison.stated
        mention = nearest_before(spans, number.start, RUN_KINDS) or nearest_after(
            spans, number.end, RUN_KINDS
        )
        runs: tuple[str, ...] = mention.target if mention is not None else ()
        if not runs and claim.unit.kind == "table_cell":
            row = self.sheet.row_runs(claim.unit)
            if row:
                mention, runs = row[0], row[0].target
        if not runs:
            return unresolved(
                claim, f"no run is named for {attribute_span.text!r} = {number.text} in this sentence"
            )
        claim = with_claim(claim, runs=runs)
        checked: list[tuple[str, float]] = []
        for run in runs:
            value = self.sheet.value(run, column)
            if value is None:
                return unresolved(claim, f"{run_label(run, mention)} has no numeric {column}")
            checked.append((run, value))
        for run, value in checked:
            if not comparison.holds(value):
                label = run_label(run, mention)
                if comparison.op == "ne":
                    message = f"{label}'s {describe_failure(column, value, comparison)}"
                    fix = None
                else:
                    message = f"{label}'s {column} is {show(value, number)}, not {number.text}"
                    fix = value_fix(value, comparison)
                return make_verdict(claim, "contradicted", VALUE_MISMATCH, message, value, fix)
        run, value = checked[0]
        names = ", ".join(run_label(r, mention) for r, _ in checked)
        message = f"{names}: {column} = {show(value, number)}, stated as {number.text}"
        return make_verdict(claim, "supported", SUPPORTED_VALUE, message, value)

    def _levels(self, claim: Claim, comparison: Comparison, column: str) -> Verdict:
        """ "three architectures": how many distinct levels the categorical param has."""
        levels = sorted(self.sheet.runs[column].dropna().astype(str).unique())
        actual = float(len(levels))
        message = f"{column} has {len(levels)} levels ({', '.join(levels[:8])})"
        if comparison.holds(actual):
            return make_verdict(claim, "supported", SUPPORTED_COUNT, message, actual)
        fix = value_fix(actual, comparison) if claim.number and claim.number.kind != "word" else None
        return make_verdict(
            claim, "contradicted", COUNT_MISMATCH, f"{message}, not {claim.text}", actual, fix
        )

    def _exists(self, claim: Claim, comparison: Comparison, column: str) -> Verdict:
        """ "zero weight decay" with no run named: some run of the sweep must have that value."""
        values = self.sheet.numeric(column)
        hits = [
            str(r) for r, v in zip(values.index, values.to_numpy(), strict=True) if comparison.holds(float(v))
        ]
        claim = with_claim(claim, runs=tuple(hits))
        stated = comparison.stated.text
        if hits:
            message = f"{run_list(hits)} {'has' if len(hits) == 1 else 'have'} {column} = {stated}"
            return make_verdict(claim, "supported", SUPPORTED_VALUE, message)
        seen = ", ".join(show(float(v)) for v in sorted(set(values.dropna().to_numpy()))[:8])
        message = f"no run has {column} = {stated} (values: {seen})"
        return make_verdict(claim, "contradicted", VALUE_MISMATCH, message)

    # family 2 --------------------------------------------------------------------------------------------
    def _covered_runs(
        self, claim: Claim, spans: list[EntitySpan], condition: bool
    ) -> tuple[tuple[str, ...], str]:
        own = runs_of(spans)
        if own:
            return own, "named in the sentence"
        block = self.draft.block_runs.get(claim.unit.block, ())
        if block:
            return block, "named in the paragraph"
        # a trend's threshold ("batch sizes above 128 cause crashes") is not a claim about every crashed
        # run: the trend family tests it; runs the text names are still held to it
        text = claim.unit.text
        selectors = [
            s for s in spans if s.kind in SELECTOR_KINDS and s.kind != "bucket" and not negated(text, s)
        ]
        selected = None if condition else self.sheet.select(selectors)
        if selected is not None:
            return tuple(self.sheet.ids(selected)), "selected by the sentence's other entities"
        if claim.unit.kind != "heading":
            return (), ""
        section = self.draft.section_runs.get(self.draft.sections[claim.unit_index], ())
        return section, "named in the section"

    def _comparison(
        self, claim: Claim, spans: list[EntitySpan], comparison: Comparison, column: str, condition: bool
    ) -> Verdict:
        claim = with_claim(claim, start=comparison.start, end=comparison.end)
        runs, source = self._covered_runs(claim, spans, condition)
        if not runs:
            return unresolved(
                claim,
                f"the comparison {claim.text!r} on {column} covers no run named or selected here",
            )
        claim = with_claim(claim, runs=runs)
        values, missing = self.sheet.values_at(runs, column)
        if missing is not None:
            return unresolved(claim, f"run {missing} has no numeric {column}")
        failing = np.flatnonzero(~holds_each(comparison, values))
        if len(failing):
            value = float(values[failing[0]])
            message = describe_failure(column, value, comparison)
            fix = suggest_fix(value, comparison)
            return make_verdict(claim, "contradicted", COMPARISON_FALSE, message, value, fix)
        message = f"{column} {claim.text} holds for {run_list(runs)} ({source})"
        return make_verdict(claim, "supported", SUPPORTED_COMPARISON, message)
