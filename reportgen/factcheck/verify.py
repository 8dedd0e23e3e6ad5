"""Verify a Markdown draft's numbers against a FactSheet: the first claim families, honest about the rest.

``check_markdown`` splits the draft into units (sentences, headings, table cells), resolves each unit's
entities and numbers, and gives every stated number one ``Verdict``. Numbers that are part of an entity's
name (the "2" of "trial_id 2", a bucket interval ``(0.005, 0.01]``) name something; they are not claims and
get no verdict.

Families decided so far:

1. **Per-run value** (equality, "is", "of", or no operator; "is not" too): the number pairs with the nearest
   param, metric or ratio mentioned before it in the unit (a table cell falls back to its column header),
   unless another entity (a bucket, an issue) or a statistic word ("rates", "count", "runs") stands between
   them ("lr buckets have issue rates of 1.0" is not about lr's value); and
   the run is the nearest run mention before the number (else after it; a table cell falls back to its row
   label); a run list or run group is checked run by run. Equal at the stated precision (``hedges.matches``,
   widened by a hedge) is ``FCT001 supported-value``; otherwise ``FCT002 value-mismatch`` with the fact as
   ``expected``, a message such as "trial 3's val_loss/train_loss is 5.3333, not 5.4" and the correct value
   at the stated precision as ``fix``. A metric's modifier picks the curve statistic ("minimum val loss" ->
   ``val_loss.min``, "initial" -> ``.first``, "final" -> the summary); "best" is not decided.
2. **Comparisons over runs** ("learning rate above 0.01", "at least", "below", "between", ...): the
   comparison attaches to the nearest param/metric/ratio before it and is checked against every run it
   covers, taken from the first of: the runs the unit names; the runs named in its paragraph or list item;
   the runs its other entities select (an issue type such as "NaN loss" selects the runs flagged
   ``issue.nan-or-inf-metric``, a state its runs, a group its level; several selectors intersect); the runs
   named anywhere in its section, for a heading only (the section it opens: a heading sums up its section,
   while a sentence of another paragraph may name runs for another reason). If any covered run fails,
   ``FCT003 comparison-false`` with the message of ``operators.describe_failure`` ("lr = 0.01 is not above
   0.01"), that run's value as ``expected`` and ``operators.suggest_fix`` as ``fix`` ("at or above 0.01");
   else ``FCT004 supported-comparison``.
3. Everything else is ``FCT010 unresolved-claim`` (unverifiable) with the reason: no param/metric/ratio
   before the number (counts, rates, bucket statistics, rankings and trends are not checked yet), no run
   named for a per-run value, no run covered by a comparison, a negation before the number that is not part
   of the operator ("did not have a learning rate of 0.01"; "not above" and "is not" are understood), a
   non-numeric or missing fact. A negation after the number ("... above 0.01 never diverged") is not seen.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

import pandas as pd

from reportgen.factcheck.claims import (
    COMPARISON_FALSE,
    SUPPORTED_COMPARISON,
    SUPPORTED_VALUE,
    UNRESOLVED,
    VALUE_MISMATCH,
    Claim,
    Verdict,
    VerdictKind,
)
from reportgen.factcheck.entities import EntitySpan, Vocabulary, resolve_entities
from reportgen.factcheck.markdown import Unit, split
from reportgen.factcheck.numbers import NumberSpan, parse_numbers, render_number
from reportgen.factcheck.operators import Comparison, describe_failure, find_comparison, suggest_fix
from reportgen.facts import FactSheet

__all__ = ["check_markdown", "check_units"]

_ATTRIBUTE_KINDS = frozenset({"param", "metric", "ratio"})
_RUN_KINDS = frozenset({"run", "run_group"})
_SELECTOR_KINDS = frozenset({"issue", "state", "group"})
# words that make a number after a param a statistic about it, not its value ("lr buckets have rates of 1.0")
_STAT_WORDS = re.compile(
    r"(?i)\b(?:rates?|counts?|correlations?|coefficients?|fractions?|shares?|proportions?|percentages?|"
    r"number of|buckets?|runs|trials)\b"
)
# a negation the operator parser did not absorb ("did not have a learning rate of 0.01")
_NEGATION = re.compile(r"(?i)\b(?:not|never|no|neither|nor|without)\b|n't\b")
_MODIFIER_STATS = {"min": ".min", "max": ".max", "first": ".first", "final": ""}


@dataclass(slots=True)
class _Context:
    """Per-unit entities, plus the runs named per block and per section (computed once per draft)."""

    units: list[Unit]
    entities: list[list[EntitySpan]]
    sections: list[int]
    block_runs: dict[int, tuple[str, ...]]
    section_runs: dict[int, tuple[str, ...]]


def check_markdown(markdown: str, facts: FactSheet, vocab: Vocabulary) -> list[Verdict]:
    """One verdict per stated number of the draft, in source order."""
    return check_units(split(markdown).units, facts, vocab)


def check_units(units: list[Unit], facts: FactSheet, vocab: Vocabulary) -> list[Verdict]:
    """``check_markdown`` on units already split (the CLI splits once for units and directives)."""
    context = _context(units, vocab)
    checker = _Checker(facts, vocab, context)
    out: list[Verdict] = []
    for index, unit in enumerate(units):
        out.extend(checker.check_unit(index, unit))
    return out


# -- context ---------------------------------------------------------------------------------------------


def _runs_of(spans: Iterable[EntitySpan]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for s in spans:
        if s.kind in _RUN_KINDS:
            seen.update(dict.fromkeys(s.target))
    return tuple(seen)


def _context(units: list[Unit], vocab: Vocabulary) -> _Context:
    entities: list[list[EntitySpan]] = []
    sections: list[int] = []
    block_runs: dict[int, dict[str, None]] = {}
    section_runs: dict[int, dict[str, None]] = {}
    section = 0
    for unit in units:
        if unit.kind == "heading":
            section += 1
        spans = resolve_entities(unit.text, vocab, context=unit.section)
        entities.append(spans)
        sections.append(section)
        runs = dict.fromkeys(_runs_of(spans))
        block_runs.setdefault(unit.block, {}).update(runs)
        section_runs.setdefault(section, {}).update(runs)
    return _Context(
        units,
        entities,
        sections,
        {k: tuple(v) for k, v in block_runs.items()},
        {k: tuple(v) for k, v in section_runs.items()},
    )


# -- rendering -------------------------------------------------------------------------------------------


def _show(value: float, stated: NumberSpan) -> str:
    """A fact for a message: five significant digits, in the stated units."""
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    shown = value * 100 if stated.is_percent else value
    suffix = "%" if stated.is_percent else ""
    if float(shown).is_integer() and abs(shown) < 1e15:
        return f"{int(shown)}{suffix}"
    return f"{shown:.5g}{suffix}"


def _run_label(run: str, mention: EntitySpan | None) -> str:
    word = "trial" if mention is not None and mention.text.lower().startswith("trial") else "run"
    return f"{word} {run}"


# -- checking --------------------------------------------------------------------------------------------


class _Checker:
    def __init__(self, facts: FactSheet, vocab: Vocabulary, context: _Context) -> None:
        self.facts = facts
        self.vocab = vocab
        self.ctx = context
        self.columns = set(facts.runs.columns)
        self.run_ids = set(facts.runs.index.astype(str))
        self._cell_cache: dict[str, list[EntitySpan]] = {}

    # entities of a table header or row label, resolved once per distinct text
    def _resolve(self, text: str | None) -> list[EntitySpan]:
        if not text:
            return []
        found = self._cell_cache.get(text)
        if found is None:
            found = self._cell_cache[text] = resolve_entities(text, self.vocab)
        return found

    def check_unit(self, index: int, unit: Unit) -> list[Verdict]:
        spans = self.ctx.entities[index]
        numbers = [n for n in parse_numbers(unit.text) if not _inside_entity(n, spans)]
        return [self._check_number(index, unit, spans, n) for n in numbers]

    def _check_number(self, index: int, unit: Unit, spans: list[EntitySpan], number: NumberSpan) -> Verdict:
        comparison = find_comparison(unit.text, number)
        attribute_span = _nearest_before(spans, number.start, _ATTRIBUTE_KINDS)
        if attribute_span is None and unit.kind == "table_cell":
            header = [s for s in self._resolve(unit.table_header) if s.kind in _ATTRIBUTE_KINDS]
            attribute_span = header[-1] if header else None
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
            return self._unverifiable(base, f"{number.text!r} is not a scalar claim")
        if attribute_span is None:
            return self._unverifiable(
                base,
                f"no param, metric or ratio is named before {number.text!r} "
                "(counts, rates, bucket statistics, rankings and trends are not checked yet)",
            )
        between = [s for s in spans if attribute_span.end <= s.start and s.end <= number.start]
        other = next((s for s in between if s.kind not in _RUN_KINDS), None)
        if other is not None or _STAT_WORDS.search(unit.text, attribute_span.end, number.start):
            about = repr(other.text) if other is not None else "a statistic"
            return self._unverifiable(
                base,
                f"{number.text!r} is about {about}, not the value of {attribute_span.text!r} "
                "(bucket statistics, counts and rates are not checked yet)",
            )
        negation = _NEGATION.search(unit.text, 0, number.start)
        if negation is not None and "not" not in comparison.phrase.lower():
            return self._unverifiable(
                base, f"negated claims ({negation.group()!r} before {number.text!r}) are not checked yet"
            )
        column, why = self._column(attribute_span)
        if column is None:
            return self._unverifiable(base, why)
        base = _with(base, attribute=column)
        if comparison.op in ("eq", "ne"):
            return self._per_run_value(base, spans, comparison, attribute_span, column)
        return self._comparison(base, spans, comparison, column)

    def _column(self, span: EntitySpan) -> tuple[str | None, str]:
        column = span.target[0]
        if span.kind == "metric" and span.modifiers:
            modifier = span.modifiers[0]
            if modifier not in _MODIFIER_STATS:
                return None, f"the {modifier!r} statistic of {column} is not checked yet"
            column = column + _MODIFIER_STATS[modifier]
        if column not in self.columns:
            return None, f"the FactSheet has no column {column!r}"
        return column, ""

    def _value(self, run: str, column: str) -> float | None:
        if run not in self.run_ids:
            return None
        raw = self.facts.run_value(run, column)
        if isinstance(raw, bool):
            return float(raw)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            return None
        return value

    # family 1 --------------------------------------------------------------------------------------------
    def _per_run_value(
        self,
        claim: Claim,
        spans: list[EntitySpan],
        comparison: Comparison,
        attribute_span: EntitySpan,
        column: str,
    ) -> Verdict:
        number = claim.number
        mention = _nearest_before(spans, number.start, _RUN_KINDS) or _nearest_after(
            spans, number.end, _RUN_KINDS
        )
        runs: tuple[str, ...] = mention.target if mention is not None else ()
        if not runs and claim.unit.kind == "table_cell":
            row = [s for s in self._resolve(claim.unit.row_label) if s.kind in _RUN_KINDS]
            if row:
                mention, runs = row[0], row[0].target
        if not runs:
            return self._unverifiable(
                claim, f"no run is named for {attribute_span.text!r} = {number.text} in this sentence"
            )
        claim = _with(claim, runs=runs)
        checked: list[tuple[str, float]] = []
        for run in runs:
            value = self._value(run, column)
            if value is None:
                return self._unverifiable(claim, f"{_run_label(run, mention)} has no numeric {column}")
            checked.append((run, value))
        for run, value in checked:
            if not comparison.holds(value):
                label = _run_label(run, mention)
                if comparison.op == "ne":
                    message = f"{label}'s {describe_failure(column, value, comparison)}"
                    fix = None
                else:
                    message = f"{label}'s {column} is {_show(value, number)}, not {number.text}"
                    fix = _value_fix(value, comparison)
                return self._verdict(claim, "contradicted", VALUE_MISMATCH, message, value, fix)
        run, value = checked[0]
        names = ", ".join(_run_label(r, mention) for r, _ in checked)
        message = f"{names}: {column} = {_show(value, number)}, stated as {number.text}"
        return self._verdict(claim, "supported", SUPPORTED_VALUE, message, value, None)

    # family 2 --------------------------------------------------------------------------------------------
    def _covered_runs(self, claim: Claim, spans: list[EntitySpan]) -> tuple[tuple[str, ...], str]:
        own = _runs_of(spans)
        if own:
            return own, "named in the sentence"
        block = self.ctx.block_runs.get(claim.unit.block, ())
        if block:
            return block, "named in the paragraph"
        selected = self._selected(spans)
        if selected is not None:
            return selected, "selected by the sentence's other entities"
        if claim.unit.kind != "heading":
            return (), ""
        section = self.ctx.section_runs.get(self.ctx.sections[claim.unit_index], ())
        return section, "named in the section"

    def _selected(self, spans: list[EntitySpan]) -> tuple[str, ...] | None:
        runs = self.facts.runs
        mask: pd.Series | None = None
        for s in spans:
            if s.kind not in _SELECTOR_KINDS:
                continue
            if s.kind == "issue":
                col = f"issue.{s.target[0]}"
                if col not in self.columns:
                    continue
                m = runs[col].fillna(False).astype(bool)
            elif s.kind == "state":
                m = runs["state"].astype(str) == s.target[0]
            else:
                param, level = s.target
                if param not in self.columns:
                    continue
                m = runs[param].astype(str).str.lower() == level.lower()
            mask = m if mask is None else mask & m
        if mask is None:
            return None
        return tuple(str(r) for r in runs.index[mask.to_numpy()])

    def _comparison(
        self, claim: Claim, spans: list[EntitySpan], comparison: Comparison, column: str
    ) -> Verdict:
        claim = _with(claim, start=comparison.start, end=comparison.end)
        runs, source = self._covered_runs(claim, spans)
        if not runs:
            return self._unverifiable(
                claim,
                f"the comparison {claim.text!r} on {column} covers no run named or selected here "
                "(trend claims are not checked yet)",
            )
        claim = _with(claim, runs=runs)
        checked: list[float] = []
        for run in runs:
            value = self._value(run, column)
            if value is None:
                return self._unverifiable(claim, f"run {run} has no numeric {column}")
            checked.append(value)
        for value in checked:
            if not comparison.holds(value):
                message = describe_failure(column, value, comparison)
                fix = suggest_fix(value, comparison)
                return self._verdict(claim, "contradicted", COMPARISON_FALSE, message, value, fix)
        message = f"{column} {claim.text} holds for runs {', '.join(runs)} ({source})"
        return self._verdict(claim, "supported", SUPPORTED_COMPARISON, message, None, None)

    # verdicts --------------------------------------------------------------------------------------------
    def _unverifiable(self, claim: Claim, why: str) -> Verdict:
        return self._verdict(claim, "unverifiable", UNRESOLVED, why, None, None)

    @staticmethod
    def _verdict(
        claim: Claim,
        verdict: VerdictKind,
        code: str,
        message: str,
        expected: float | None,
        fix: str | None,
    ) -> Verdict:
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


# -- helpers ---------------------------------------------------------------------------------------------


def _with(claim: Claim, **changes: object) -> Claim:
    return replace(claim, **changes)  # type: ignore[arg-type]


def _inside_entity(number: NumberSpan, spans: list[EntitySpan]) -> bool:
    return any(s.start <= number.start and number.end <= s.end for s in spans)


def _nearest_before(spans: list[EntitySpan], offset: int, kinds: frozenset[str]) -> EntitySpan | None:
    found = None
    for s in spans:
        if s.end > offset:
            break
        if s.kind in kinds:
            found = s
    return found


def _nearest_after(spans: list[EntitySpan], offset: int, kinds: frozenset[str]) -> EntitySpan | None:
    return next((s for s in spans if s.start >= offset and s.kind in kinds), None)


def _value_fix(actual: float, comparison: Comparison) -> str | None:
    """The correct value at the stated precision, replacing just the number (no equality word); a finer
    precision when the stated one would round a non-zero fact to zero ("0.001" for 0.0001 gives "0.0001")."""
    if suggest_fix(actual, comparison) is None:
        return None
    stated = comparison.stated
    shown = actual * 100 if stated.is_percent else actual
    precision = stated.precision * (100 if stated.is_percent else 1)
    coarse = precision > abs(shown) or (precision == 0 and not float(shown).is_integer())
    if shown != 0 and math.isfinite(shown) and coarse:
        precision = 10.0 ** (math.floor(math.log10(abs(shown))) - (2 if precision == 0 else 0))
    return render_number(shown, precision) + ("%" if stated.is_percent else "")
