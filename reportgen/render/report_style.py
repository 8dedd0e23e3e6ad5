"""The HTML report's stylesheet, inlined into every report so the file needs nothing beside it.

System fonts only (no web fonts to fetch), a readable measure on a laptop, wide tables and code that scroll
sideways inside their own box instead of stretching the page, and print rules: no sticky or hidden-overflow
boxes, no page break inside a table, figure, code block or finding, headings kept with what follows.
"""

from __future__ import annotations

CSS = """
:root {
  color-scheme: light;
  --ink: #1f2328; --muted: #59636e; --line: #d8dee4; --soft: #f6f8fa; --accent: #0b5cad;
  --high: #b42318; --medium: #b54708; --low: #1f5f99; --info: #59636e;
}
* { box-sizing: border-box; }
html { font-size: 16px; -webkit-text-size-adjust: 100%; }
body {
  margin: 0; color: var(--ink); background: #fff; line-height: 1.55;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
.page { max-width: 56rem; margin: 0 auto; padding: 2rem 1.25rem 4rem; }
header.top { border-bottom: 1px solid var(--line); margin-bottom: 1.5rem; }
h1 { font-size: 1.9rem; line-height: 1.2; margin: 0 0 .4rem; }
h2 {
  font-size: 1.4rem; margin: 2.5rem 0 .75rem; padding-bottom: .3rem; border-bottom: 1px solid var(--line);
}
h3 { font-size: 1.1rem; margin: 1.75rem 0 .5rem; }
p { margin: .6rem 0; }
a { color: var(--accent); }
.meta { color: var(--muted); font-size: .9rem; margin: 0 0 1rem; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
code { font-size: .88em; background: var(--soft); padding: .05em .3em; border-radius: 4px; }
pre {
  background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1rem;
  overflow-x: auto; font-size: .85rem; line-height: 1.45;
}
pre code { background: none; padding: 0; font-size: inherit; }
nav.toc { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: .6rem 1.2rem; }
nav.toc h2 { font-size: 1rem; margin: .2rem 0 .3rem; border: 0; padding: 0; }
nav.toc ol { margin: 0; padding-left: 1.3rem; columns: 2 14rem; column-gap: 2rem; }
nav.toc li { break-inside: avoid; }
dl.glance { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1.2rem; margin: .5rem 0; }
dl.glance dt { color: var(--muted); }
dl.glance dd { margin: 0; overflow-wrap: anywhere; }
.block { margin: 1.2rem 0; }
.caption { font-weight: 600; margin: 0 0 .35rem; }
.scroll {
  display: inline-block; overflow-x: auto; max-width: 100%; border: 1px solid var(--line); border-radius: 6px;
}
.scroll:focus { outline: 2px solid var(--accent); outline-offset: 2px; }
table { border-collapse: collapse; font-size: .88rem; }
th, td {
  padding: .35rem .65rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top;
}
th { background: var(--soft); font-weight: 600; white-space: nowrap; }
tbody tr:last-child td { border-bottom: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.long { min-width: 18rem; }
.note { color: var(--muted); font-size: .85rem; margin: .35rem 0 0; }
figure { margin: 1.2rem 0; }
figure.plot .frame { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; padding: .5rem; }
/* on a phone a plot scrolls sideways rather than shrink its text below reading size */
figure.plot svg { display: block; max-width: 100%; min-width: 34rem; height: auto; margin: 0 auto; }
figcaption { font-weight: 600; margin: 0 0 .35rem; }
.cites { white-space: nowrap; }
a.cite, span.cite {
  display: inline-block; font-size: .68rem; line-height: 1.2; vertical-align: super; margin-left: .15rem;
  padding: 0 .3rem; border: 1px solid var(--line); border-radius: 3px; background: var(--soft);
  text-decoration: none; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}
span.cite.unknown { color: var(--muted); border-style: dashed; }
.badge {
  display: inline-block; min-width: 4.2rem; text-align: center; font-size: .72rem; font-weight: 700;
  text-transform: uppercase; letter-spacing: .03em; border-radius: 999px; padding: .05rem .5rem;
  color: #fff; background: var(--info);
}
.badge.sev-high { background: var(--high); }
.badge.sev-medium { background: var(--medium); }
.badge.sev-low { background: var(--low); }
ul.findings, ol.findings { list-style: none; padding: 0; margin: .5rem 0; }
ul.findings li, ol.findings li { padding: .4rem 0; border-bottom: 1px solid var(--line); }
ol.findings li:target { background: #fff8c5; }
.code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; margin: 0 .4rem; }
.runs { color: var(--muted); font-size: .85rem; overflow-wrap: anywhere; }
ol.recs { padding-left: 1.4rem; }
ol.recs li { margin: .8rem 0; }
ol.recs h3 { margin: 0 0 .2rem; font-size: 1.02rem; }
.empty { color: var(--muted); font-style: italic; }
.appendix h2 { margin-top: 3.5rem; }
footer { color: var(--muted); font-size: .8rem; margin-top: 3rem; }
@media (min-width: 90rem) {
  nav.toc {
    position: sticky; top: 1rem; float: left; width: 15rem; margin-left: -17rem;
    max-height: calc(100vh - 2rem); overflow-y: auto;
  }
  nav.toc ol { columns: 1; }
}
@media print {
  @page { margin: 16mm 14mm; }
  html { font-size: 11pt; }
  .page { max-width: none; padding: 0; }
  nav.toc { display: none; }
  a { color: inherit; text-decoration: none; }
  .scroll, figure.plot .frame, pre { overflow: visible; }
  figure.plot svg { min-width: 0; }
  pre { white-space: pre-wrap; overflow-wrap: anywhere; }
  table { font-size: 8.5pt; }
  td { overflow-wrap: break-word; }
  table, figure, pre, .block, ol.findings li, ol.recs li, dl.glance { break-inside: avoid; }
  h2, h3, .caption, figcaption { break-after: avoid; }
  .appendix { break-before: page; }
  .badge, .cite { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""
