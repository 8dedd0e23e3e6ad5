"""What ``reportgen check`` reports: one ``Diagnostic`` per checked claim or directive problem, per draft.

``check_draft`` splits a draft once, verifies its claims (``verify.check_units``), applies the draft's inline
suppressions and returns a ``CheckResult``: the diagnostics in source order and a summary. It prints
nothing and never exits; formatting lives in ``reportgen/render/check_*.py``.

Severity follows the verdict: ``error`` for a contradicted claim, ``warning`` for an unverifiable one,
``info`` for a supported one. A fix always replaces exactly the source text of the diagnostic's span and is
only ever ``suggested``: the checker never rewrites a draft.

**Suppressions.** ``<!-- reportgen: ignore FCT002, FCT003 -->`` ignores contradicted or unverifiable claims
of those codes; a bare ``<!-- reportgen: ignore -->`` ignores every code. Where it applies:

- *On a line with text* (trailing a sentence, a heading, a table row, or leading it): every sentence, heading
  or table cell that touches that line, like a ``# noqa`` comment.
- *On a line of its own*: the next block below it, across blank lines and other comments: a whole
  paragraph, heading, list item or table. Directives can be stacked on consecutive lines. In a list, each
  item is its own block, so a comment above a list covers its first item only.

A suppressed claim keeps its verdict and is marked ``suppressed``: it is listed by the JSON and SARIF
formats, counted as suppressed, and never fails the check. Supported claims are never suppressed (there is
nothing to silence). ``<!-- expect: ... -->`` comments are test expectations; ``check`` ignores them.

Two codes belong to the checker itself (warnings, positioned at the comment; they never change the exit
status):

- ``FCT090 unused-suppression``: an ``ignore`` directive (or one of its codes) silenced nothing; its fix
  removes the comment, or drops the unused codes from it.
- ``FCT091 invalid-directive``: a ``reportgen:`` or ``expect:`` comment that does not parse (e.g.
  ``ignore FCT0x``); it suppresses nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Literal

from reportgen.factcheck.claims import Verdict, VerdictKind
from reportgen.factcheck.entities import Vocabulary
from reportgen.factcheck.markdown import Directive, SplitDraft, Unit, split
from reportgen.factcheck.verify import check_units
from reportgen.facts import FactSheet

Severity = Literal["error", "warning", "info"]
FailOn = Literal["contradicted", "unverifiable"]

UNUSED_SUPPRESSION = "FCT090 unused-suppression"
INVALID_DIRECTIVE = "FCT091 invalid-directive"
META_DESCRIPTIONS = {
    UNUSED_SUPPRESSION: "A reportgen: ignore directive that suppressed no claim.",
    INVALID_DIRECTIVE: "A reportgen: or expect: comment that does not parse.",
}

SEVERITY: dict[VerdictKind, Severity] = {
    "contradicted": "error",
    "unverifiable": "warning",
    "supported": "info",
}
# --fail-on X fails on X and every verdict worse than X
_FAILING: dict[FailOn, frozenset[VerdictKind]] = {
    "contradicted": frozenset({"contradicted"}),
    "unverifiable": frozenset({"contradicted", "unverifiable"}),
}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_code(code: str) -> tuple[str, str]:
    """``"FCT003 comparison-false"`` -> ``("FCT003", "comparison-false")`` (name ``""`` when absent)."""
    number, _, name = code.partition(" ")
    return number, name.strip()


@dataclass(frozen=True, slots=True)
class Fix:
    """Replace the diagnostic's span with ``replacement``; ``suggested``: shown, never applied."""

    replacement: str
    applicability: Literal["suggested"] = "suggested"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One check result at a 1-based span (``end_column`` exclusive; columns count code points).

    ``verdict`` is None for the checker's own diagnostics (FCT090, FCT091). ``expected`` is the fact that
    decided a claim (may be NaN or inf), ``text`` the claim's text or the directive comment.
    """

    code: str
    name: str
    severity: Severity
    verdict: VerdictKind | None
    message: str
    line: int
    column: int
    end_line: int
    end_column: int
    text: str
    expected: float | None = None
    fix: Fix | None = None
    suppressed: bool = False


@dataclass(frozen=True, slots=True)
class Summary:
    """Claims per verdict; suppressed claims count only under ``suppressed``."""

    supported: int = 0
    contradicted: int = 0
    unverifiable: int = 0
    suppressed: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def total(cls, results: Iterable[CheckResult]) -> Summary:
        """The summaries of several drafts added up."""
        sums = dict.fromkeys(cls.__dataclass_fields__, 0)
        for r in results:
            for key, n in r.summary.as_dict().items():
                sums[key] += n
        return cls(**sums)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Everything ``check`` found in one draft; ``lines`` is the draft's source (for showing spans)."""

    path: str
    lines: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...]
    summary: Summary

    @property
    def claims(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.verdict is not None)

    @property
    def meta(self) -> tuple[Diagnostic, ...]:
        """The checker's own diagnostics about directives."""
        return tuple(d for d in self.diagnostics if d.verdict is None)

    def failures(self, fail_on: FailOn) -> int:
        """Unsuppressed claims at or above ``fail_on`` (what makes ``check`` exit 1)."""
        failing = _FAILING[fail_on]
        return sum(1 for d in self.claims if d.verdict in failing and not d.suppressed)

    def source(self, d: Diagnostic) -> str:
        """The exact source text of ``d``'s span (what its fix replaces)."""
        return span_text(self.lines, d.line, d.column, d.end_line, d.end_column)


def span_text(lines: tuple[str, ...], line: int, column: int, end_line: int, end_column: int) -> str:
    """The source text between two 1-based positions (end exclusive), line breaks as ``\\n``."""
    if line == end_line:
        return lines[line - 1][column - 1 : end_column - 1]
    middle = lines[line : end_line - 1]
    return "\n".join([lines[line - 1][column - 1 :], *middle, lines[end_line - 1][: end_column - 1]])


def check_draft(markdown: str, facts: FactSheet, vocab: Vocabulary, path: str) -> CheckResult:
    """Check one draft against a sweep's facts and apply its suppressions (see the module docstring)."""
    draft = split(markdown)
    return diagnose(markdown, draft, check_units(draft.units, facts, vocab), path)


def diagnose(markdown: str, draft: SplitDraft, verdicts: list[Verdict], path: str) -> CheckResult:
    """Turn a draft's verdicts into diagnostics, applying its ``ignore`` directives."""
    lines = tuple(_LINE_BREAK.split(markdown.removeprefix("\ufeff")))
    suppressed: set[int] = set()  # indexes into verdicts
    meta: list[Diagnostic] = []
    for directive in draft.directives:
        if directive.kind == "invalid":
            meta.append(_invalid(directive, lines))
        elif directive.kind == "ignore":
            used = _apply_ignore(directive, draft.units, verdicts, suppressed)
            unused = _unused(directive, used)
            if unused is not None:
                meta.append(_unused_diagnostic(directive, unused, draft.units, lines))
    claims = [_from_verdict(v, i in suppressed) for i, v in enumerate(verdicts)]
    ordered = sorted([*claims, *meta], key=lambda d: (d.line, d.column, d.end_line, d.end_column))
    counts = {"supported": 0, "contradicted": 0, "unverifiable": 0}
    for d in claims:
        if d.verdict is not None and not d.suppressed:
            counts[d.verdict] += 1
    return CheckResult(path, lines, tuple(ordered), Summary(**counts, suppressed=len(suppressed)))


# -- suppressions --------------------------------------------------------------------------------------


def _target_units(directive: Directive, units: list[Unit]) -> tuple[set[int], str]:
    """Indexes of the units an ignore directive covers (those on its line, else the next block below)
    and where that is, in words."""
    on_line = {
        i for i, u in enumerate(units) if u.line <= directive.end_line and u.end_line >= directive.line
    }
    if on_line:
        return on_line, "on this line"
    below = next((u for u in units if u.line > directive.end_line), None)
    if below is None:
        return set(), "below it"
    return {i for i, u in enumerate(units) if u.block == below.block}, f"in the block at line {below.line}"


def _apply_ignore(
    directive: Directive, units: list[Unit], verdicts: list[Verdict], suppressed: set[int]
) -> set[str]:
    """Mark the verdicts the directive silences; return the codes it used."""
    targets, _ = _target_units(directive, units)
    used: set[str] = set()
    for i, v in enumerate(verdicts):
        if v.verdict == "supported" or v.claim.unit_index not in targets:
            continue
        code = split_code(v.code)[0]
        if not directive.codes or code in directive.codes:
            suppressed.add(i)
            used.add(code)
    return used


def _unused(directive: Directive, used: set[str]) -> tuple[str, ...] | None:
    """The directive's codes that silenced nothing (``()`` for a bare ignore); None when all were used."""
    if not directive.codes:
        return None if used else ()
    unused = tuple(dict.fromkeys(c for c in directive.codes if c not in used))
    return unused or None


def _unused_diagnostic(
    directive: Directive, unused: tuple[str, ...], units: list[Unit], lines: tuple[str, ...]
) -> Diagnostic:
    what = ", ".join(unused) if unused else "every code"
    kind = f"{', '.join(unused)} " if unused else ""
    message = (
        f"unused suppression ({what}): no contradicted or unverifiable {kind}claim "
        f"{_target_units(directive, units)[1]}"
    )
    kept = [c for c in dict.fromkeys(directive.codes) if c not in unused]
    replacement = f"<!-- reportgen: ignore {', '.join(kept)} -->" if kept else ""
    return _meta(UNUSED_SUPPRESSION, message, directive, lines, Fix(replacement))


def _invalid(directive: Directive, lines: tuple[str, ...]) -> Diagnostic:
    message = (
        f"invalid directive {directive.body!r}: expected 'reportgen: ignore [CODE, ...]' or "
        "'expect: supported|contradicted|unverifiable [CODE]'; it suppresses nothing"
    )
    return _meta(INVALID_DIRECTIVE, message, directive, lines, None)


def _meta(code: str, message: str, d: Directive, lines: tuple[str, ...], fix: Fix | None) -> Diagnostic:
    number, name = split_code(code)
    span = (d.line, d.column, d.end_line, d.end_column)
    return Diagnostic(number, name, "warning", None, message, *span, span_text(lines, *span), fix=fix)


def _from_verdict(v: Verdict, suppressed: bool) -> Diagnostic:
    number, name = split_code(v.code)
    return Diagnostic(
        code=number,
        name=name,
        severity=SEVERITY[v.verdict],
        verdict=v.verdict,
        message=v.message,
        line=v.line,
        column=v.column,
        end_line=v.end_line,
        end_column=v.end_column,
        text=v.text,
        expected=v.expected,
        fix=None if v.fix is None else Fix(v.fix),
        suppressed=suppressed,
    )
