"""OpenAIWriter against a real HTTP server on 127.0.0.1: answers, re-asks, transport retries, refusals,
cut-off answers, checker feedback, budgets and the API key's confinement."""

from __future__ import annotations

import json
import time

import pytest

from reportgen.llm.budget import Budget, count_request
from reportgen.llm.conversation import Conversation
from reportgen.llm.errors import (
    AnswerRejectedError,
    AnswerTooLongError,
    DeadlineError,
    PromptBudgetError,
    WriterConfigError,
    WriterRefusedError,
    WriterUnavailableError,
)
from reportgen.llm.openai_writer import OpenAIWriter
from reportgen.llm.prompts import template_hashes
from reportgen.llm.schema import Limits
from reportgen.report.writing import Problem


def test_valid_answer_is_returned_with_usage(chat_server, make_writer, brief, prose_for) -> None:
    chat_server.answer_prose(prose_for(brief))
    writer = make_writer()

    prose = writer.write(brief)

    assert prose == prose_for(brief)
    assert (writer.usage.calls, writer.usage.prompt_tokens, writer.usage.completion_tokens) == (1, 120, 40)
    assert writer.usage.retries == 0 and writer.usage.reasks == 0
    assert writer.usage.templates == template_hashes()
    assert writer.usage.seconds > 0
    sent = chat_server.requests[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.body["model"] == "test-model"
    fmt = sent.body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "report_prose" and fmt["json_schema"]["strict"] is True
    # a compatible server gets max_tokens; OpenAI itself would get max_completion_tokens
    assert sent.body["max_tokens"] == 4096
    assert [m["role"] for m in sent.body["messages"]] == ["system", "user"]


def test_invalid_json_is_reasked_with_the_parse_error(chat_server, make_writer, brief, prose_for) -> None:
    chat_server.answer('{"sections": [')
    chat_server.answer_prose(prose_for(brief))
    writer = make_writer()

    assert writer.write(brief) == prose_for(brief)

    assert len(chat_server.requests) == 2
    assert writer.usage.calls == 2 and writer.usage.reasks == 1 and writer.usage.retries == 0
    assert writer.usage.prompt_tokens == 240
    reask = chat_server.requests[1].body["messages"]
    assert [m["role"] for m in reask] == ["system", "user", "assistant", "user"]
    assert reask[2]["content"] == '{"sections": ['
    assert "the answer is not valid JSON" in reask[3]["content"]
    assert writer.usage.notes[0].startswith("re-ask 1: answer: the answer is not valid JSON")


def test_unknown_finding_id_is_reasked_then_fixed(chat_server, make_writer, brief, prose_for) -> None:
    good = prose_for(brief)
    bad = good.model_copy(
        update={
            "recommendations": [good.recommendations[0].model_copy(update={"cites": ["XYZ999-invented"]})]
        }
    )
    chat_server.answer_prose(bad)
    chat_server.answer_prose(good)
    writer = make_writer()

    assert writer.write(brief) == good

    fix = chat_server.requests[1].body["messages"][-1]["content"]
    assert "recommendation 1" in fix
    assert "cites 'XYZ999-invented', which is not a finding id in the brief" in fix
    assert writer.usage.reasks == 1


def test_recommendation_citing_nothing_is_reasked(chat_server, make_writer, brief, prose_for) -> None:
    good = prose_for(brief)
    payload = json.loads(good.model_dump_json())
    payload["recommendations"][0]["cites"] = []
    chat_server.answer(json.dumps(payload))
    chat_server.answer_prose(good)
    writer = make_writer()

    assert writer.write(brief) == good
    assert "recommendation 1, cites: cites nothing" in writer.usage.notes[0]


def test_reasks_are_bounded(chat_server, make_writer, brief) -> None:
    for _ in range(3):
        chat_server.answer("not json at all")
    writer = make_writer(max_attempts=3)

    with pytest.raises(AnswerRejectedError, match="after 3 calls"):
        writer.write(brief)
    assert len(chat_server.requests) == 3 and writer.usage.reasks == 2


def test_429_with_retry_after_is_retried_by_the_client_only(
    chat_server, make_writer, brief, prose_for
) -> None:
    chat_server.fail(429, headers={"retry-after": "0.05"})
    chat_server.answer_prose(prose_for(brief))
    writer = make_writer()

    assert writer.write(brief) == prose_for(brief)

    assert len(chat_server.requests) == 2  # the rate-limited request and the client's one retry
    assert chat_server.requests[1].headers["x-stainless-retry-count"] == "1"
    assert chat_server.requests[0].body == chat_server.requests[1].body
    assert writer.usage.calls == 1 and writer.usage.retries == 1 and writer.usage.reasks == 0


def test_500_is_retried_by_the_client(chat_server, make_writer, brief, prose_for) -> None:
    chat_server.fail(500)
    chat_server.answer_prose(prose_for(brief))
    writer = make_writer()

    assert writer.write(brief) == prose_for(brief)
    assert len(chat_server.requests) == 2
    assert writer.usage.calls == 1 and writer.usage.retries == 1 and writer.usage.reasks == 0


def test_server_failure_after_the_client_retries_is_a_clear_error(chat_server, make_writer, brief) -> None:
    chat_server.fail(503, headers={"retry-after": "0.01"})
    chat_server.fail(503, headers={"retry-after": "0.01"})
    writer = make_writer(max_retries=1)

    with pytest.raises(WriterUnavailableError, match="answered HTTP 503"):
        writer.write(brief)
    assert len(chat_server.requests) == 2 and writer.usage.reasks == 0


def test_checker_feedback_is_in_the_request_verbatim(chat_server, make_writer, brief, prose_for) -> None:
    feedback = [
        Problem(
            where="section overview, paragraph 1",
            text="runs with lr above 0.01 crashed",
            message="contradicted: run-0-0 has lr=0.01, which is not above 0.01 (FCT002 value-mismatch)",
            fix="write 'lr of 0.01 or more'",
        )
    ]
    chat_server.answer_prose(prose_for(brief))

    make_writer().write(brief, feedback)

    told = chat_server.requests[0].text()
    for field in ("where", "text", "message", "fix"):
        assert getattr(feedback[0], field) in told


def test_cut_off_answer_is_reasked_once_with_shorter_bounds(
    chat_server, make_writer, brief, prose_for
) -> None:
    chat_server.answer(
        '{"sections": [{"key": "overview", "paragraphs": [{"text": "Lo', finish_reason="length"
    )
    chat_server.answer_prose(prose_for(brief))
    writer = make_writer()

    assert writer.write(brief) == prose_for(brief)

    first, second = (r.body for r in chat_server.requests)
    assert [m["role"] for m in second["messages"]] == ["system", "user"]  # the cut-off text is not sent back
    assert "cut off at the completion-token limit" in second["messages"][-1]["content"]
    assert _max_paragraphs(second) < _max_paragraphs(first)
    assert writer.usage.reasks == 1


def _max_paragraphs(body: dict) -> int:
    schema = body["response_format"]["json_schema"]["schema"]
    return schema["properties"]["sections"]["items"]["properties"]["paragraphs"]["maxItems"]


def test_cut_off_twice_is_an_error(chat_server, make_writer, brief) -> None:
    chat_server.answer('{"sections": [', finish_reason="length")
    chat_server.answer('{"sections": [', finish_reason="length")

    with pytest.raises(AnswerTooLongError, match="completion-token limit again"):
        make_writer().write(brief)
    assert len(chat_server.requests) == 2


def test_refusal_is_an_error_without_reask(chat_server, make_writer, brief) -> None:
    chat_server.answer(None, refusal="I can't help with that.")
    writer = make_writer()

    with pytest.raises(WriterRefusedError, match="refused: I can't help with that"):
        writer.write(brief)
    assert len(chat_server.requests) == 1 and writer.usage.reasks == 0


def test_budget_reductions_are_recorded(chat_server, make_writer, brief_factory, prose_for) -> None:
    big = brief_factory(findings=16, runs=30, facts=6, table_lines=40)
    chat_server.answer_prose(prose_for(big))
    writer = make_writer(budget=Budget(prompt_tokens=3_000))

    writer.write(big)

    reductions = writer.usage.budget_reductions
    assert reductions[0].startswith("dropped the facts of 4 info-severity findings (")
    assert reductions[1].startswith("dropped the facts of 4 low-severity findings (")
    assert reductions[2].startswith("shortened the run lists of 16 findings to their first 3 run ids")
    assert "budget 3,000" in reductions[0]
    told = chat_server.requests[0].text()
    assert "To fit the prompt, the brief leaves out the following" in told
    assert "- dropped the facts of 4 info-severity findings" in told


def test_reask_over_budget_leaves_the_rejected_answer_out(chat_server, make_writer, brief, prose_for) -> None:
    opening = Conversation.start(brief, None, Limits())
    first = count_request(opening.messages, opening.response_format())
    chat_server.answer("x" * 20_000)  # invalid and far too long to send back within the budget
    chat_server.answer_prose(prose_for(brief))
    writer = make_writer(budget=Budget(prompt_tokens=first + 400))

    assert writer.write(brief) == prose_for(brief)

    reask = chat_server.requests[1].body["messages"]
    assert [m["role"] for m in reask] == ["system", "user"]
    assert reask[1]["content"].startswith(opening.request)
    assert "the answer is not valid JSON" in reask[1]["content"]
    assert writer.usage.notes[-1] == "re-ask 1: sent without the rejected answer to fit the budget"


def test_budget_too_small_raises_before_any_call(chat_server, make_writer, brief) -> None:
    with pytest.raises(PromptBudgetError, match="over the budget of 200"):
        make_writer(budget=Budget(prompt_tokens=200)).write(brief)
    assert chat_server.requests == []


def test_past_deadline_makes_no_call(chat_server, make_writer, brief) -> None:
    writer = make_writer(deadline=time.monotonic() - 1)

    with pytest.raises(DeadlineError):
        writer.write(brief)
    assert chat_server.requests == []


def test_deadline_stops_reasks(chat_server, make_writer, brief, monkeypatch) -> None:
    chat_server.answer("not json")
    chat_server.answer("not json")
    writer = make_writer(max_attempts=5)
    real = OpenAIWriter._attempt

    def attempt_then_expire(self, convo):  # the deadline passes during the first call
        try:
            return real(self, convo)
        finally:
            self.deadline = time.monotonic() - 1

    monkeypatch.setattr(OpenAIWriter, "_attempt", attempt_then_expire)
    with pytest.raises(DeadlineError, match="answer still invalid after 1 calls"):
        writer.write(brief)
    assert len(chat_server.requests) == 1


def test_api_key_never_leaks(chat_server, make_writer, brief, planted_key) -> None:
    chat_server.answer("not json")
    chat_server.fail(401)
    writer = make_writer(max_retries=0)

    with pytest.raises(WriterUnavailableError) as caught:
        writer.write(brief)

    assert chat_server.requests[0].headers["authorization"] == f"Bearer {planted_key}"  # it was sent...
    assert planted_key not in str(caught.value)  # ...and is nowhere else
    assert planted_key not in writer.usage.model_dump_json()


def test_server_echoing_the_key_is_redacted(chat_server, make_writer, brief, planted_key) -> None:
    chat_server.answer(None, refusal=f"refusing; your key is {planted_key}")

    with pytest.raises(WriterRefusedError) as caught:
        make_writer().write(brief)
    assert planted_key not in str(caught.value) and "[redacted]" in str(caught.value)


def test_openai_itself_needs_a_key(monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(WriterConfigError, match="OPENAI_API_KEY is not set"):
        OpenAIWriter("gpt-4o-mini")


def test_environment_configures_the_server(chat_server, brief, prose_for, monkeypatch, planted_key) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", chat_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", planted_key)
    chat_server.answer_prose(prose_for(brief))

    OpenAIWriter("test-model").write(brief)
    assert chat_server.requests[0].headers["authorization"] == f"Bearer {planted_key}"
