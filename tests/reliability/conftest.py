"""The reliability kit: the seed-000 sweep, answers for its brief, an ``OpenAIWriter`` with tiny timeouts on
the scripted server of ``tests/llm/conftest.py`` (re-exported here as the ``chat_server`` fixture), and the
check every faulty run must pass: the rendered report, checked back against the same sweep, holds no
contradicted claim."""

from __future__ import annotations

import time
from typing import Any

import pytest

from reportgen.factcheck.entities import build_vocabulary
from reportgen.factcheck.verify import check_markdown
from reportgen.llm.openai_writer import OpenAIWriter
from reportgen.render.report_markdown import render_markdown
from reportgen.report.model import Paragraph, Recommendation, Report
from reportgen.report.skeleton import sections
from reportgen.report.writing import Prose, SectionProse
from tests.conftest import FIXTURES, fact_sheet
from tests.llm.conftest import PLANTED_KEY, ChatServer, chat_server  # noqa: F401  (the fixture)

SEED = FIXTURES / "seed000"
RIGHT = "Trial 4 used a learning rate of 0.02."
# Schema-valid, cited, confident and wrong: each sentence is contradicted by the seed-000 data.
WRONG = (
    "The sweep has 12 runs.",
    "Trial 4 used a learning rate of 0.03.",
    "5 runs crashed.",
    "Run 3 finished with val_loss 9.5.",
)


@pytest.fixture(scope="session")
def seed() -> tuple[Any, Any, Any]:
    """(sweep, detection, facts) of fixtures/seed000, loaded once."""
    from reportgen.detectors.run import run_detectors
    from reportgen.io.load import LoadOptions, load_sweep

    sweep = load_sweep(SEED / "runs.csv", LoadOptions(history=SEED / "history.csv"))
    detection = run_detectors(sweep)
    facts, _ = fact_sheet("seed000")
    return sweep, detection, facts


def answer(
    seed: Any, issues: str = RIGHT, others: str = "The sweep has 8 runs.", cite: str | None = None
) -> Prose:
    """An answer covering every section of the seed's brief: ``issues`` in the issues section, ``others``
    everywhere else; every paragraph cites a finding of its section (or ``cite``, to plant a bad id)."""
    sweep, detection, facts = seed
    nan = next(f for f in detection.findings if f.name == "nan-or-inf-metric")
    out = []
    for section in sections(sweep, facts, detection):
        text = issues if section.key == "issues" else others
        cites = [cite] if cite else [nan.id] if section.key == "issues" else section.findings[:1]
        out.append(SectionProse(key=section.key, paragraphs=[Paragraph(text=text, cites=cites)]))
    rec = Recommendation(title="Lower the learning rate", text="Cap it at 0.01.", cites=[cite or nan.id])
    return Prose(sections=out, recommendations=[rec])


def writer(server: ChatServer, **kwargs: Any) -> OpenAIWriter:
    """An ``OpenAIWriter`` on ``server`` with the planted key, tiny timeouts and one transport retry."""
    options: dict[str, Any] = {
        "base_url": server.base_url,
        "api_key": PLANTED_KEY,
        "timeout": 1.0,
        "max_retries": 1,
        "deadline": time.monotonic() + 10,
    }
    return OpenAIWriter("test-model", **{**options, **kwargs})


def checked_markdown(report: Report, seed: Any) -> str:
    """The report's Markdown, after asserting the checker finds no contradicted claim in it."""
    sweep, _, facts = seed
    markdown = render_markdown(report)
    verdicts = check_markdown(markdown, facts, build_vocabulary(sweep, facts))
    wrong = [f"{v.text}: {v.message}" for v in verdicts if v.verdict == "contradicted"]
    assert not wrong, wrong
    return markdown


def issues_text(report: Report) -> str:
    section = next(s for s in report.sections if s.key == "issues")
    return " ".join(p.text for p in section.paragraphs)
