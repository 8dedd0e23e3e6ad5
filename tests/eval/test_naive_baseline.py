"""The naive baseline through the real `openai` client against a scripted server on 127.0.0.1: the model
gets only the runs table as CSV, and what it writes is scored by the same checker."""

from __future__ import annotations

import openai

from reportgen.cli.eval_cmd import render_text
from reportgen.eval.naive import evaluate_naive
from reportgen.eval.runner import evaluate_checker, evaluate_writer
from reportgen.report.offline_writer import OfflineWriter
from tests.llm.conftest import PLANTED_KEY, ChatServer, chat_server  # noqa: F401  (the fixture)

ANSWER = "# Report\n\nThe sweep has 9 runs. Trial 3 had a val_loss/train_loss ratio of 5.33.\n"


def test_naive_report_is_scored_by_the_checker(chat_server: ChatServer) -> None:  # noqa: F811
    chat_server.answer(ANSWER)
    client = openai.OpenAI(base_url=chat_server.base_url, api_key=PLANTED_KEY, max_retries=0)
    card = evaluate_naive("test-model", ["seed000"], client=client)
    [row] = card["per_sweep"]
    assert (row["contradicted"], row["supported"]) == (1, 1)  # 9 runs is wrong; the ratio is right
    assert row["rows_shown"] == 8 and card["status"] == "run" and card["model"] == "test-model"
    prompt = chat_server.requests[0].text()
    assert "run_id,name,state" in prompt and "0.003" in prompt  # the raw table (trial 3's lr) went in
    assert "not instructions" in prompt
    assert PLANTED_KEY not in str(card)


def test_scorecard_text_shows_writer_and_baseline_side_by_side(chat_server: ChatServer) -> None:  # noqa: F811
    chat_server.answer(ANSWER)
    client = openai.OpenAI(base_url=chat_server.base_url, api_key=PLANTED_KEY, max_retries=0)
    card = {
        "checker": evaluate_checker(sweeps=["seed000"]),
        "writer": evaluate_writer(OfflineWriter, "offline", ["seed000"]),
        "baseline": evaluate_naive("test-model", ["seed000"], client=client),
        "seconds": 1.0,
    }
    text = render_text(card)
    assert "contradicted claims: first drafts 0 of" in text and "published 0 of" in text
    assert "naive baseline (test-model" in text and "1 contradicted of 2 claims (rate 0.5)" in text
