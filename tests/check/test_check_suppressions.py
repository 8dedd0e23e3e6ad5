"""``check_draft``: diagnostics from verdicts, and the scope of ``<!-- reportgen: ignore -->`` directives."""

from __future__ import annotations

import pytest

from reportgen.factcheck.diagnostics import CheckResult, Diagnostic, check_draft, split_code
from reportgen.factcheck.entities import Vocabulary
from reportgen.facts import FactSheet
from tests.conftest import fact_sheet

# seed000: trial 4 has lr 0.02 and batch_size 32, trial 0 lr 0.001, trial 3 a val/train loss ratio of 5.33
WRONG_LR = "Trial 4 used a learning rate of 0.03."  # FCT002, contradicted
RIGHT_LR = "Trial 0 used a learning rate of 0.001."  # FCT001, supported
STEPS = "A learning rate of 0.01 is a good default."  # FCT010, unverifiable


@pytest.fixture
def sheet() -> tuple[FactSheet, Vocabulary]:
    return fact_sheet("seed000")  # type: ignore[no-any-return]


def check(markdown: str, sheet: tuple[FactSheet, Vocabulary]) -> CheckResult:
    return check_draft(markdown, *sheet, path="draft.md")


def by_line(result: CheckResult) -> dict[int, list[Diagnostic]]:
    out: dict[int, list[Diagnostic]] = {}
    for d in result.diagnostics:
        out.setdefault(d.line, []).append(d)
    return out


def codes(result: CheckResult) -> list[tuple[int, str, bool]]:
    return [(d.line, d.code, d.suppressed) for d in result.diagnostics if d.verdict != "supported"]


def test_split_code() -> None:
    assert split_code("FCT003 comparison-false") == ("FCT003", "comparison-false")
    assert split_code("FCT999") == ("FCT999", "")


def test_verdicts_become_diagnostics_with_severity_and_fix(sheet) -> None:
    result = check(f"{WRONG_LR}\n\n{RIGHT_LR}\n\n{STEPS}\n", sheet)
    wrong, right, steps = result.diagnostics
    assert (wrong.code, wrong.name, wrong.severity, wrong.verdict) == (
        "FCT002",
        "value-mismatch",
        "error",
        "contradicted",
    )
    assert wrong.fix is not None and (wrong.fix.replacement, wrong.fix.applicability) == ("0.02", "suggested")
    assert result.source(wrong) == "0.03" and wrong.expected == 0.02
    assert (right.severity, right.verdict, right.fix) == ("info", "supported", None)
    assert (steps.severity, steps.verdict) == ("warning", "unverifiable")
    assert (result.summary.contradicted, result.summary.supported, result.summary.unverifiable) == (1, 1, 1)
    assert result.failures("contradicted") == 1 and result.failures("unverifiable") == 2


def test_trailing_ignore_covers_its_line_only(sheet) -> None:
    md = f"{WRONG_LR} <!-- reportgen: ignore FCT002 -->\n{STEPS}\n\n{WRONG_LR}\n"
    result = check(md, sheet)
    assert codes(result) == [(1, "FCT002", True), (2, "FCT010", False), (4, "FCT002", False)]
    assert result.summary.suppressed == 1 and result.summary.contradicted == 1
    assert result.failures("contradicted") == 1


def test_own_line_ignore_covers_the_whole_next_block(sheet) -> None:
    md = f"<!-- reportgen: ignore FCT002 -->\n{WRONG_LR} {WRONG_LR}\n{WRONG_LR}\n\n{WRONG_LR}\n"
    result = check(md, sheet)
    assert codes(result) == [
        (2, "FCT002", True),
        (2, "FCT002", True),
        (3, "FCT002", True),
        (5, "FCT002", False),
    ]


def test_own_line_ignore_reaches_across_blank_lines_and_stacked_directives(sheet) -> None:
    md = f"<!-- reportgen: ignore FCT002 -->\n<!-- reportgen: ignore FCT010 -->\n\n{WRONG_LR} {STEPS}\n"
    result = check(md, sheet)
    assert codes(result) == [(4, "FCT002", True), (4, "FCT010", True)]
    assert result.meta == ()


def test_bare_ignore_covers_every_code(sheet) -> None:
    result = check(f"{WRONG_LR} {STEPS} {RIGHT_LR} <!-- reportgen: ignore -->\n", sheet)
    assert codes(result) == [(1, "FCT002", True), (1, "FCT010", True)]
    supported = [d for d in result.diagnostics if d.verdict == "supported"]
    assert [d.suppressed for d in supported] == [False]  # nothing to silence in a supported claim
    assert result.summary.suppressed == 2 and result.failures("unverifiable") == 0


def test_unused_ignore_is_reported_with_a_fix_that_removes_it(sheet) -> None:
    md = f"<!-- reportgen: ignore FCT003 -->\n{WRONG_LR}\n"
    result = check(md, sheet)
    [unused] = result.meta
    assert (unused.code, unused.name, unused.severity, unused.verdict) == (
        "FCT090",
        "unused-suppression",
        "warning",
        None,
    )
    assert (unused.line, unused.column, unused.end_line, unused.end_column) == (1, 1, 1, 34)
    assert unused.text == "<!-- reportgen: ignore FCT003 -->"
    assert unused.fix is not None and unused.fix.replacement == ""
    assert "FCT003" in unused.message and "block at line 2" in unused.message
    assert codes(result)[-1] == (2, "FCT002", False)


def test_partly_used_ignore_keeps_the_used_codes(sheet) -> None:
    result = check(f"{WRONG_LR} <!-- reportgen: ignore FCT002, FCT003 -->\n", sheet)
    [unused] = result.meta
    assert "(FCT003)" in unused.message and "on this line" in unused.message
    assert unused.fix is not None and unused.fix.replacement == "<!-- reportgen: ignore FCT002 -->"
    assert result.source(unused) == "<!-- reportgen: ignore FCT002, FCT003 -->"


def test_ignoring_a_supported_claim_is_unused(sheet) -> None:
    result = check(f"{RIGHT_LR} <!-- reportgen: ignore FCT001 -->\n", sheet)
    assert [d.code for d in result.meta] == ["FCT090"]
    result = check(f"{RIGHT_LR} <!-- reportgen: ignore -->\n", sheet)
    assert [d.code for d in result.meta] == ["FCT090"] and "every code" in result.meta[0].message


def test_ignore_with_nothing_below_is_unused(sheet) -> None:
    result = check(f"{WRONG_LR}\n\n<!-- reportgen: ignore FCT002 -->\n", sheet)
    [unused] = result.meta
    assert unused.line == 3 and "below it" in unused.message
    assert codes(result)[0] == (1, "FCT002", False)


def test_invalid_directive_is_reported_and_suppresses_nothing(sheet) -> None:
    result = check(f"<!-- reportgen: ignore FCT0x -->\n{WRONG_LR}\n", sheet)
    assert codes(result) == [(1, "FCT091", False), (2, "FCT002", False)]
    assert result.meta[0].name == "invalid-directive" and result.meta[0].fix is None


def test_expect_directives_are_not_reported(sheet) -> None:
    result = check(f"<!-- expect: contradicted FCT002 -->\n{WRONG_LR}\n", sheet)
    assert result.meta == () and codes(result) == [(2, "FCT002", False)]


def test_trailing_ignore_on_a_table_row_covers_that_row(sheet) -> None:
    md = "| trial | lr |\n| --- | --- |\n| 4 | 0.03 | <!-- reportgen: ignore -->\n| 5 | 0.004 |\n"
    result = check(md, sheet)
    rows = by_line(result)
    assert rows[3] and all(d.suppressed for d in rows[3] if d.verdict != "supported")
    assert not any(d.suppressed for d in rows[4])


def test_diagnostics_in_source_order_with_crlf_and_bom(sheet) -> None:
    md = f"\ufeff{STEPS}\r\n\r\n<!-- reportgen: ignore FCT0x -->\r\n{WRONG_LR}\r\n"
    result = check(md, sheet)
    assert [(d.line, d.code) for d in result.diagnostics] == [(1, "FCT010"), (3, "FCT091"), (4, "FCT002")]
    assert result.source(result.diagnostics[0]) == "0.01"
    assert result.source(result.diagnostics[-1]) == "0.03"
