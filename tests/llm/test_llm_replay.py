"""Recording exchanges (secrets scrubbed) and replaying them with no server."""

from __future__ import annotations

import json

import pytest

from reportgen.llm.errors import AnswerRejectedError, ReplayError
from reportgen.llm.openai_writer import OpenAIWriter
from reportgen.llm.replay import recording_client, replay_client

NOWHERE = "http://replay.invalid/v1"  # .invalid never resolves: a replay that touched the network would fail


def _replayer(path) -> OpenAIWriter:
    return OpenAIWriter("test-model", base_url=NOWHERE, api_key="replay", http_client=replay_client(path))


def test_replay_reproduces_the_recorded_prose(chat_server, make_writer, brief, prose_for, tmp_path) -> None:
    path = tmp_path / "exchange.json"
    chat_server.fail(429, headers={"retry-after": "0.01"})
    chat_server.answer("not json")
    chat_server.answer_prose(prose_for(brief))
    recorded = make_writer(http_client=recording_client(path)).write(brief)

    writer = _replayer(path)
    replayed = writer.write(brief)

    assert replayed == recorded == prose_for(brief)
    assert writer.usage.calls == 2 and writer.usage.retries == 1 and writer.usage.reasks == 1
    assert [e["status"] for e in json.loads(path.read_text())["exchanges"]] == [429, 200, 200]


def test_recording_holds_no_secret(chat_server, make_writer, brief, prose_for, planted_key, tmp_path) -> None:
    path = tmp_path / "exchange.json"
    chat_server.answer(f"not json, and here is the key: {planted_key}")
    chat_server.answer_prose(prose_for(brief))

    make_writer(http_client=recording_client(path, secrets=[planted_key])).write(brief)

    text = path.read_text()
    assert planted_key not in text
    first = json.loads(text)["exchanges"][0]
    assert first["request_headers"]["authorization"] == "[redacted]"
    assert "here is the key: [redacted]" in first["response"]["choices"][0]["message"]["content"]


def test_key_shaped_text_is_scrubbed_even_unannounced(
    chat_server, make_writer, brief, prose_for, tmp_path
) -> None:
    path = tmp_path / "exchange.json"
    chat_server.answer_prose(prose_for(brief))

    make_writer(http_client=recording_client(path)).write(brief)  # no secrets given

    assert "sk-test-PLANTED" not in path.read_text()


def test_replay_fails_loudly_on_a_changed_request(
    chat_server, make_writer, brief_factory, prose_for, tmp_path
):
    path = tmp_path / "exchange.json"
    brief = brief_factory()
    chat_server.answer_prose(prose_for(brief))
    make_writer(http_client=recording_client(path)).write(brief)

    changed = brief.model_copy(update={"title": "Another sweep"})
    with pytest.raises(
        ReplayError, match=r"request 1 differs from the recording at body\.messages\[1\]\.content"
    ):
        _replayer(path).write(changed)


def test_replay_fails_loudly_when_the_recording_runs_out(chat_server, make_writer, brief, tmp_path) -> None:
    path = tmp_path / "exchange.json"
    chat_server.answer("not json")
    with pytest.raises(AnswerRejectedError):
        make_writer(http_client=recording_client(path), max_attempts=1).write(brief)

    replayer = OpenAIWriter(
        "test-model", base_url=NOWHERE, api_key="replay", http_client=replay_client(path), max_attempts=2
    )
    with pytest.raises(ReplayError, match=r"request 2 \(POST /v1/chat/completions\) was not recorded"):
        replayer.write(brief)
