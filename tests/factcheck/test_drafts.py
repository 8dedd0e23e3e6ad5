"""Markdown drafts with inline ``<!-- expect: VERDICT [CODE] -->`` expectations, one per claim family.

Each draft in ``tests/factcheck/drafts/`` names its sweep in its first heading ("(fixture: seed000)"). Every
expectation must be met by a verdict on its line, and no line without an expectation may hold a
contradicted claim, so a false alarm anywhere in a draft fails the test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reportgen.factcheck.markdown import find_directives
from reportgen.factcheck.verify import check_markdown
from tests.conftest import fact_sheet

DRAFTS = sorted((Path(__file__).parent / "drafts").glob("*.md"))
_FIXTURE = re.compile(r"\(fixture: (?P<name>[\w/.-]+)\)")


@pytest.mark.parametrize("draft", DRAFTS, ids=[d.stem for d in DRAFTS])
def test_draft_expectations(draft: Path) -> None:
    text = draft.read_text(encoding="utf-8")
    found = _FIXTURE.search(text.splitlines()[0])
    assert found, f"{draft.name}: the first heading must say (fixture: NAME)"
    verdicts = check_markdown(text, *fact_sheet(found["name"]))
    expectations = [d for d in find_directives(text) if d.kind == "expect"]
    assert expectations
    for d in expectations:
        here = [v for v in verdicts if v.line == d.line]
        want = [v for v in here if v.verdict == d.verdict and (not d.codes or v.code.split()[0] in d.codes)]
        assert want, (
            draft.name,
            d.line,
            d.verdict,
            d.codes,
            [(v.text, v.verdict, v.code, v.message) for v in here],
        )
    expected_lines = {d.line for d in expectations}
    stray = [
        (v.line, v.text, v.message)
        for v in verdicts
        if v.verdict == "contradicted" and v.line not in expected_lines
    ]
    assert not stray, (draft.name, stray)
