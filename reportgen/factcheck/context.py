"""What every claim family reads: the draft's units with their entities (``Draft``) and the FactSheet seen
through the entities a sentence can name (``Sheet``).

``Draft`` resolves each unit's entities once and records the runs named per block (a paragraph, list item
or table) and per section, because a sentence often leans on runs named by its neighbours ("Both had NaN
loss"). ``Sheet`` turns entities into run selections (an issue type selects its flagged runs, a state its
runs, a group its level, a bucket the runs whose param lies in the interval) so every family counts the
same runs the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reportgen.factcheck.entities import EntitySpan, Vocabulary, resolve_entities
from reportgen.factcheck.markdown import Unit
from reportgen.factcheck.numbers import NumberSpan
from reportgen.facts import FactSheet
from reportgen.states import FAILED_STATES

ATTRIBUTE_KINDS = frozenset({"param", "metric", "ratio"})
RUN_KINDS = frozenset({"run", "run_group"})
SELECTOR_KINDS = frozenset({"issue", "state", "group", "bucket"})


_NEGATED_BEFORE = re.compile(r"(?i)(?:\b(?:not|never|no|without|nor)|n't)\s+(?:\w+\s+)?$")


def negated(text: str, span: EntitySpan) -> bool:
    """True when a negation sits right before the entity ("never diverged", "did not crash", "no NaN")."""
    return _NEGATED_BEFORE.search(text, max(0, span.start - 24), span.start) is not None


def runs_of(spans: Iterable[EntitySpan]) -> tuple[str, ...]:
    """The run ids named by run and run-group mentions, first mention first, without repeats."""
    seen: dict[str, None] = {}
    for s in spans:
        if s.kind in RUN_KINDS:
            seen.update(dict.fromkeys(s.target))
    return tuple(seen)


@dataclass(slots=True)
class Draft:
    """Per-unit entities, plus the runs named per block and per section (computed once per draft)."""

    units: list[Unit]
    entities: list[list[EntitySpan]]
    sections: list[int]
    block_runs: dict[int, tuple[str, ...]]
    section_runs: dict[int, tuple[str, ...]]

    @classmethod
    def build(cls, units: list[Unit], vocab: Vocabulary) -> Draft:
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
            runs = dict.fromkeys(runs_of(spans))
            block_runs.setdefault(unit.block, {}).update(runs)
            section_runs.setdefault(section, {}).update(runs)
        return cls(
            units,
            entities,
            sections,
            {k: tuple(v) for k, v in block_runs.items()},
            {k: tuple(v) for k, v in section_runs.items()},
        )


class Sheet:
    """The FactSheet as the checker asks it: values per run, run selections per entity, cached headers."""

    def __init__(self, facts: FactSheet, vocab: Vocabulary) -> None:
        self.facts = facts
        self.vocab = vocab
        self.runs = facts.runs
        self.columns = set(facts.runs.columns)
        self.index = pd.Index(facts.runs.index.astype(str))
        self._ids = np.asarray(self.index, dtype=object)
        self.position = {run: i for i, run in enumerate(self._ids)}
        self.issue_columns = [f"issue.{n}" for n in facts.issue_names if n != "any"]
        self.run_ids = set(self.position)
        self.states = np.asarray(facts.runs["state"].astype(str), dtype=object)
        self._cell_cache: dict[str, list[EntitySpan]] = {}  # "text\0context" -> entities
        # results of costly computations shared by the claims of a draft (columns, selections, a trend's
        # permutation test)
        self.memo: dict[tuple[object, ...], object] = {}

    def resolve(self, text: str | None, context: str | None = None) -> list[EntitySpan]:
        """Entities of a table header or row label, resolved once per distinct text; ``context`` (the
        table's heading) attaches a bucket label such as ``(7.999, 48.0]`` to the param it names."""
        if not text:
            return []
        key = f"{text}\x00{context or ''}"
        found = self._cell_cache.get(key)
        if found is None:
            found = self._cell_cache[key] = resolve_entities(text, self.vocab, context=context)
        return found

    def _column(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """A column as float64 and where a cell holds something that is not a number (cached)."""
        key = ("column", column)
        found = self.memo.get(key)
        if found is None:
            raw = self.runs[column]
            if raw.dtype == object or isinstance(raw.dtype, pd.CategoricalDtype | pd.StringDtype):
                values = pd.to_numeric(raw.astype(object), errors="coerce").astype("float64").to_numpy()
            else:
                values = pd.to_numeric(raw, errors="coerce").astype("float64").to_numpy()
            text = raw.notna().to_numpy() & np.isnan(values)
            found = self.memo[key] = (values, text)
        return found  # type: ignore[return-value]

    def is_categorical(self, column: str) -> bool:
        """True when the column holds text levels (an architecture, an optimizer), not numbers."""
        return column in self.columns and bool(self._column(column)[1].any())

    def row_runs(self, unit: Unit) -> list[EntitySpan]:
        """The run(s) a table row is about: run mentions in its first cell, or a first cell that is exactly
        a run id ("| 5 | 0.005 |" under "| trial | lr |")."""
        label = (unit.row_label or "").strip()
        found = [s for s in self.resolve(label, unit.section) if s.kind in RUN_KINDS]
        if not found and label in self.position:
            found = [EntitySpan("run", (label,), 0, len(label), label, "exact")]
        return found

    def value(self, run: str, column: str) -> float | None:
        """A run's numeric fact (NaN when logged as NaN or not logged), or None when the run or column is
        missing or the cell holds text."""
        at = self.position.get(run)
        if at is None or column not in self.columns:
            return None
        values, text = self._column(column)
        return None if text[at] else float(values[at])

    def values_at(self, runs: Sequence[str], column: str) -> tuple[np.ndarray, str | None]:
        """Several runs' facts at once, or (empty, the first run without a numeric fact)."""
        positions = self.index.get_indexer(list(runs))
        if column not in self.columns:
            return np.empty(0), runs[0] if runs else None
        values, text = self._column(column)
        bad = (positions < 0) | text[np.maximum(positions, 0)]
        if bad.any():
            return np.empty(0), runs[int(np.argmax(bad))]
        return values[positions], None

    def numeric(self, column: str) -> pd.Series:
        """A column as float64 (non-numeric cells NaN), indexed by run id."""
        return pd.Series(self._column(column)[0], index=self.index)

    def issue_flags(self, name: str) -> pd.Series | None:
        """The boolean flag column of an issue type (``any``: any issue), or None when it is not tracked."""
        col = f"issue.{name}"
        if col not in self.columns:
            return None
        key = ("flags", col)
        if key not in self.memo:
            self.memo[key] = self.runs[col].fillna(False).astype(bool).to_numpy()
        return pd.Series(self.memo[key], index=self.index)

    def mask(self, span: EntitySpan) -> pd.Series | None:
        """The runs an entity selects, as a boolean Series, or None when it selects nothing checkable."""
        return self.selection(span.kind, span.target, span.interval)

    def selection(
        self,
        kind: str,
        target: tuple[str, ...],
        interval: tuple[float, float, str] | None = None,
        exact: bool = False,
    ) -> pd.Series | None:
        """The runs selected by an entity of ``kind`` and ``target`` (see ``EntitySpan``), or None;
        ``exact``: a state means that state only (a table row), not its family ("failed" in prose)."""
        key = ("selection", kind, target, interval, exact)
        if key not in self.memo:
            self.memo[key] = self._selection(kind, target, interval, exact)
        found = self.memo[key]
        return None if found is None else found.copy()  # type: ignore[attr-defined]

    def _selection(
        self, kind: str, target: tuple[str, ...], interval: tuple[float, float, str] | None, exact: bool
    ) -> pd.Series | None:
        runs = self.runs
        if kind == "issue":
            return self.issue_flags(target[0])
        if kind == "state":
            state = target[0]
            states = self.states
            # "failed" in prose is any failure (crashed, failed, killed); a table row names the exact state
            wanted = FAILED_STATES if state == "failed" and not exact else (state,)
            return pd.Series(np.isin(states, wanted), index=self.index)
        if kind == "group":
            param, level = target
            if param not in self.columns:
                return None
            hit = runs[param].astype(str).str.lower().to_numpy() == level.lower()
            return pd.Series(hit, index=self.index)
        if kind == "bucket" and interval is not None and target[0]:
            param = target[0]
            if param not in self.columns:
                return None
            values = self.numeric(param)
            lo, hi, closed = interval
            left = values >= lo if closed in ("left", "both") else values > lo
            right = values <= hi if closed in ("right", "both") else values < hi
            return left & right
        if kind in RUN_KINDS:
            return pd.Series(self.index.isin(list(target)), index=self.index)
        return None

    def select(
        self, spans: Iterable[EntitySpan], exact: bool = False, kinds: frozenset[str] = SELECTOR_KINDS
    ) -> pd.Series | None:
        """The runs every entity of ``kinds`` in ``spans`` selects (intersection), or None if there is none;
        ``exact`` as in ``selection`` (a table row names a state exactly)."""
        out: pd.Series | None = None
        for s in spans:
            if s.kind not in kinds:
                continue
            m = self.selection(s.kind, s.target, s.interval, exact)
            if m is not None:
                out = m if out is None else out & m
        return out

    def ids(self, mask: pd.Series) -> list[str]:
        """The run ids where ``mask`` is True, in FactSheet order."""
        return self._ids[mask.to_numpy(dtype=bool)].tolist()  # type: ignore[no-any-return]


# -- spans ---------------------------------------------------------------------------------------------


def inside_entity(number: NumberSpan, spans: list[EntitySpan]) -> bool:
    return any(s.start <= number.start and number.end <= s.end for s in spans)


def nearest_before(spans: list[EntitySpan], offset: int, kinds: frozenset[str]) -> EntitySpan | None:
    found = None
    for s in spans:
        if s.end > offset:
            break
        if s.kind in kinds:
            found = s
    return found


def nearest_after(spans: list[EntitySpan], offset: int, kinds: frozenset[str]) -> EntitySpan | None:
    return next((s for s in spans if s.start >= offset and s.kind in kinds), None)
