"""`reportgen check --format github`: GitHub Actions workflow commands, plus a job-summary table.

Each contradicted claim becomes an ``::error``, each unverifiable claim and directive warning a
``::warning`` (``file``, ``line``, ``col``, ``endLine``, ``endColumn``, ``title=CODE name``; the message
carries the suggested fix). Supported and suppressed claims are not annotated.

GitHub shows at most 10 annotations of each level per step and drops the rest silently, so annotations are
ranked (contradicted claims, then unverifiable ones, then directive warnings; within a rank in draft and
source order) and at most ``MAX_PER_LEVEL`` of each level are emitted. ``summary`` is a Markdown job summary
with the counts and a table of every error and warning, annotated or not; the CLI appends it to
``$GITHUB_STEP_SUMMARY``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reportgen.factcheck.diagnostics import CheckResult, Diagnostic, Summary

MAX_PER_LEVEL = 10
_RANK = {"contradicted": 0, "unverifiable": 1, None: 2}


@dataclass(frozen=True, slots=True)
class GithubOutput:
    """``annotations`` for stdout, ``summary`` Markdown for the job summary, ``omitted`` annotations cut."""

    annotations: str
    summary: str
    omitted: int


def escape_data(text: str) -> str:
    """Escape a workflow command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value (``file=``, ``title=``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _message(result: CheckResult, d: Diagnostic) -> str:
    if d.fix is None:
        return d.message
    if not d.fix.replacement:
        return f'{d.message} (fix: remove "{result.source(d)}")'
    return f'{d.message} (fix: replace "{result.source(d)}" with "{d.fix.replacement}")'


def _annotation(result: CheckResult, d: Diagnostic) -> str:
    level = "error" if d.verdict == "contradicted" else "warning"
    props = {
        "file": result.path,
        "line": str(d.line),
        "col": str(d.column),
        "endLine": str(d.end_line),
        "endColumn": str(d.end_column),
        "title": f"{d.code} {d.name}",
    }
    joined = ",".join(f"{k}={escape_property(v)}" for k, v in props.items())
    return f"::{level} {joined}::{escape_data(_message(result, d))}"


def _reported(results: Sequence[CheckResult]) -> list[tuple[CheckResult, Diagnostic]]:
    """Every error and warning, in draft and source order."""
    return [(r, d) for r in results for d in r.diagnostics if d.verdict != "supported" and not d.suppressed]


def render_github(results: Sequence[CheckResult]) -> GithubOutput:
    """Ranked, capped annotations and the job summary (see the module docstring)."""
    reported = _reported(results)
    ranked = sorted(reported, key=lambda rd: _RANK[rd[1].verdict])  # stable: keeps source order
    errors = [rd for rd in ranked if rd[1].verdict == "contradicted"]
    warnings = [rd for rd in ranked if rd[1].verdict != "contradicted"]
    emitted = errors[:MAX_PER_LEVEL] + warnings[:MAX_PER_LEVEL]
    annotations = "".join(_annotation(r, d) + "\n" for r, d in emitted)
    omitted = len(reported) - len(emitted)
    return GithubOutput(annotations, _summary(results, reported, omitted), omitted)


def _cell(text: str) -> str:
    """Text safe in a GitHub Markdown table cell: no line breaks, pipes escaped, no raw HTML."""
    flat = " ".join(text.split())
    return flat.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _summary(
    results: Sequence[CheckResult], reported: list[tuple[CheckResult, Diagnostic]], omitted: int
) -> str:
    total = Summary.total(results)
    meta = sum(len(r.meta) for r in results)
    lines = [
        "## reportgen check",
        "",
        "| drafts | contradicted | unverifiable | supported | suppressed | directive warnings |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {len(results)} | {total.contradicted} | {total.unverifiable} | {total.supported} "
        f"| {total.suppressed} | {meta} |",
        "",
    ]
    if not reported:
        lines.append("No contradicted or unverifiable claims.")
        return "\n".join(lines) + "\n"
    if omitted:
        lines += [
            f"{len(reported) - omitted} of {len(reported)} are annotated in the diff (GitHub shows at most "
            f"{MAX_PER_LEVEL} errors and {MAX_PER_LEVEL} warnings per step); all are listed here.",
            "",
        ]
    lines += ["| file | line | code | verdict | message | fix |", "| --- | ---: | --- | --- | --- | --- |"]
    for r, d in reported:
        fix = "" if d.fix is None else _cell(d.fix.replacement) or "(remove)"
        lines.append(
            f"| {_cell(r.path)} | {d.line} | {d.code} {d.name} | {d.verdict or d.severity} "
            f"| {_cell(d.message)} | {fix} |"
        )
    return "\n".join(lines) + "\n"
