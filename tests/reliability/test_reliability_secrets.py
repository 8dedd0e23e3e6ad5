"""The API key never leaks: a planted key goes to the scripted server in the Authorization header and
nowhere else, through ``reportgen report --llm openai`` with faults that make error messages and notes
(a server echoing the key in its errors, a refusal quoting it), to .md, .html and .json, with the exchanges
recorded by ``reportgen.llm.replay``'s recorder and every log record captured at DEBUG."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import Any

import pytest

from reportgen.cli.main import main
from reportgen.llm.errors import WriterError
from reportgen.llm.openai_writer import OpenAIWriter
from reportgen.llm.replay import recording_client
from tests.llm.conftest import Reply
from tests.reliability.conftest import (
    PLANTED_KEY,
    SEED,
    WRONG,
    ChatServer,
    answer,
    writer,
)


def echo_key(server: ChatServer, status: int) -> None:
    """Script an error whose message quotes the key back, as OpenAI's "Incorrect API key" does."""
    message = f"Incorrect API key provided: {PLANTED_KEY}. You can find your API key at ..."
    body = {"error": {"message": message, "type": "invalid_request_error", "code": "invalid_api_key"}}
    server.script.append(Reply(status, body, {"retry-after-ms": "10"}))


@pytest.fixture
def cli_env(chat_server: ChatServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The CLI pointed at the scripted server with the planted key; every writer records its exchanges
    (with no secrets named: the recorder must scrub the key on its own) to tmp_path/recordings."""
    monkeypatch.setenv("OPENAI_BASE_URL", chat_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", PLANTED_KEY)
    monkeypatch.setenv("REPORTGEN_MODEL", "test-model")
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    original = OpenAIWriter.__init__

    def recording(self: OpenAIWriter, *args: Any, **kwargs: Any) -> None:
        path = recordings / f"exchanges-{len(list(recordings.iterdir()))}.json"
        if kwargs.get("http_client") is None:  # the CLI passes None without --record
            kwargs["http_client"] = recording_client(path)
        original(self, *args, **kwargs)

    monkeypatch.setattr(OpenAIWriter, "__init__", recording)
    return recordings


def report(output: Path) -> int:
    args = [str(SEED / "runs.csv"), "--history", str(SEED / "history.csv"), "--llm", "openai"]
    return main(["report", *args, "-o", str(output), "--deadline", "20"])


def test_the_key_appears_in_no_output_log_recording_or_message(
    seed,
    chat_server: ChatServer,
    cli_env: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("openai", "httpx2", "httpcore2", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    # .md: a draft with wrong numbers and an unknown id, then a re-ask the server answers with the key
    chat_server.answer_prose(answer(seed, " ".join(WRONG)))
    echo_key(chat_server, 401)
    assert report(tmp_path / "report.md") == 0
    # .html: a 500 quoting the key, on the first try and both transport retries: the offline text
    for _ in range(3):
        echo_key(chat_server, 500)
    assert report(tmp_path / "report.html") == 0
    # .json: a refusal that quotes the key (a model can only quote what it was sent: see below)
    chat_server.answer(None, refusal=f"I will not use {PLANTED_KEY} for this.")
    assert report(tmp_path / "report.json") == 0

    # not vacuous: the key was sent, the faults happened and their messages were kept, scrubbed
    assert all(r.headers["authorization"] == f"Bearer {PLANTED_KEY}" for r in chat_server.requests)
    assert len(chat_server.requests) == 2 + 3 + 1
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "HTTP 401" in md and "previous draft was kept" in md and "[redacted]" in md
    assert "HTTP 500" in (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "refused" in (tmp_path / "report.json").read_text(encoding="utf-8")
    recorded = sorted(cli_env.iterdir())
    assert len(recorded) == 3 and all(p.stat().st_size > 0 for p in recorded)
    assert "Incorrect API key provided: [redacted]" in recorded[1].read_text(encoding="utf-8")

    # the model never sees the key: no request body holds it, so no answer can quote it back honestly
    assert not any(PLANTED_KEY in str(r.body) for r in chat_server.requests)
    captured = capsys.readouterr()
    logs = caplog.text + "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    assert caplog.records  # the client did log, at DEBUG
    files = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert len(files) == 6
    for where, text in [("stdout", captured.out), ("stderr", captured.err), ("logs", logs)]:
        assert PLANTED_KEY not in text, where
    for path, data in files.items():
        assert PLANTED_KEY.encode() not in data, path


@pytest.mark.parametrize("status", [400, 401, 500])
def test_writer_errors_never_carry_the_key(chat_server: ChatServer, status: int, brief) -> None:
    """The WriterError the composer records: its message, repr, args and printed traceback."""
    echo_key(chat_server, status)
    echo_key(chat_server, status)
    with pytest.raises(WriterError) as caught:
        writer(chat_server).write(brief)
    error = caught.value
    printed = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    assert f"HTTP {status}" in str(error) and "[redacted]" in str(error)
    for text in (str(error), repr(error), str(error.args), printed):
        assert PLANTED_KEY not in text


@pytest.fixture
def brief():  # type: ignore[no-untyped-def]
    from tests.llm.conftest import make_brief

    return make_brief()
