"""The HTML report as markup: sweep data escaped everywhere, nothing loaded from outside, every section and
link in place, tags balanced, every inline SVG well-formed XML."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from markupsafe import escape

from reportgen.render.report_html import CSP, render_html
from reportgen.report.model import FactCheck, Manifest, Overview, Report, Section

EVIL = "<script>alert(1)</script>"  # as the rich_report fixture puts it in run names, prose and cells
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr", "source", "area", "base", "embed", "track"}


class Outline(HTMLParser):
    """Balances tags, and collects ids, in-page links, headings and the text inside each kind of element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: list[str] = []
        self.links: list[str] = []
        self.h2: list[str] = []
        self.text_in: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(str(found["id"]))
        if tag == "a" and str(found.get("href", "")).startswith("#"):
            self.links.append(str(found["href"])[1:])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass  # <line/> etc. inside inline SVG

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack:
            self.text_in.setdefault(self.stack[-1], []).append(data)
            if self.stack[-1] == "h2":
                self.h2.append(data)


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    parser.close()
    assert parser.errors == [] and parser.stack == [], (parser.errors, parser.stack)
    return parser


def test_sweep_data_is_escaped_everywhere(rich_report: Report) -> None:
    html = render_html(rich_report)
    assert "<script" not in html.lower()
    assert "<b>markup" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    doc = outline(html)
    # the hostile text survives as text in a cell, a paragraph, a heading, a list item and the page title
    for tag in ("td", "p", "h1", "h3", "li", "title"):
        assert any(EVIL in t for t in doc.text_in[tag]), tag
    assert any('<tag> & "quotes"' in t for t in doc.text_in["code"])  # code blocks escaped too


def test_self_contained(rich_report: Report) -> None:
    html = render_html(rich_report)
    for tag in ("<link", "<img", "<iframe", "<object", "<embed", "@import", "url("):
        assert tag not in html.lower(), tag
    external = set(re.findall(r"https?://[^\s\"'<>]+", html))
    assert external == {"http://www.w3.org/2000/svg"}  # the SVG namespace name, never fetched
    assert f'http-equiv="Content-Security-Policy" content="{escape(CSP)}"' in html


def test_structure_order_and_links(rich_report: Report) -> None:
    html = render_html(rich_report)
    doc = outline(html)
    sections = [s.title for s in rich_report.sections]
    expected = ["Contents", "At a glance", *sections, "Recommendations", "Next sweep"]
    expected += ["Appendix A: Findings", "Appendix B: Fact check", "Appendix C: Manifest"]
    assert doc.h2 == expected
    assert len(doc.ids) == len(set(doc.ids))
    assert set(doc.links) <= set(doc.ids)
    # every known citation links to its finding; the unknown id is shown but links nowhere
    assert html.count('class="cite unknown"') == len(rich_report.sections)
    assert 'href="#finding-1" title="NAN001: ' in html
    assert doc.text_in["span"].count("high") >= 1 and 'class="badge sev-high"' in html
    assert 'class="badge sev-info"' in html and 'class="badge sev-medium"' in html


def test_cells_plots_and_appendix(rich_report: Report) -> None:
    html = render_html(rich_report)
    doc = outline(html)
    cells = doc.text_in["td"]
    assert {"nan", "inf", "-inf", "\u2014", "0.3001", "75.0%", "1e-5", "1200"} <= set(cells)
    svgs = re.findall(r"<svg\b.*?</svg>", html, flags=re.DOTALL)
    assert len(svgs) == sum(len(s.figures) for s in rich_report.sections)
    for svg in svgs:
        ET.fromstring(svg)
    assert "No data to plot" in html
    assert "method: bayes" in html and "suggest_float" in html
    assert "Claims checked" in doc.text_in["dt"] and "42" in doc.text_in["dd"]
    assert "ab" * 32 in cells


def test_render_is_deterministic(rich_report: Report) -> None:
    assert render_html(rich_report) == render_html(rich_report)


def test_minimal_report_renders_its_empty_states() -> None:
    report = Report(
        title="empty",
        overview=Overview(
            runs=0,
            states={},
            objective=None,
            direction=None,
            best_run=None,
            best_value=None,
            first_created=None,
            last_created=None,
            runs_with_issues=0,
            issue_instances=0,
            issue_types={},
        ),
        sections=[Section(key="overview", title="Overview")],
        recommendations=[],
        next_sweep=None,
        fact_check=FactCheck(),
        manifest=Manifest(
            reportgen_version="0", created="now", inputs=[], source_format="csv", writer="offline"
        ),
    )
    html = render_html(report)
    outline(html)
    for empty in ("Nothing to report", "No recommendations", "No change to the search space", "No finding"):
        assert empty in html
