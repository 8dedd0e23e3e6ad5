"""`--llm local` end to end with a real model: llama.cpp's server in-process, SmolLM2-135M answering.

These assert structure and faithfulness, never wording: the report is schema-valid, every cited id is a
real finding, what is published holds no contradicted claim, and the repair loop runs for real (the
model's answers are checked and sent back with the checker's messages). The exchanges of the two CLI
reports are recorded to ``tests/llm/recordings/`` when ``REPORTGEN_UPDATE_RECORDINGS=1``, for the fast
replay tests in ``tests/llm/test_llm_local_replay.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from reportgen.cli.main import main
from reportgen.eval.sweeps import SWEEPS_DIR, load_eval_sweep
from reportgen.factcheck.entities import build_vocabulary
from reportgen.factcheck.verify import check_markdown
from reportgen.llm.local_server import LocalServer, local_writer
from reportgen.render.report_markdown import render_markdown
from reportgen.report.compose import compose
from reportgen.report.model import Report
from reportgen.report.writing import Brief, Paragraph, Problem, Prose, SectionProse
from tests.conftest import FIXTURES, REPO

RECORDINGS = REPO / "tests" / "llm" / "recordings"
UPDATE = os.environ.get("REPORTGEN_UPDATE_RECORDINGS") == "1"

# Two sweeps: the seed report's 8 trials with histories, and the divergence fixture.
SWEEPS: dict[str, list[str]] = {
    "seed000": [str(FIXTURES / "seed000/runs.csv"), "--history", str(FIXTURES / "seed000/history.csv")],
    "divergence": [
        str(SWEEPS_DIR / "divergence/runs.csv"),
        "--history",
        str(SWEEPS_DIR / "divergence/history.csv"),
    ],
}


def _published_contradictions(markdown: str, name: str) -> list[tuple[int, str, str]]:
    loaded = load_eval_sweep(name)
    verdicts = check_markdown(markdown, loaded.facts, build_vocabulary(loaded.sweep, loaded.facts))
    return [(v.line, v.text, v.message) for v in verdicts if v.verdict == "contradicted"]


@pytest.mark.parametrize("name", list(SWEEPS))
def test_report_with_the_local_model(name: str, model_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    record = tmp_path / "exchanges.json"
    args = ["report", *SWEEPS[name], "--llm", "local", "--model-path", str(model_path)]
    code = main([*args, "--record", str(record), "-o", str(out), "--quiet"])
    assert code == 0
    report = Report.model_validate_json(out.read_text(encoding="utf-8"))  # schema-valid
    m = report.manifest
    assert m.writer == "local" and m.model == model_path.stem
    assert m.calls >= 1 and m.completion_tokens > 0
    # the model's prose is used: not every section fell back to the offline text
    assert len(report.fact_check.replaced_sections) < len(report.sections)
    loaded = load_eval_sweep(name)
    ids = {f.id for f in loaded.detection.findings}
    cited = {c for s in report.sections for p in s.paragraphs for c in p.cites}
    cited |= {c for r in report.recommendations for c in r.cites}
    assert cited and cited <= ids, cited - ids
    assert _published_contradictions(render_markdown(report), name) == []
    exchanges = json.loads(record.read_text(encoding="utf-8"))["exchanges"]
    assert len(exchanges) == m.calls  # every call recorded, each answered with a chat completion
    assert all(e["status"] == 200 and e["response"]["choices"] for e in exchanges)
    first = exchanges[0]["request"]
    assert first["temperature"] == 0 and first["seed"] is not None
    assert first["repeat_penalty"] == pytest.approx(1.1) and first["cache_prompt"] is False
    assert first["response_format"]["json_schema"]["schema"]["properties"]["sections"]["prefixItems"]
    if UPDATE:
        RECORDINGS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(record, RECORDINGS / f"local-{name}.json")


class _FirstDraftWithAnError:
    """The real local writer, but its first draft gets one sentence the data contradicts, so the repair
    loop (checker -> re-ask with its message -> the real model's new answer -> checker) runs for real."""

    def __init__(self, inner: Any, wrong: str) -> None:
        self.inner, self.wrong = inner, wrong
        self.name, self.model, self.usage = inner.name, inner.model, inner.usage
        self.deadline = inner.deadline
        self.feedback: list[list[Problem]] = []

    def write(self, brief: Brief, feedback: list[Problem] | None = None) -> Prose:
        self.inner.deadline = self.deadline  # compose narrows the deadline on this object
        prose = self.inner.write(brief, feedback)
        if feedback is not None:
            self.feedback.append(feedback)
            return prose
        issues = next(s for s in brief.sections if s.key == "issues")
        planted = SectionProse(
            key="issues", paragraphs=[Paragraph(text=self.wrong, cites=issues.findings[:1])]
        )
        kept = [s for s in prose.sections if s.key != "issues"]
        return prose.model_copy(update={"sections": [planted, *kept]})


def test_repair_loop_with_the_real_model(server: LocalServer) -> None:
    loaded = load_eval_sweep("seed000")
    # the seed report's mistake: trial 2 has lr = 0.01, which is not "above 0.01"
    wrong = "Trial 2 had a learning rate above 0.01."
    writer = _FirstDraftWithAnError(
        local_writer(server.base_url, server.model_name, time.monotonic() + 600, server.http_client()), wrong
    )
    report = compose(loaded.sweep, loaded.detection, loaded.facts, writer, deadline_s=600)
    fc = report.fact_check
    assert fc.first_draft_contradicted >= 1
    # the checker's exact message went back to the real model in a re-ask
    assert writer.feedback and any("above 0.01" in p.text for p in writer.feedback[0])
    assert report.manifest.reasks >= 1 and report.manifest.calls >= 2
    assert fc.corrected + fc.removed >= 1
    markdown = render_markdown(report)
    assert wrong not in markdown
    assert _published_contradictions(markdown, "seed000") == []


def test_eval_writer_and_baseline_rows_with_the_local_model(model_path: Path, tmp_path: Path) -> None:
    card_path = tmp_path / "card.json"
    code = main(
        ["eval", "--llm", "local", "--model-path", str(model_path), "--sweeps", "divergence",
         "--format", "json", "-o", str(card_path)]
    )  # fmt: skip
    assert code == 0
    card = json.loads(card_path.read_text(encoding="utf-8"))
    writer, baseline = card["writer"], card["baseline"]
    assert writer["writer"] == "local" and writer["reports"] == 1
    assert writer["totals"]["contradicted_after_repair"] == 0
    assert writer["totals"]["calls"] >= 1 and writer["reask_share"] is not None
    assert baseline["status"] == "run" and baseline["model"] == model_path.stem
    assert baseline["reports"] == 1 and baseline["per_sweep"][0]["rows_shown"] >= 1
    assert card["server"]["start_seconds"] > 0


def test_not_a_gguf_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"not a model")
    out = tmp_path / "r.md"
    code = main(["report", *SWEEPS["seed000"], "--llm", "local", "--model-path", str(fake), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert err.count("\n") == 1 and str(fake) in err and "GGUF" in err


def test_ctrl_c_stops_the_server_and_writes_nothing(model_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    out.write_text("previous report\n", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "reportgen.cli.main", "report", *SWEEPS["seed000"], "--llm", "local",
         "--model-path", str(model_path), "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    time.sleep(8)  # the server is up and the first request is being answered
    assert proc.poll() is None
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    try:
        # the request in flight is cancelled, not waited for (that would take a minute or more)
        _, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("reportgen --llm local did not stop within 15 s of Ctrl-C")
    assert time.monotonic() - sent < 15
    assert proc.returncode == 130, err
    assert "reportgen: interrupted" in err and "Traceback" not in err
    assert out.read_text(encoding="utf-8") == "previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]
