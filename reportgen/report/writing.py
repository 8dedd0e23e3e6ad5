"""The writer interface: what a writer is told (``Brief``), what it returns (``Prose``), and how it is
told what to fix (``Feedback``).

A writer only writes prose: per section a few paragraphs, and recommendations, each citing finding ids
from the brief. Every number a writer may use is in the brief (rendered by code from the FactSheet), and
``compose`` checks everything it returns with the fact-checker before publishing. Writers: ``offline``
(jinja2 templates over the findings, faithful by construction), ``openai`` (any OpenAI-compatible server),
and replay of recorded exchanges in tests.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from reportgen.report.model import Overview, Paragraph, ParamChange, Recommendation, SectionKey


class BriefFinding(BaseModel):
    """One finding as a writer sees it: identity, severity, its one-line title and key numbers."""

    model_config = ConfigDict(frozen=True)

    id: str
    code: str
    name: str
    severity: str
    title: str
    runs: list[str] = Field(default_factory=list, description="run ids, shortened to the first few")
    runs_total: int = 0
    facts: list[str] = Field(default_factory=list, description="key numbers as sentences rendered by code")


class BriefSection(BaseModel):
    """A section to write: its key and title, the findings it covers, and its tables as text lines."""

    model_config = ConfigDict(frozen=True)

    key: SectionKey
    title: str
    findings: list[str]
    table_lines: list[str] = Field(default_factory=list)


class Brief(BaseModel):
    """Everything a writer may use. Sweep data inside it (run names, param values) is untrusted text."""

    model_config = ConfigDict(frozen=True)

    title: str
    overview: Overview
    findings: list[BriefFinding]
    sections: list[BriefSection]
    next_sweep: list[ParamChange] = Field(default_factory=list)
    omitted: list[str] = Field(default_factory=list, description="what the token budget left out, and why")

    def finding_ids(self) -> set[str]:
        return {f.id for f in self.findings}


class SectionProse(BaseModel):
    """A writer's paragraphs for one section."""

    model_config = ConfigDict(frozen=True)

    key: SectionKey
    paragraphs: list[Paragraph]


class Prose(BaseModel):
    """All a writer returns."""

    model_config = ConfigDict(frozen=True)

    sections: list[SectionProse]
    recommendations: list[Recommendation]


class Problem(BaseModel):
    """One thing wrong with a writer's prose, as the checker or the validator said it."""

    model_config = ConfigDict(frozen=True)

    where: str = Field(description='"section overview, paragraph 2" or "recommendation 1"')
    text: str = Field(description="the offending text (a claim, an unknown id)")
    message: str = Field(description="the checker's exact message")
    fix: str | None = None


class Usage(BaseModel):
    """What a writer spent, for the manifest."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0
    reasks: int = 0
    seconds: float = 0.0
    budget_reductions: list[str] = Field(default_factory=list)
    templates: dict[str, str] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)


class Writer(Protocol):
    """Writes the report's prose from a brief; told what to fix through ``feedback`` on a re-ask."""

    name: str
    model: str | None
    usage: Usage

    def write(self, brief: Brief, feedback: list[Problem] | None = None) -> Prose: ...
