"""`compose` with the OpenAI-compatible writer against a real HTTP server on 127.0.0.1, through the real
`openai` client: a contradicted claim goes back to the model with the checker's exact message, what stays
wrong is removed, and a writer that fails leaves the offline text in place. No network, no real key."""

from __future__ import annotations

import time

import pytest

from reportgen.llm.openai_writer import OpenAIWriter
from reportgen.render.report_markdown import render_markdown
from reportgen.report.compose import compose
from reportgen.report.model import Paragraph, Recommendation
from reportgen.report.offline_writer import OfflineWriter
from reportgen.report.skeleton import sections
from reportgen.report.writing import Prose, SectionProse
from tests.conftest import fact_sheet
from tests.llm.conftest import PLANTED_KEY, ChatServer, chat_server  # noqa: F401  (the fixture)

WRONG = "Trial 4 used a learning rate of 0.03."
RIGHT = "Trial 4 used a learning rate of 0.02."


@pytest.fixture
def seed():  # type: ignore[no-untyped-def]
    from reportgen.detectors.run import run_detectors
    from reportgen.io.load import LoadOptions, load_sweep
    from tests.conftest import FIXTURES

    folder = FIXTURES / "seed000"
    sweep = load_sweep(folder / "runs.csv", LoadOptions(history=folder / "history.csv"))
    detection = run_detectors(sweep)
    facts, _ = fact_sheet("seed000")
    return sweep, detection, facts


def prose(seed, sentence: str) -> Prose:  # type: ignore[no-untyped-def]
    """An answer covering every section of the brief (the writer insists), with ``sentence`` in issues."""
    sweep, detection, facts = seed
    nan = next(f for f in detection.findings if f.name == "nan-or-inf-metric")
    out = []
    for section in sections(sweep, facts, detection):
        text = sentence if section.key == "issues" else "The sweep has 8 runs."
        cites = [nan.id] if section.key == "issues" else section.findings[:1]
        out.append(SectionProse(key=section.key, paragraphs=[Paragraph(text=text, cites=cites)]))
    rec = Recommendation(title="Lower the learning rate", text="Cap it at 0.01.", cites=[nan.id])
    return Prose(sections=out, recommendations=[rec])


def writer(server: ChatServer) -> OpenAIWriter:
    return OpenAIWriter(
        "test-model",
        base_url=server.base_url,
        api_key=PLANTED_KEY,
        max_retries=1,
        deadline=time.monotonic() + 60,
    )


def issues_text(report) -> str:  # type: ignore[no-untyped-def]
    section = next(s for s in report.sections if s.key == "issues")
    return " ".join(p.text for p in section.paragraphs)


def test_a_contradicted_claim_is_sent_back_and_fixed(seed, chat_server: ChatServer) -> None:  # noqa: F811
    sweep, detection, facts = seed
    chat_server.answer_prose(prose(seed, WRONG))
    chat_server.answer_prose(prose(seed, RIGHT))
    report = compose(sweep, detection, facts, writer(chat_server))
    assert len(chat_server.requests) == 2
    reask = chat_server.requests[1].text()
    assert "trial 4's lr is 0.02, not 0.03" in reask  # the checker's exact message
    assert RIGHT in issues_text(report) and WRONG not in render_markdown(report)
    assert report.manifest.writer == "openai" and report.manifest.model == "test-model"
    assert report.manifest.reasks == 1 and report.manifest.calls == 2
    assert report.fact_check.corrected == 1 and report.fact_check.removed == 0
    assert PLANTED_KEY not in render_markdown(report) and PLANTED_KEY not in report.model_dump_json()


def test_a_claim_that_stays_wrong_is_removed(seed, chat_server: ChatServer) -> None:  # noqa: F811
    sweep, detection, facts = seed
    for _ in range(3):
        chat_server.answer_prose(prose(seed, WRONG + " NaN losses hit runs 2 and 4."))
    report = compose(sweep, detection, facts, writer(chat_server), max_reasks=2)
    assert len(chat_server.requests) == 3
    text = issues_text(report)
    assert WRONG not in text and "NaN losses hit runs 2 and 4." in text  # only the wrong sentence goes
    assert report.fact_check.removed >= 1 and report.fact_check.notes


def test_a_failing_server_leaves_the_offline_text(seed, chat_server: ChatServer) -> None:  # noqa: F811
    sweep, detection, facts = seed
    for _ in range(4):
        chat_server.fail(503)
    report = compose(sweep, detection, facts, writer(chat_server))
    assert report.fact_check.replaced_sections and report.manifest.fallbacks
    assert any("failed" in n for n in report.fact_check.notes)
    offline = compose(sweep, detection, facts, OfflineWriter())
    assert [s.paragraphs for s in report.sections] == [s.paragraphs for s in offline.sections]


def test_the_cli_uses_the_configured_server(seed, chat_server: ChatServer, tmp_path, monkeypatch) -> None:  # noqa: F811
    from reportgen.cli.main import main
    from tests.conftest import FIXTURES

    monkeypatch.setenv("OPENAI_BASE_URL", chat_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", PLANTED_KEY)
    monkeypatch.setenv("REPORTGEN_MODEL", "test-model")
    chat_server.answer_prose(prose(seed, RIGHT))
    folder = FIXTURES / "seed000"
    out = tmp_path / "r.json"
    args = [str(folder / "runs.csv"), "--history", str(folder / "history.csv"), "--quiet", "-o", str(out)]
    assert main(["report", *args]) == 0  # no --llm: the configured server is the default
    doc = __import__("json").loads(out.read_text(encoding="utf-8"))
    assert doc["manifest"]["writer"] == "openai" and doc["manifest"]["calls"] == 1
    assert chat_server.requests[0].headers["authorization"] == f"Bearer {PLANTED_KEY}"
    assert PLANTED_KEY not in out.read_text(encoding="utf-8")
