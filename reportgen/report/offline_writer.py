"""The offline writer: the report's prose from the findings, without an LLM, faithful by construction.

Each section gets a lead sentence and one sentence per finding it covers, built from the finding's own
title (written by its detector, with its numbers) and citing it; the overview is a jinja2 template over the
``Overview`` (``reportgen/report/offline/sections.j2``). Recommendations come from a table of rules keyed
by finding name (``RULES``), each worded from the finding's evidence and citing it. It is the default when
no LLM is configured, and the fallback for any section an LLM writer cannot get right.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import resources

import jinja2

from reportgen.findings import SEVERITY_ORDER
from reportgen.report.model import Overview, Paragraph, Recommendation
from reportgen.report.writing import Brief, BriefFinding, Problem, Prose, SectionProse, Usage

TEMPLATE = "sections.j2"
MAX_RECOMMENDATIONS = 8
_LEADS: dict[str, str] = {
    "issues": "Run-health issues, one sentence per finding:",
    "top_runs": "The best runs by the objective:",
    "groups": "How each group of runs fared:",
    "hyperparameters": "What the runs say about the hyperparameters:",
    "crashes": "Where runs stopped:",
    "curves": "What the learning curves show:",
    "search_space": "What the searched space shows:",
}


@dataclass(frozen=True)
class OverviewContext:
    """What ``offline/sections.j2`` is rendered with (a test checks the template uses exactly these)."""

    ov: Overview
    best_value: str  # the objective's best value, 4 significant digits ("" without an objective)
    first_day: str  # YYYY-MM-DD of the first and last run created ("" when the export has no dates)
    last_day: str


def _template() -> tuple[jinja2.Template, str]:
    source = (
        resources.files("reportgen.report").joinpath("offline").joinpath(TEMPLATE).read_text(encoding="utf-8")
    )
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)
    return env.from_string(source), hashlib.sha256(source.encode()).hexdigest()


def _sentence(f: BriefFinding) -> str:
    title = f.title.rstrip(".")
    return f"{title}."


class OfflineWriter:
    """``Writer`` without a model: deterministic prose from the brief."""

    name = "offline"
    model: str | None = None

    def __init__(self) -> None:
        self.usage = Usage()

    def write(self, brief: Brief, feedback: list[Problem] | None = None) -> Prose:
        template, digest = _template()
        self.usage.templates[f"offline/{TEMPLATE}"] = digest
        by_id = {f.id: f for f in brief.findings}
        ov = brief.overview
        context = OverviewContext(
            ov=ov,
            best_value=f"{ov.best_value:.4g}" if ov.best_value is not None else "",
            first_day=(ov.first_created or "")[:10],
            last_day=(ov.last_created or "")[:10],
        )
        overview_text = template.render(**asdict(context)).strip()
        sections = [SectionProse(key="overview", paragraphs=[Paragraph(text=overview_text)])]
        for s in brief.sections:
            if s.key == "overview":
                continue
            cited = [by_id[i] for i in s.findings if i in by_id]
            if not cited:
                continue
            paragraphs = [Paragraph(text=_LEADS.get(s.key, s.title + ":"))]
            paragraphs += [Paragraph(text=_sentence(f), cites=[f.id]) for f in cited]
            sections.append(SectionProse(key=s.key, paragraphs=paragraphs))
        return Prose(sections=sections, recommendations=recommendations(brief))


# -- recommendations --------------------------------------------------------------------------------------

Rule = Callable[[BriefFinding], tuple[str, str] | None]


def _runs(f: BriefFinding) -> str:
    if not f.runs:
        return "the flagged runs"
    more = ", …" if f.runs_total > len(f.runs) else ""
    return ("run " if f.runs_total == 1 else "runs ") + ", ".join(f.runs) + more


RULES: dict[str, Rule] = {
    "nan-or-inf-metric": lambda f: (
        "Stop the NaN losses",
        f"{f.title}. Lower the top of the learning-rate range or clip gradients; rerun {_runs(f)}.",
    ),
    "divergence": lambda f: (
        "Stabilise the diverging runs",
        f"{f.title}. Lower their learning rate or add warmup and gradient clipping ({_runs(f)}).",
    ),
    "crashed-run": lambda f: (
        "Find out why runs crashed",
        f"{f.title}. Read the logs of {_runs(f)} at their last logged step before trusting the ranking.",
    ),
    "short-run": lambda f: (
        "Rerun or exclude the short runs",
        f"{f.title}. Their metrics are not comparable with full-length runs ({_runs(f)}).",
    ),
    "overfitting": lambda f: (
        "Regularise the overfitting runs",
        f"{f.title}. Add weight decay or dropout, or stop at the validation minimum ({_runs(f)}).",
    ),
    "underfitting": lambda f: (
        "Train longer",
        f"{f.title}. A longer budget would likely improve them ({_runs(f)}).",
    ),
    "best-at-boundary": lambda f: (
        "Search past the edge of the range",
        f"{f.title}. The optimum may lie outside the searched range: extend it (next sweep).",
    ),
    "log-scale-sampled-uniformly": lambda f: (
        "Sample on a log scale",
        f"{f.title}. Sample it log-uniformly so each decade gets its share of runs (see the next sweep).",
    ),
    "duplicate-configs": lambda f: (
        "Stop repeating configs",
        f"{f.title}. Use the budget for new configs, or seed them on purpose to measure noise.",
    ),
    "interaction-risk": lambda f: (
        "Avoid the failing combination",
        f"{f.title}. Keep these values apart in the next sweep.",
    ),
    "seed-variance": lambda f: (
        "Account for seed noise",
        f"{f.title}. Compare configs by their mean over seeds, not their best seed.",
    ),
    "early-stopping-idle": lambda f: (
        "Use early stopping",
        f"{f.title}. A pruner would have saved compute here.",
    ),
}


def recommendations(brief: Brief) -> list[Recommendation]:
    """One recommendation per finding a rule exists for, most severe first, at most ``MAX_RECOMMENDATIONS``;
    findings of the same name share one recommendation."""
    out: list[Recommendation] = []
    seen: set[str] = set()
    ordered = sorted(brief.findings, key=lambda f: SEVERITY_ORDER.get(f.severity, 9))
    for f in ordered:
        rule = RULES.get(f.name)
        if rule is None or f.name in seen or f.severity == "info":
            continue
        made = rule(f)
        if made is None:
            continue
        seen.add(f.name)
        title, text = made
        cites = [g.id for g in brief.findings if g.name == f.name]
        out.append(Recommendation(title=title, text=text, cites=cites))
        if len(out) == MAX_RECOMMENDATIONS:
            break
    return out
