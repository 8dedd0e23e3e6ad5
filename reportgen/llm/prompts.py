"""The one place prompt templates are loaded and rendered.

Templates live in the top-level ``prompts/`` folder, packaged into the wheel as ``reportgen.prompts``.
Each has a typed context (a pydantic model below naming its template); rendering passes exactly the
context's fields, and ``StrictUndefined`` turns a misspelt variable into an error instead of an empty
string. ``template_hashes`` gives the manifest a sha256 per template, so a report says which prompts made it.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import ClassVar

import jinja2
from pydantic import BaseModel, ConfigDict

from reportgen.llm.schema import Limits
from reportgen.report.writing import Problem

TEMPLATES = ("system.j2", "write_report.j2", "fix_claims.j2", "naive_report.j2")


class PromptContext(BaseModel):
    """Base of the template contexts: each subclass names its template and declares its variables."""

    model_config = ConfigDict(frozen=True)
    template: ClassVar[str]


class SystemContext(PromptContext):
    """The system prompt: the writer's role and rules."""

    template: ClassVar[str] = "system.j2"
    data_tag: str


class SectionLine(BaseModel):
    """One section the writer must write, as listed in the user prompt."""

    model_config = ConfigDict(frozen=True)

    key: str
    title: str
    findings: list[str]


class WriteReportContext(PromptContext):
    """The user prompt: the fenced brief, the sections to write, the answer's schema, what to fix."""

    template: ClassVar[str] = "write_report.j2"
    data_tag: str
    fence: str
    data: str
    omitted: list[str]
    sections: list[SectionLine]
    limits: Limits
    answer_schema: str
    fix_request: str


class NaiveReportContext(PromptContext):
    """The naive baseline of ``reportgen eval``: the runs table as CSV and a plain request for a report."""

    template: ClassVar[str] = "naive_report.j2"
    fence: str
    csv: str
    runs: int
    rows_shown: int


class FixClaimsContext(PromptContext):
    """A re-ask: the problems found in the previous answer, or that it was cut off."""

    template: ClassVar[str] = "fix_claims.j2"
    problems: list[Problem]
    truncated: bool
    limits: Limits


def prompt_dir() -> Path:
    """The folder holding the templates: ``reportgen/prompts/`` when installed from a wheel, else the
    top-level ``prompts/`` of the source checkout this module runs from."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "prompts"
    return installed if installed.is_dir() else package.parent / "prompts"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The jinja2 environment of the prompts (plain text: no autoescape; undefined variables raise)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(prompt_dir()),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(context: PromptContext) -> str:
    """Render ``context``'s template with exactly the context's fields."""
    template = environment().get_template(context.template)
    return template.render({name: getattr(context, name) for name in type(context).model_fields})


def template_source(name: str) -> str:
    """The source text of one template."""
    loader = environment().loader
    assert loader is not None  # set in environment()
    source, _, _ = loader.get_source(environment(), name)
    return source


def template_hashes() -> dict[str, str]:
    """Template name -> sha256 of its source, for the manifest."""
    return {name: hashlib.sha256(template_source(name).encode("utf-8")).hexdigest() for name in TEMPLATES}
