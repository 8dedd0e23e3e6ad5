"""The report as data: what every renderer (Markdown, HTML, JSON) draws from, and what writers fill in.

Code builds everything that carries a number (the overview, every table, the next-sweep proposal, the
fact-check summary, the manifest) from the findings and the FactSheet; a writer contributes only prose
(``Paragraph``) and recommendations, each citing the finding ids it rests on. That split is what lets the
report promise that every number in a table is right and every sentence was checked.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# in report order
SectionKey = Literal[
    "overview",
    "issues",
    "top_runs",
    "groups",
    "hyperparameters",
    "crashes",
    "curves",
    "search_space",
]
SECTION_TITLES: dict[str, str] = {
    "overview": "Overview",
    "issues": "Issue breakdown",
    "top_runs": "Top runs",
    "groups": "Group stability",
    "hyperparameters": "Hyperparameter pathologies",
    "crashes": "Crash pattern",
    "curves": "Learning-curve diagnoses",
    "search_space": "Search-space diagnostics",
}
Cell = str | int | float | bool | None


class Paragraph(BaseModel):
    """A paragraph of prose and the finding ids it rests on (empty only for plain framing text)."""

    model_config = ConfigDict(frozen=True)

    text: str
    cites: list[str] = Field(default_factory=list)


class Table(BaseModel):
    """A table rendered by code: raw cell values (renderers format them), never text the writer produced.

    ``columns`` are headers; ``rows`` hold one raw value per column (the first column names the row's
    entity: a run id, an issue type, a bucket, a group level). ``formats`` gives per column how to show a
    number ("int", "float3", "percent1", "sci", "text").
    """

    model_config = ConfigDict(frozen=True, ser_json_inf_nan="constants")

    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    formats: list[str]
    note: str | None = None
    cites: list[str] = Field(default_factory=list)


class Figure(BaseModel):
    """A plot a renderer may draw (HTML), with the data it needs; Markdown shows ``alt`` instead."""

    model_config = ConfigDict(frozen=True, ser_json_inf_nan="constants")

    key: str
    kind: Literal["bucket_rates", "curves", "objective_vs_param", "crash_steps"]
    title: str
    alt: str
    data: dict[str, Any] = Field(default_factory=dict)


class Section(BaseModel):
    """One section: prose from the writer, tables and figures from code."""

    model_config = ConfigDict(frozen=True)

    key: SectionKey
    title: str
    paragraphs: list[Paragraph] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    figures: list[Figure] = Field(default_factory=list)
    findings: list[str] = Field(default_factory=list, description="ids of the findings this section covers")


class Recommendation(BaseModel):
    """One thing to do next, tied to the findings it rests on."""

    model_config = ConfigDict(frozen=True)

    title: str
    text: str
    cites: list[str] = Field(min_length=1)


class ParamChange(BaseModel):
    """One change of the search space for the next sweep, and why."""

    model_config = ConfigDict(frozen=True)

    param: str
    before: str
    after: str
    why: str
    cites: list[str] = Field(default_factory=list)


class NextSweep(BaseModel):
    """A ready-to-run search space: W&B sweep YAML and an Optuna-style space, each change justified."""

    model_config = ConfigDict(frozen=True)

    changes: list[ParamChange]
    space: dict[str, dict[str, Any]]
    wandb_yaml: str
    optuna_space: str


class FactCheck(BaseModel):
    """What the checker did to the writer's prose before publishing."""

    model_config = ConfigDict(frozen=True)

    claims_checked: int = 0
    supported: int = 0
    unverifiable: int = 0
    first_draft_claims: int = Field(0, description="claims in the writer's first draft, before any repair")
    first_draft_contradicted: int = Field(0, description="of them contradicted by the data")
    corrected: int = Field(0, description="contradicted claims fixed by a re-ask")
    removed: int = Field(0, description="sentences dropped because they stayed contradicted")
    replaced_sections: list[str] = Field(default_factory=list, description="sections given the offline text")
    notes: list[str] = Field(default_factory=list)


class InputFile(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: str
    sha256: str
    bytes: int


class Manifest(BaseModel):
    """Provenance: enough to tell how this report was made and to reproduce it."""

    model_config = ConfigDict(frozen=True)

    reportgen_version: str
    created: str
    inputs: list[InputFile]
    source_format: str
    templates: dict[str, str] = Field(default_factory=dict, description="template name -> sha256")
    writer: str
    model: str | None = None
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0
    reasks: int = 0
    seconds: float = 0.0
    budget_reductions: list[str] = Field(default_factory=list)
    fallbacks: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class Overview(BaseModel):
    """The sweep at a glance, all counted by code."""

    model_config = ConfigDict(frozen=True)

    runs: int
    states: dict[str, int]
    objective: str | None
    direction: str | None
    best_run: str | None
    best_value: float | None
    first_created: str | None
    last_created: str | None
    runs_with_issues: int
    issue_instances: int
    issue_types: dict[str, int]


class Report(BaseModel):
    """The whole report."""

    model_config = ConfigDict(frozen=True, ser_json_inf_nan="constants")

    schema_version: int = 1
    title: str
    overview: Overview
    sections: list[Section]
    recommendations: list[Recommendation]
    next_sweep: NextSweep | None
    fact_check: FactCheck
    manifest: Manifest
    findings: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="id -> code, name, severity, title, runs of every cited finding"
    )
