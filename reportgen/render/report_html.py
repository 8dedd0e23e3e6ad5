"""The report as one self-contained HTML file: inline CSS, plots as inline SVG, no script, no fetch.

The file must open offline years later, be mailed as an attachment and print cleanly, so nothing is loaded
from anywhere: a Content-Security-Policy that forbids every script and remote resource states that in the
file itself (and would stop an injected ``<script>`` even if escaping ever failed). Every piece of sweep
data (run names, parameter values, titles, prose, table cells) goes through jinja2's autoescaping; the only
markup marked safe is the SVG built by ``svg_plots`` (which escapes its own text) and the stylesheet.

Layout: title and provenance line, a table of contents, the sweep at a glance, the sections in order (prose
with its citations, tables, figures, the findings each section covers), recommendations, the next sweep,
then an appendix with every cited finding, the fact-check summary and the manifest. Citations are small
tags carrying the finding's code that link to its entry in the appendix.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, StrictUndefined
from markupsafe import Markup

from reportgen.findings import SEVERITY_ORDER
from reportgen.render.report_format import format_cell
from reportgen.render.report_style import CSS
from reportgen.render.svg_plots import render_figure
from reportgen.report.model import SECTION_TITLES, Cell, Report

NUMERIC_FORMATS = ("int", "float", "percent", "sci")
# nothing may load or run: styles are inline, images are data: URIs at most
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

TEMPLATE = """\
{%- macro cites(ids) -%}
{%- if ids %}<span class="cites">
{%- for id in ids %}{% set f = cited.get(id) %}
{%- if f %}<a class="cite" href="#{{ f.anchor }}" title="{{ f.code }}: {{ f.title }}">{{ f.code }}</a>
{%- else %}<span class="cite unknown" title="not among the report's findings">{{ id }}</span>{% endif %}
{%- endfor %}</span>{% endif -%}
{%- endmacro -%}
{%- macro pairs(rows) -%}
<dl class="glance">
{% for label, value in rows %}<dt>{{ label }}</dt><dd>{{ value }}</dd>
{% endfor %}</dl>
{%- endmacro -%}
{%- macro badge(severity) -%}
<span class="badge sev-{{ severity if severity in severities else 'other' }}">{{ severity }}</span>
{%- endmacro -%}
{%- macro table(t) -%}
<div class="block table">
<p class="caption">{{ t.title }}{{ cites(t.cites) }}</p>
<div class="scroll" tabindex="0" role="region" aria-label="{{ t.title }}">
<table>
<thead><tr>
{% for c in t.columns %}<th scope="col"{% if t.numeric[loop.index0] %} class="num"{% endif %}>{{ c }}</th>
{%- endfor %}
</tr></thead>
<tbody>
{% for row in t.cells %}<tr>
{%- for cls, text in row %}<td{% if cls %} class="{{ cls }}"{% endif %}>{{ text }}</td>{% endfor -%}
</tr>
{% endfor %}</tbody>
</table>
</div>
{% if t.note %}<p class="note">{{ t.note }}</p>{% endif %}
</div>
{%- endmacro -%}
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="reportgen {{ m.reportgen_version }}">
<title>{{ r.title }}</title>
<style>{{ css }}</style>
</head>
<body>
<div class="page">
<header class="top">
<h1>{{ r.title }}</h1>
<p class="meta">{{ m.created }} · {{ m.source_format }} export · {{ r.overview.runs }} runs
 · written by {{ m.writer }}{% if m.model %} ({{ m.model }}){% endif %}
 · reportgen {{ m.reportgen_version }}</p>
</header>
<nav class="toc" aria-label="Contents">
<h2>Contents</h2>
<ol>
{% for anchor, title in toc %}<li><a href="#{{ anchor }}">{{ title }}</a></li>
{% endfor %}</ol>
</nav>
<main>
<section id="at-a-glance">
<h2>At a glance</h2>
{{ pairs(glance) }}
</section>
{% for s in sections %}
<section id="{{ s.anchor }}" class="report-section">
<h2>{{ s.title }}</h2>
{% for p in s.paragraphs %}<p>{{ p.text }}{{ cites(p.cites) }}</p>
{% endfor %}
{% for t in s.tables %}{{ table(t) }}
{% endfor %}
{% for f in s.figures %}<figure class="plot">
<figcaption>{{ f.title }}</figcaption>
<div class="frame">{{ f.svg }}</div>
</figure>
{% endfor %}
{% if s.findings %}<h3>Findings in this section</h3>
<ul class="findings">
{% for f in s.findings %}
<li>{{ badge(f.severity) }}<a class="code" href="#{{ f.anchor }}">{{ f.code }}</a>{{ f.title }}</li>
{% endfor %}</ul>
{% endif %}
{% if s.empty %}<p class="empty">Nothing to report in this section.</p>{% endif %}
</section>
{% endfor %}
<section id="recommendations">
<h2>Recommendations</h2>
{% if r.recommendations %}<ol class="recs">
{% for rec in r.recommendations %}<li><h3>{{ rec.title }}</h3><p>{{ rec.text }}{{ cites(rec.cites) }}</p></li>
{% endfor %}</ol>
{% else %}<p class="empty">No recommendations.</p>
{% endif %}
</section>
<section id="next-sweep">
<h2>Next sweep</h2>
{% if next_sweep %}
{% if next_sweep.changes %}{{ table(next_sweep.changes) }}{% endif %}
<h3>W&amp;B sweep configuration</h3>
<pre><code class="language-yaml">{{ next_sweep.wandb_yaml }}</code></pre>
<h3>Optuna search space</h3>
<pre><code class="language-python">{{ next_sweep.optuna_space }}</code></pre>
{% else %}<p class="empty">No change to the search space is proposed.</p>
{% endif %}
</section>
<div class="appendix">
<section id="appendix-findings">
<h2>Appendix A: Findings</h2>
{% if findings %}<ol class="findings">
{% for f in findings %}
<li id="{{ f.anchor }}">{{ badge(f.severity) }}<span class="code">{{ f.code }}</span>
<span class="mono">{{ f.name }}</span><br>{{ f.title }}<br>
<span class="runs">id <code>{{ f.id }}</code>{% if f.runs %} · runs: {{ f.runs }}{% endif %}</span></li>
{% endfor %}</ol>
{% else %}<p class="empty">No finding is cited.</p>
{% endif %}
</section>
<section id="appendix-fact-check">
<h2>Appendix B: Fact check</h2>
<p>What the checker did to the prose before publishing.</p>
{{ pairs(fact_check) }}
</section>
<section id="appendix-manifest">
<h2>Appendix C: Manifest</h2>
{{ pairs(manifest) }}
{% if inputs.cells %}{{ table(inputs) }}{% endif %}
{% if templates.cells %}{{ table(templates) }}{% endif %}
</section>
</div>
</main>
<footer>Generated by reportgen {{ m.reportgen_version }}. Tables and figures are computed from the export
by code; the prose was checked against it (Appendix B).</footer>
</div>
</body>
</html>
"""

_ENV = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_TEMPLATE = _ENV.from_string(TEMPLATE)


def render_html(report: Report) -> str:
    """The whole report as one HTML document (a string to write to a ``.html`` file)."""
    findings = _findings(report.findings)
    cited = {f["id"]: f for f in findings}
    return _TEMPLATE.render(
        r=report,
        m=report.manifest,
        csp=CSP,
        css=Markup(CSS),
        severities=SEVERITY_ORDER,
        cited=cited,
        findings=findings,
        toc=_toc(report),
        glance=_glance(report),
        sections=[
            {
                "anchor": f"section-{s.key}",
                "title": s.title,
                "paragraphs": s.paragraphs,
                "tables": [_table(t.title, t.columns, t.rows, t.formats, t.note, t.cites) for t in s.tables],
                "figures": [{"title": f.title, "svg": Markup(render_figure(f))} for f in s.figures],
                "findings": [cited[i] for i in s.findings if i in cited],
                "empty": not (s.paragraphs or s.tables or s.figures or s.findings),
            }
            for s in report.sections
        ],
        next_sweep=_next_sweep(report),
        fact_check=_fact_check(report),
        manifest=_manifest(report),
        inputs=_table(
            "Input files",
            ["path", "sha256", "bytes"],
            [[i.path, i.sha256, i.bytes] for i in report.manifest.inputs],
            ["text", "text", "int"],
        ),
        templates=_table(
            "Templates",
            ["template", "sha256"],
            [[k, v] for k, v in report.manifest.templates.items()],
            ["text"] * 2,
        ),
    )


def _findings(entries: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The cited findings, most severe first, each with its appendix anchor (by position: ids are data)."""
    ordered = sorted(entries.items(), key=lambda kv: SEVERITY_ORDER.get(str(kv[1].get("severity")), 99))
    out = []
    for i, (fid, entry) in enumerate(ordered, start=1):
        runs = [str(r) for r in entry.get("runs") or []]
        out.append(
            {
                "id": fid,
                "anchor": f"finding-{i}",
                "code": str(entry.get("code", fid)),
                "name": str(entry.get("name", "")),
                "severity": str(entry.get("severity", "info")),
                "title": str(entry.get("title", "")),
                "runs": ", ".join(runs),
            }
        )
    return out


def _toc(report: Report) -> list[tuple[str, str]]:
    return [
        ("at-a-glance", "At a glance"),
        *((f"section-{s.key}", s.title) for s in report.sections),
        ("recommendations", "Recommendations"),
        ("next-sweep", "Next sweep"),
        ("appendix-findings", "Appendix A: Findings"),
        ("appendix-fact-check", "Appendix B: Fact check"),
        ("appendix-manifest", "Appendix C: Manifest"),
    ]


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "none"


def _glance(report: Report) -> list[tuple[str, str]]:
    """The overview as label/value pairs, numbers formatted like the tables format them."""
    ov = report.overview
    rows = [("Runs", format_cell(ov.runs, "int")), ("States", _counts(ov.states))]
    if ov.objective:
        rows.append(("Objective", f"{ov.objective} ({ov.direction})" if ov.direction else ov.objective))
    if ov.best_run is not None:
        rows.append(("Best run", f"{ov.best_run}: {format_cell(ov.best_value, 'float4')}"))
    if ov.first_created or ov.last_created:
        rows.append(("Created", f"{ov.first_created or '?'} to {ov.last_created or '?'}"))
    rows += [
        ("Runs with issues", f"{ov.runs_with_issues} of {ov.runs}"),
        ("Issue instances", format_cell(ov.issue_instances, "int")),
        ("Issue types", _counts(ov.issue_types)),
    ]
    return rows


def _table(
    title: str,
    columns: list[str],
    rows: list[list[Cell]],
    formats: list[str],
    note: str | None = None,
    cites: list[str] | None = None,
) -> dict[str, Any]:
    """A table ready for the template: each cell formatted by its column's format, with its CSS class
    (numbers right-aligned, long text given room to wrap)."""
    cells = []
    for row in rows:
        out = []
        for value, fmt in zip(row, formats, strict=False):
            text = format_cell(value, fmt)
            out.append(("num" if _is_number(value) else "long" if len(text) > 60 else "", text))
        cells.append(out)
    # a header sits over its numbers: right-aligned for a numeric format, or a column of numbers ("auto")
    columns_values = [
        [row[i] for row in rows if i < len(row) and row[i] is not None] for i in range(len(columns))
    ]
    numeric = [
        fmt.rstrip("0123456789") in NUMERIC_FORMATS or (bool(values) and all(_is_number(v) for v in values))
        for fmt, values in zip(formats, columns_values, strict=False)
    ]
    return {
        "title": title,
        "columns": columns,
        "numeric": numeric,
        "cells": cells,
        "note": note,
        "cites": cites or [],
    }


def _is_number(value: Cell) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _next_sweep(report: Report) -> dict[str, Any] | None:
    ns = report.next_sweep
    if ns is None:
        return None
    changes = _table(
        "Changes to the search space",
        ["param", "before", "after", "why"],
        [[c.param, c.before, c.after, c.why] for c in ns.changes],
        ["text"] * 4,
        cites=list(dict.fromkeys(i for c in ns.changes for i in c.cites)),
    )
    return {
        "changes": changes if ns.changes else None,
        "wandb_yaml": ns.wandb_yaml,
        "optuna_space": ns.optuna_space,
    }


def _fact_check(report: Report) -> list[tuple[str, str]]:
    fc = report.fact_check
    replaced = ", ".join(SECTION_TITLES.get(k, k) for k in fc.replaced_sections) or "none"
    counts = [
        ("Claims checked", fc.claims_checked),
        ("Supported", fc.supported),
        ("Unverifiable", fc.unverifiable),
        ("Contradicted, corrected by a re-ask", fc.corrected),
        ("Contradicted, sentence removed", fc.removed),
    ]
    rows = [(label, format_cell(n, "int")) for label, n in counts]
    rows.append(("Sections given the offline text", replaced))
    return rows + [("Note", note) for note in fc.notes]


def _manifest(report: Report) -> list[tuple[str, str]]:
    m = report.manifest
    rows = [
        ("reportgen version", m.reportgen_version),
        ("Created", m.created),
        ("Source format", m.source_format),
        ("Writer", m.writer + (f" ({m.model})" if m.model else "")),
    ]
    if m.calls:
        rows.append(("LLM calls", f"{m.calls} ({m.retries} retries, {m.reasks} re-asks)"))
        rows.append(("Tokens", f"{m.prompt_tokens} prompt, {m.completion_tokens} completion"))
    rows.append(("Seconds", format_cell(m.seconds, "float3")))
    rows += [("Budget reduction", b) for b in m.budget_reductions]
    rows += [("Fallback", f) for f in m.fallbacks]
    rows += [("Warning", w) for w in m.warnings]
    return rows
