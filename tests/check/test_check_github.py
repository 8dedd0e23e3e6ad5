"""`--format github`: escaping, the 10-per-level cap with ranking, and the job summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.cli.main import main
from reportgen.factcheck.claims import VerdictKind
from reportgen.factcheck.diagnostics import CheckResult, Diagnostic, Fix, Severity, Summary
from reportgen.render.check_github import escape_data, escape_property, render_github
from tests.conftest import FIXTURES

SEED = FIXTURES / "seed000"
SWEEP = ["--sweep", str(SEED / "runs.csv"), "--history", str(SEED / "history.csv")]


def test_escaping() -> None:
    assert escape_data("100% wrong\r\nline: a, b") == "100%25 wrong%0D%0Aline: a, b"
    assert escape_property("dir,x/a:b%.md\n") == "dir%2Cx/a%3Ab%25.md%0A"


def test_annotation_properties_and_message_are_escaped() -> None:
    d = Diagnostic(
        "FCT002",
        "value-mismatch",
        "error",
        "contradicted",
        "50% off\nnext",
        1,
        3,
        1,
        5,
        "ab",
        1.0,
        Fix("x|y"),
    )
    result = CheckResult("a,b:c.md", ("a ab | c",), (d,), Summary(contradicted=1))
    out = render_github([result])
    assert out.annotations == (
        "::error file=a%2Cb%3Ac.md,line=1,col=3,endLine=1,endColumn=5,title=FCT002 value-mismatch::"
        '50%25 off%0Anext (fix: replace "ab" with "x|y")\n'
    )
    assert "| a,b:c.md | 1 | FCT002 value-mismatch | contradicted | 50% off next | x\\|y |" in out.summary
    assert out.omitted == 0


def _many(tmp_path: Path) -> str:
    """12 contradicted claims, 12 unverifiable ones and 2 directive warnings, interleaved."""
    lines = []
    for i in range(12):
        lines += [
            f"Trial 4 used a learning rate of 0.0{i + 3}.",
            "",
            f"A learning rate of {i + 40}e-4 is a good default.",
            "",
        ]
    lines += ["<!-- reportgen: ignore FCT003 -->", "Trial 0 used a learning rate of 0.001.", ""]
    lines += ["<!-- reportgen: ignore FCT0x -->", ""]
    path = tmp_path / "many.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return str(path)


def test_cap_ranks_and_summarises_everything(tmp_path: Path, capsys, monkeypatch) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["check", _many(tmp_path), *SWEEP, "--format", "github"]) == 1
    captured = capsys.readouterr()
    annotations = captured.out.splitlines()
    errors = [a for a in annotations if a.startswith("::error ")]
    warnings = [a for a in annotations if a.startswith("::warning ")]
    assert len(errors) == 10 and len(warnings) == 10 and len(annotations) == 20
    assert annotations[:10] == errors  # errors first
    assert ",line=1," in errors[0] and ",line=37," in errors[-1]  # the first ten in source order
    assert all("FCT010" in w for w in warnings)  # unverifiable claims outrank directive warnings
    assert captured.err == ""
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n## reportgen check\n")  # appended, not overwritten
    assert "| 1 | 12 | 12 | 1 | 0 | 2 |" in text
    assert "20 of 26 are annotated" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and ".md |" in line]
    assert len(rows) == 26
    assert any("FCT091 invalid-directive" in r for r in rows) and any("FCT090" in r for r in rows)


def test_without_a_step_summary_stderr_says_what_was_left_out(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert main(["check", _many(tmp_path), *SWEEP, "--format", "github", "--exit-zero"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("reportgen: 6 annotations left out") and err.count("\n") == 1


def test_clean_summary(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "ok.md"
    path.write_text("Trial 0 used a learning rate of 0.001.\n", encoding="utf-8")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["check", str(path), *SWEEP, "--format", "github"]) == 0
    assert summary.read_text(encoding="utf-8").endswith("No contradicted or unverifiable claims.\n")


@pytest.mark.parametrize(("level", "verdict"), [("error", "contradicted"), ("warning", "unverifiable")])
def test_renderer_caps_each_level_independently(level: Severity, verdict: VerdictKind) -> None:
    diags = tuple(
        Diagnostic("FCT002", "x", level, verdict, f"m{i}", i + 1, 1, i + 1, 2, "1") for i in range(15)
    )
    result = CheckResult("d.md", tuple("1" for _ in range(15)), diags, Summary())
    out = render_github([result])
    assert out.annotations.count(f"::{level} ") == 10 and out.omitted == 5
    assert "::m10\n" not in out.annotations and "::m9\n" in out.annotations
