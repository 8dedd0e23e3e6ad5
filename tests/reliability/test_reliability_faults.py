"""Every fault an OpenAI-compatible server can throw at ``compose``, through the real ``openai`` client and
``OpenAIWriter`` against the scripted server on 127.0.0.1. For each: a report comes out, its Markdown
checked back against the sweep holds no contradicted claim, and the manifest / fact-check summary say what
happened (transport retries, re-asks, corrections, removed sentences, offline fallbacks, notes)."""

from __future__ import annotations

import time

import pytest

from reportgen.report.compose import compose
from reportgen.report.offline_writer import OfflineWriter
from tests.reliability.conftest import (
    RIGHT,
    WRONG,
    ChatServer,
    answer,
    checked_markdown,
    issues_text,
    writer,
)

ALL_SECTIONS = ["overview", "issues"]  # replaced by the offline text when the writer fails outright


def offline_paragraphs(seed):  # type: ignore[no-untyped-def]
    sweep, detection, facts = seed
    return [s.paragraphs for s in compose(sweep, detection, facts, OfflineWriter()).sections]


def run(seed, server: ChatServer, **kwargs):  # type: ignore[no-untyped-def]
    """compose() with an OpenAIWriter on ``server``; keyword arguments go to the writer."""
    sweep, detection, facts = seed
    return compose(sweep, detection, facts, writer(server, **kwargs))


def assert_fell_back(report, seed, note: str) -> None:  # type: ignore[no-untyped-def]
    """The writer failed outright: every section has the offline text, and the notes say why."""
    assert [s.paragraphs for s in report.sections] == offline_paragraphs(seed)
    assert report.fact_check.replaced_sections
    assert report.manifest.fallbacks == [
        f"section {k}: offline text" for k in report.fact_check.replaced_sections
    ]
    assert any(note in n for n in report.fact_check.notes), report.fact_check.notes


def assert_llm_prose(report) -> None:  # type: ignore[no-untyped-def]
    """The model's answer made it into the report, no section replaced."""
    assert issues_text(report) == RIGHT
    assert report.fact_check.replaced_sections == [] and report.manifest.fallbacks == []


# -- transport faults: the client retries, the writer counts, compose falls back ------------------------


def test_a_stall_past_the_timeout_is_retried(seed, chat_server: ChatServer) -> None:
    chat_server.stall(5.0)
    chat_server.answer_prose(answer(seed))
    report = run(seed, chat_server, timeout=0.3)
    checked_markdown(report, seed)
    assert_llm_prose(report)
    assert len(chat_server.requests) == 2
    assert report.manifest.calls == 1 and report.manifest.retries == 1


def test_stalls_on_every_try_fall_back_to_the_offline_text(seed, chat_server: ChatServer) -> None:
    chat_server.stall(5.0)
    chat_server.stall(5.0)
    report = run(seed, chat_server, timeout=0.3)
    checked_markdown(report, seed)
    assert_fell_back(report, seed, "timed out")
    assert report.manifest.calls == 1 and report.manifest.retries == 1  # the failed call's retry counts


def test_a_body_cut_off_mid_json_is_retried(seed, chat_server: ChatServer) -> None:
    chat_server.cut_off(answer(seed).model_dump_json())
    chat_server.answer_prose(answer(seed))
    report = run(seed, chat_server)
    checked_markdown(report, seed)
    assert_llm_prose(report)
    assert report.manifest.retries == 1 and report.manifest.reasks == 0


def test_bodies_cut_off_every_time_fall_back(seed, chat_server: ChatServer) -> None:
    chat_server.cut_off(answer(seed).model_dump_json())
    chat_server.cut_off(answer(seed).model_dump_json(), keep=0.1)
    report = run(seed, chat_server)
    checked_markdown(report, seed)
    assert_fell_back(report, seed, "connection")
    assert report.manifest.retries == 1


def test_a_response_body_that_is_not_json_falls_back(seed, chat_server: ChatServer) -> None:
    chat_server.raw_body(b'{"id": "chatcmpl-test", "choices": [{"message": ')
    report = run(seed, chat_server)
    checked_markdown(report, seed)
    assert_fell_back(report, seed, "not a chat completion")
    assert report.manifest.calls == 1


def test_a_response_of_the_wrong_shape_falls_back(seed, chat_server: ChatServer) -> None:
    chat_server.raw_body(b'{"hello": "world"}')
    report = run(seed, chat_server)
    checked_markdown(report, seed)
    assert_fell_back(report, seed, "not a chat completion")


def test_429_waits_for_retry_after(seed, chat_server: ChatServer) -> None:
    chat_server.fail(429, {"retry-after": "0.3"})
    chat_server.answer_prose(answer(seed))
    report = run(seed, chat_server)
    checked_markdown(report, seed)
    assert_llm_prose(report)
    first, second = chat_server.requests
    assert second.at - first.at >= 0.3
    assert report.manifest.retries == 1 and report.manifest.calls == 1


def test_429_with_a_retry_after_past_the_deadline_is_not_waited_for(seed, chat_server: ChatServer) -> None:
    chat_server.fail(429, {"retry-after": "60"})
    chat_server.answer_prose(answer(seed))
    started = time.monotonic()
    report = run(seed, chat_server, deadline=time.monotonic() + 1.0)
    assert time.monotonic() - started < 2.5  # not the 60 s asked for
    checked_markdown(report, seed)
    assert_fell_back(report, seed, "deadline")


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_retried(seed, chat_server: ChatServer, status: int) -> None:
    chat_server.fail(status, {"retry-after-ms": "10"})
    chat_server.answer_prose(answer(seed))
    report = run(seed, chat_server)
    checked_markdown(report, seed)
    assert_llm_prose(report)
    assert report.manifest.retries == 1 and len(chat_server.requests) == 2


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_that_persists_falls_back(seed, chat_server: ChatServer, status: int) -> None:
    chat_server.fail(status, {"retry-after-ms": "10"})
    chat_server.fail(status, {"retry-after-ms": "10"})
    report = run(seed, chat_server)
    checked_markdown(report, seed)
    assert_fell_back(report, seed, f"HTTP {status}")
    assert report.manifest.retries == 1 and report.manifest.calls == 1


# -- answers the writer rejects: it re-asks with the problems, then gives up ---------------------------


def test_invalid_json_is_re_asked(seed, chat_server: ChatServer) -> None:
    chat_server.answer('{"sections": [{"key": "overview", "paragraphs": [')
    chat_server.answer_prose(answer(seed))
    report = run(seed, chat_server)
    checked_markdown(report, seed)
    assert_llm_prose(report)
    assert report.manifest.calls == 2 and report.manifest.reasks == 1 and report.manifest.retries == 0
    assert "JSON" in chat_server.requests[1].text()
    assert report.fact_check.notes[0].startswith("the openai writer's re-ask 1: ")


def test_json_that_breaks_the_schema_every_time_falls_back(seed, chat_server: ChatServer) -> None:
    for _ in range(3):
        chat_server.answer('{"sections": "all fine", "recommendations": 7}')
    report = run(seed, chat_server)
    checked_markdown(report, seed)
    assert_fell_back(report, seed, "still invalid after 3 calls")
    assert report.manifest.calls == 3 and report.manifest.reasks == 2


def test_an_answer_cut_at_the_token_limit_is_re_asked_shorter(seed, chat_server: ChatServer) -> None:
    chat_server.answer(answer(seed).model_dump_json()[:80], finish_reason="length")
    chat_server.answer_prose(answer(seed))
    report = run(seed, chat_server)
    checked_markdown(report, seed)
    assert_llm_prose(report)
    assert report.manifest.reasks == 1 and report.manifest.calls == 2
    assert report.fact_check.notes == [
        "the openai writer's re-ask 1: answer: cut off at the completion-token limit"
    ]


def test_an_answer_cut_at_the_token_limit_twice_falls_back(seed, chat_server: ChatServer) -> None:
    chat_server.answer(answer(seed).model_dump_json()[:80], finish_reason="length")
    chat_server.answer(answer(seed).model_dump_json()[:40], finish_reason="length")
    report = run(seed, chat_server)
    checked_markdown(report, seed)
    assert_fell_back(report, seed, "completion-token limit")
    assert report.manifest.calls == 2


def test_a_refusal_falls_back_without_a_re_ask(seed, chat_server: ChatServer) -> None:
    chat_server.answer(None, refusal="I cannot help with that.")
    report = run(seed, chat_server)
    checked_markdown(report, seed)
    assert_fell_back(report, seed, "refused")
    assert report.manifest.calls == 1 and report.manifest.reasks == 0


def test_unknown_finding_ids_are_re_asked(seed, chat_server: ChatServer) -> None:
    chat_server.answer_prose(answer(seed, cite="NAN999-0000000000"))
    chat_server.answer_prose(answer(seed))
    report = run(seed, chat_server)
    checked_markdown(report, seed)
    assert_llm_prose(report)
    assert "NAN999-0000000000" in chat_server.requests[1].text()
    assert report.manifest.reasks == 1
    assert len(report.fact_check.notes) == 1 and "not a finding id" in report.fact_check.notes[0]
    assert "NAN999-0000000000" not in str(report.sections) + str(report.findings)


def test_unknown_finding_ids_every_time_fall_back(seed, chat_server: ChatServer) -> None:
    for _ in range(3):
        chat_server.answer_prose(answer(seed, cite="NAN999-0000000000"))
    report = run(seed, chat_server)
    checked_markdown(report, seed)
    assert_fell_back(report, seed, "not a finding id in the brief")
    cites = [c for s in report.sections for p in s.paragraphs for c in p.cites]
    assert cites and "NAN999-0000000000" not in cites + list(report.findings)


# -- confident wrong numbers: schema-valid, so the fact-checker catches them ----------------------------


def test_wrong_numbers_are_sent_back_and_corrected(seed, chat_server: ChatServer) -> None:
    chat_server.answer_prose(answer(seed, " ".join(WRONG)))
    chat_server.answer_prose(answer(seed))
    report = run(seed, chat_server)
    checked_markdown(report, seed)
    assert_llm_prose(report)
    assert report.manifest.reasks == 1 and report.fact_check.corrected == len(WRONG)
    assert report.fact_check.removed == 0
    assert "8 runs in the sweep, not 12" in chat_server.requests[1].text()


def test_wrong_numbers_that_stay_wrong_are_removed(seed, chat_server: ChatServer) -> None:
    for _ in range(3):
        chat_server.answer_prose(answer(seed, " ".join(WRONG), others="The sweep has 9 runs. It ran."))
    report = run(seed, chat_server)
    markdown = checked_markdown(report, seed)
    assert report.manifest.reasks == 2 and report.manifest.calls == 3
    assert report.fact_check.removed >= len(WRONG) + 1 and report.fact_check.corrected == 0
    assert any("remained after the re-asks" in n for n in report.fact_check.notes)
    assert not any(w in markdown for w in WRONG) and "9 runs" not in markdown


def test_a_re_ask_that_fails_keeps_the_checked_first_draft(seed, chat_server: ChatServer) -> None:
    chat_server.answer_prose(answer(seed, f"{WRONG[1]} {RIGHT.replace('Trial 4', 'That trial')}"))
    chat_server.fail(503, {"retry-after-ms": "10"})
    chat_server.fail(503, {"retry-after-ms": "10"})
    report = run(seed, chat_server)
    markdown = checked_markdown(report, seed)
    assert WRONG[1] not in markdown and "That trial used a learning rate of 0.02." in issues_text(report)
    assert report.fact_check.removed == 1 and report.fact_check.replaced_sections == []
    assert any("HTTP 503" in n and "previous draft was kept" in n for n in report.fact_check.notes), (
        report.fact_check.notes
    )


# -- the total deadline ---------------------------------------------------------------------------------


def test_a_server_that_stalls_forever_cannot_hold_compose_past_its_deadline(
    seed, chat_server: ChatServer
) -> None:
    for _ in range(5):
        chat_server.stall()
    sweep, detection, facts = seed
    # a realistic writer: long timeout, transport retries, and no deadline of its own; compose's is the one
    slow = writer(chat_server, timeout=60.0, max_retries=2, deadline=None)
    started = time.monotonic()
    report = compose(sweep, detection, facts, slow, deadline_s=1.0)
    elapsed = time.monotonic() - started
    assert elapsed < 2.5, elapsed  # without the strict deadline: minutes
    checked_markdown(report, seed)
    assert_fell_back(report, seed, "deadline")
