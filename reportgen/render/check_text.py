"""`reportgen check` for people: ``full`` (the default) and ``concise``.

``full`` is ruff/rustc-like: ``path:line:col: CODE [verdict] message``, the source line with a caret
underline under the claim, the suggested fix, and a summary footer. ``concise`` is one
``path:line:col: CODE message`` line per diagnostic, for editors and grep. Both hide supported claims unless
``show_supported`` and always hide suppressed ones (they are counted in the footer).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence

from reportgen.factcheck.diagnostics import CheckResult, Diagnostic, Summary


def _shown(result: CheckResult, show_supported: bool) -> Iterator[Diagnostic]:
    for d in result.diagnostics:
        if not d.suppressed and (show_supported or d.verdict != "supported"):
            yield d


def _label(d: Diagnostic) -> str:
    return d.verdict or d.severity


def _width(text: str) -> int:
    """Terminal columns of ``text``: East Asian wide and fullwidth characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _fix_line(result: CheckResult, d: Diagnostic) -> str | None:
    if d.fix is None:
        return None
    old = result.source(d).replace("\n", "\\n")
    if not d.fix.replacement:
        return f'fix: remove "{old}"'
    return f'fix: replace "{old}" with "{d.fix.replacement}"'


def _snippet(result: CheckResult, d: Diagnostic) -> list[str]:
    """The span's first source line with a caret underline (to the line's end for a multi-line span)."""
    number = str(d.line)
    pad = " " * len(number)
    source = result.lines[d.line - 1].replace("\t", " ")  # one column per tab keeps the carets aligned
    end = d.end_column - 1 if d.end_line == d.line else len(source)
    start = d.column - 1
    carets = "^" * max(1, _width(source[start:end]))
    return [
        f"{pad} |",
        f"{number} | {source}",
        f"{pad} | {' ' * _width(source[:start])}{carets}",
    ]


def render_full(results: Sequence[CheckResult], *, show_supported: bool = False) -> str:
    """Every shown diagnostic with its source line and fix, then a summary footer."""
    blocks: list[str] = []
    for result in results:
        for d in _shown(result, show_supported):
            lines = [f"{result.path}:{d.line}:{d.column}: {d.code} [{_label(d)}] {d.message}"]
            lines += _snippet(result, d)
            fix = _fix_line(result, d)
            if fix is not None:
                lines.append(f"{' ' * len(str(d.line))} = {fix}")
            blocks.append("\n".join(lines) + "\n")
    blocks.append(footer(results, show_supported=show_supported))
    return "\n".join(blocks)


def render_concise(results: Sequence[CheckResult], *, show_supported: bool = False) -> str:
    """One ``path:line:col: CODE message`` line per shown diagnostic, then the footer."""
    lines = [
        f"{result.path}:{d.line}:{d.column}: {d.code} {d.message}"
        for result in results
        for d in _shown(result, show_supported)
    ]
    return "".join(line + "\n" for line in lines) + footer(results, show_supported=show_supported)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def footer(results: Sequence[CheckResult], *, show_supported: bool) -> str:
    """Counts over every draft: ``1 draft, 9 claims: 2 contradicted, 4 unverifiable, 2 supported, ...``."""
    total = Summary.total(results)
    parts = [
        f"{total.contradicted} contradicted",
        f"{total.unverifiable} unverifiable",
        f"{total.supported} supported"
        + (" (hidden; --show-supported shows them)" if total.supported and not show_supported else ""),
        f"{total.suppressed} suppressed",
    ]
    claims = sum(total.as_dict().values())
    line = f"{_plural(len(results), 'draft')}, {_plural(claims, 'claim')}: {', '.join(parts)}"
    meta = sum(len(r.meta) for r in results)
    if meta:
        line += f"; {_plural(meta, 'directive warning')}"
    return line + "\n"
