"""Which runs have an issue or a state, as a table lists them (``FCT007``/``FCT008``).

A table cell under a header naming run ids ("Example Trial IDs", "Runs", "Trials", "IDs") in a row whose
label selects runs (an issue type, a state, a group) lists runs that should all be selected: in the seed
report, "overfitting_suspect | 2 | 3, 4" lists run 4, which the detectors did not flag for overfitting.
Each listed id gets its own verdict, so a fix or a suppression can point at it. Bare numbers in such a cell
are read as run ids when the sweep has runs with those ids; other ids ("r06", a hex id) when entity
resolution reads them as one run (``listed_names``).
"""

from __future__ import annotations

import re

from reportgen.factcheck.claims import (
    MEMBERSHIP_MISMATCH,
    SUPPORTED_MEMBERSHIP,
    Claim,
    Verdict,
    make_verdict,
    with_claim,
)
from reportgen.factcheck.context import SELECTOR_KINDS, Sheet
from reportgen.factcheck.entities import EntitySpan
from reportgen.factcheck.markdown import Unit
from reportgen.factcheck.wording import run_list

_ID_HEADERS = re.compile(r"(?i)\b(?:ids?|examples?|runs|trials|run|trial)\b")
_BARE_COUNT_HEADER = re.compile(r"(?i)^\s*(?:runs|trials)\s*$")
_ID_TOKEN = re.compile(r"[^\s,;()`*]+")
_COUNT_WORDS = re.compile(r"(?i)\b(?:count|number|n|rate|share)\b|#|%")


def _lists_ids(unit: Unit) -> bool:
    """A table cell under a header naming run ids (not a count or rate of them)."""
    if unit.kind != "table_cell" or not unit.table_header:
        return False
    return bool(_ID_HEADERS.search(unit.table_header)) and not _COUNT_WORDS.search(unit.table_header)


def listed_names(sheet: Sheet, index: int, unit: Unit, spans: list[EntitySpan]) -> list[Verdict]:
    """Membership verdicts on the run ids (not numbers: ``listed_run``) a run-id cell lists by name."""
    if not _lists_ids(unit) or (unit.row_label or "").strip() == unit.text.strip():
        return []
    listed = [(s.start, s.end, s.target[0]) for s in spans if s.kind == "run" and len(s.target) == 1]
    # ids too short to be entities in prose ("r1", "a") are ids in a cell under "Run IDs" when the sweep has
    # them (numbers are read by ``listed_run``)
    for m in _ID_TOKEN.finditer(unit.text):
        token = m.group()
        taken = any(s.start < m.end() and m.start() < s.end for s in spans)
        if not taken and not token.isdigit() and token in sheet.vocab.run_tokens:
            members = sheet.vocab.run_tokens[token]
            if len(members) == 1:
                listed.append((m.start(), m.end(), members[0]))
    out: list[Verdict] = []
    for start, end, run in sorted(listed):
        if unit.text[start:end].isdigit():
            continue
        claim = Claim(unit, index, start, end, None, None, None, None, (), tuple(spans))
        found = table_membership(sheet, claim, run)
        if found is not None:
            out.append(found)
    return out


def listed_run(sheet: Sheet, claim: Claim) -> str | None:
    """The run id a table cell's number stands for, when its header names run ids; else None."""
    unit, number = claim.unit, claim.number
    if number is None or not _lists_ids(unit) or unit.table_header is None:
        return None
    if _BARE_COUNT_HEADER.match(unit.table_header) and "," not in unit.text:
        return None  # a single number under "runs" counts them; a list under it names them
    if number.kind not in ("integer",) or not unit.text[number.start : number.end].isdigit():
        return None
    run = unit.text[number.start : number.end]
    return run if run in sheet.run_ids else None


def table_membership(sheet: Sheet, claim: Claim, run: str) -> Verdict | None:
    """Is ``run`` (listed in the cell) among the runs its row's label selects?"""
    row = [
        s
        for s in sheet.resolve(claim.unit.row_label, claim.unit.section)
        if s.kind in SELECTOR_KINDS and s.kind != "bucket"
    ]
    mask = sheet.select(row, exact=True)  # a state row means that state exactly, as the row's count does
    if mask is None:
        return None
    selected = sheet.ids(mask)
    label = row[0].text
    claim = with_claim(claim, attribute="runs", runs=(run,))
    if run in selected:
        return make_verdict(
            claim, "supported", SUPPORTED_MEMBERSHIP, f"run {run} has {label} ({run_list(selected)})"
        )
    message = f"run {run} does not have {label}: {label} covers {run_list(selected)}"
    return make_verdict(claim, "contradicted", MEMBERSHIP_MISMATCH, message)
