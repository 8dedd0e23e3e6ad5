"""`full` and `concise` rendering details: carets under wide characters, multi-line spans, hidden claims."""

from __future__ import annotations

from reportgen.factcheck.diagnostics import CheckResult, Diagnostic, Fix, Summary
from reportgen.render.check_text import render_concise, render_full


def result(*diags: Diagnostic, lines: tuple[str, ...]) -> CheckResult:
    return CheckResult("r.md", lines, diags, Summary(contradicted=1, supported=1, suppressed=1))


def test_carets_account_for_wide_characters_and_tabs() -> None:
    d = Diagnostic(
        "FCT002", "value-mismatch", "error", "contradicted", "m", 1, 6, 1, 9, "0.3", 0.2, Fix("0.2")
    )
    out = render_full([result(d, lines=("学习\t率 0.3",))])
    assert "1 | 学习 率 0.3\n  |         ^^^\n" in out  # two columns per CJK character, one per tab


def test_multi_line_span_is_underlined_to_the_end_of_its_first_line() -> None:
    d = Diagnostic(
        "FCT003", "comparison-false", "error", "contradicted", "m", 1, 7, 2, 5, "above\n0.01", None
    )
    r = result(d, lines=("lr is above", "0.01 here"))
    out = render_full([r])
    assert "1 | lr is above\n  |       ^^^^^\n" in out
    assert r.source(d) == "above\n0.01"


def test_supported_and_suppressed_claims_are_hidden() -> None:
    shown = Diagnostic("FCT002", "value-mismatch", "error", "contradicted", "wrong", 1, 1, 1, 2, "1")
    supported = Diagnostic("FCT001", "supported-value", "info", "supported", "right", 2, 1, 2, 2, "2")
    silenced = Diagnostic(
        "FCT002", "value-mismatch", "error", "contradicted", "x", 3, 1, 3, 2, "3", suppressed=True
    )
    r = result(shown, supported, silenced, lines=("1", "2", "3"))
    assert render_concise([r]).splitlines()[:-1] == ["r.md:1:1: FCT002 wrong"]
    assert render_concise([r], show_supported=True).splitlines()[:-1] == [
        "r.md:1:1: FCT002 wrong",
        "r.md:2:1: FCT001 right",
    ]
    assert "FCT001" not in render_full([r]) and "r.md:2:1: FCT001 [supported] right" in render_full(
        [r], show_supported=True
    )
    assert render_full([r]).endswith(
        "1 draft, 3 claims: 1 contradicted, 0 unverifiable, 1 supported "
        "(hidden; --show-supported shows them), 1 suppressed\n"
    )
