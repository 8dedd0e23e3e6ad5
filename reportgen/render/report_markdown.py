"""A ``Report`` as Markdown: sections with their prose, tables and notes, recommendations, the next sweep
and an appendix. Pure: returns the text.

Citations are rendered as links to the findings appendix (``[NAN001-83aff41e25](#findings)``); a finding
id is an identifier, so the fact-checker reads no number in it. Each table gets a ``####`` heading naming
it, so a bucket label in its first column attaches to the param the heading names when ``reportgen check``
reads the report back. Figures are drawn only in the HTML report. Sweep data in cells is escaped so it
cannot break a table (``|``, line breaks) or inject HTML (``<``, ``>``, ``&``), links (``[``, ``]``) or code
spans; prose keeps its emphasis and code spans but loses line breaks, raw HTML and link syntax, so a run
named ``[x](javascript:...)`` or ``a\n## heading`` stays text. Code blocks get a fence longer than any
backtick run they hold, so a param named with backticks cannot close one.
"""

from __future__ import annotations

import json
import re

from reportgen.render.report_format import format_cell
from reportgen.report.model import Paragraph, Report, Table

_INLINE = {
    **{c: "\\" + c for c in "\\[]"},
    **{c: " " for c in "\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029"},  # every break str.splitlines knows
    **{"<": "&lt;", ">": "&gt;", "&": "&amp;"},
}
_INLINE_ESCAPES = str.maketrans(_INLINE)
_CELL_ESCAPES = str.maketrans({**_INLINE, "|": "\\|", "`": "\\`"})


def cell_text(text: str) -> str:
    """Text safe inside a Markdown table cell: one line, no cell separator, HTML, link or code span."""
    return text.translate(_CELL_ESCAPES)


def inline(text: str) -> str:
    """Prose safe in a Markdown paragraph: one line, no raw HTML, no link syntax."""
    return text.translate(_INLINE_ESCAPES)


def _fenced(info: str, body: str) -> list[str]:
    """A fenced code block whose fence no backtick run in ``body`` can close."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + info, body, fence]


def _cites(ids: list[str]) -> str:
    return (" (" + ", ".join(f"[{i}](#findings)" for i in ids) + ")") if ids else ""


def _paragraph(p: Paragraph) -> str:
    return inline(p.text) + _cites(p.cites)


def table_markdown(table: Table) -> str:
    head = "| " + " | ".join(cell_text(c) for c in table.columns) + " |"
    rule = "| " + " | ".join("---" for _ in table.columns) + " |"
    rows = [
        "| "
        + " | ".join(cell_text(format_cell(v, f)) for v, f in zip(row, table.formats, strict=True))
        + " |"
        for row in table.rows
    ]
    out = [f"#### {cell_text(table.title)}", "", head, rule, *rows]
    if table.note:
        out += ["", f"_{inline(table.note)}_"]
    return "\n".join(out)


def render_markdown(report: Report) -> str:
    out = [f"# {inline(report.title)}", ""]
    for section in report.sections:
        out += [f"## {section.title}", ""]
        out += [p for para in section.paragraphs for p in (_paragraph(para), "")]
        for table in section.tables:
            out += [table_markdown(table), ""]
    if report.recommendations:
        out += ["## Recommendations", ""]
        for i, r in enumerate(report.recommendations, 1):
            # a heading per recommendation keeps the title's words out of the text's claims
            out += [f"### {i}. {inline(r.title)}", "", inline(r.text) + _cites(r.cites), ""]
    if report.next_sweep is not None:
        nxt = report.next_sweep
        out += ["## Next sweep", ""]
        if nxt.changes:
            out += ["| param | searched | next | why |", "| --- | --- | --- | --- |"]
            for c in nxt.changes:
                why = cell_text(c.why) + _cites(c.cites)  # finding ids hold no "|": the links stay links
                out.append(f"| {cell_text(c.param)} | {cell_text(c.before)} | {cell_text(c.after)} | {why} |")
            out.append("")
        else:
            out += ["No finding calls for a change of the searched space; it is repeated as it was.", ""]
        out += ["W&B sweep configuration:", "", *_fenced("yaml", nxt.wandb_yaml.rstrip()), ""]
        out += ["Optuna search space:", "", *_fenced("python", nxt.optuna_space.rstrip()), ""]
    out += _appendix(report)
    return "\n".join(out).rstrip() + "\n"


def _appendix(report: Report) -> list[str]:
    fc = report.fact_check
    out = ["## Appendix", "", '<a id="findings"></a>', "", "### Findings", ""]
    for fid, f in report.findings.items():
        out.append(f"- `{fid}` {f['name']} ({f['severity']}): {inline(str(f['title']))}")
    out += ["", "### Fact check", ""]
    facts = {
        "claims checked": fc.claims_checked,
        "supported": fc.supported,
        "unverifiable": fc.unverifiable,
        "corrected by a re-ask": fc.corrected,
        "removed": fc.removed,
    }
    lines = [f"{k}: {v}" for k, v in facts.items()]
    if fc.replaced_sections:
        lines.append("sections given the offline text: " + ", ".join(fc.replaced_sections))
    out += [*_fenced("text", "\n".join([*lines, *fc.notes])), "", "### Provenance", ""]
    out += _fenced("json", json.dumps(report.manifest.model_dump(mode="json"), indent=2))
    return out
