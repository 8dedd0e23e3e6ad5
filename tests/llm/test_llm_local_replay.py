"""The real local model's exchanges, replayed: fast, no server, the same client code and compose loop.

``recordings/local-*.json`` were written by ``tests/local_llm`` (SmolLM2-135M through llama.cpp, with
``REPORTGEN_UPDATE_RECORDINGS=1``). Replaying them checks that the request reportgen sends a local server
has not changed (the replay fails on any difference in the body: prompt, schema, sampling settings) and
that what the small model really answered still goes through validation and checking to a report with no
contradicted claim.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reportgen.eval.sweeps import load_eval_sweep
from reportgen.factcheck.entities import build_vocabulary
from reportgen.factcheck.verify import check_markdown
from reportgen.llm.local_server import local_writer
from reportgen.llm.replay import replay_client
from reportgen.render.report_markdown import render_markdown
from reportgen.report.compose import compose

RECORDINGS = Path(__file__).parent / "recordings"
LOCAL = sorted(RECORDINGS.glob("local-*.json"))


def test_the_local_recordings_are_there() -> None:
    assert {p.stem for p in LOCAL} == {"local-seed000", "local-divergence"}


@pytest.mark.parametrize("path", LOCAL, ids=[p.stem for p in LOCAL])
def test_replayed_local_answers_give_a_faithful_report(path: Path) -> None:
    exchanges = json.loads(path.read_text(encoding="utf-8"))["exchanges"]
    model = exchanges[0]["request"]["model"]
    loaded = load_eval_sweep(path.stem.removeprefix("local-"))
    writer = local_writer("http://replay.invalid/v1", model, None, replay_client(path))
    report = compose(loaded.sweep, loaded.detection, loaded.facts, writer)
    assert report.manifest.writer == "local" and report.manifest.calls == len(exchanges)
    ids = {f.id for f in loaded.detection.findings}
    cited = {c for s in report.sections for p in s.paragraphs for c in p.cites}
    assert cited <= ids
    verdicts = check_markdown(
        render_markdown(report), loaded.facts, build_vocabulary(loaded.sweep, loaded.facts)
    )
    assert not [v.text for v in verdicts if v.verdict == "contradicted"]
    # the model's own text made it into the report (not only the offline fallback)
    answer = json.loads(exchanges[-1]["response"]["choices"][0]["message"]["content"])
    published = render_markdown(report)
    written = [p["text"] for s in answer["sections"] for p in s["paragraphs"] if p["cites"]]
    assert any(text.strip() and text.strip() in published for text in written)
