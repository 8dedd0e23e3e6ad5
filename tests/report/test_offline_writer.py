"""The offline writer: its template's variables are its typed context, and what it writes is checkable."""

from __future__ import annotations

import dataclasses
from importlib import resources

import jinja2
from jinja2 import meta

from reportgen.report.offline_writer import TEMPLATE, OverviewContext


def test_template_variables_are_the_context_fields() -> None:
    source = (
        resources.files("reportgen.report").joinpath("offline").joinpath(TEMPLATE).read_text(encoding="utf-8")
    )
    used = meta.find_undeclared_variables(jinja2.Environment().parse(source))
    assert used == {f.name for f in dataclasses.fields(OverviewContext)}
