"""No data loss on interrupt: ``reportgen report --llm openai -o report.md`` run as a real process, stopped
with SIGINT while its LLM call hangs on a stalled server, exits 130 with one line on stderr, leaves the
earlier report.md byte-for-byte as it was, and leaves no temporary file beside it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.reliability.conftest import (
    PLANTED_KEY,
    SEED,
    ChatServer,
)

EARLIER = b"# An earlier report\n\nKept byte for byte: \xc3\xa9\r\n\x00 and no newline at the end"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigint_during_the_llm_call_keeps_the_earlier_report(chat_server: ChatServer, tmp_path: Path) -> None:
    chat_server.stall()  # never answers
    target = tmp_path / "report.md"
    target.write_bytes(EARLIER)
    before = sorted(p.name for p in tmp_path.iterdir())
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "OPENAI_BASE_URL": chat_server.base_url,
        "OPENAI_API_KEY": PLANTED_KEY,
        "REPORTGEN_MODEL": "test-model",
    }
    command = [sys.executable, "-m", "reportgen.cli.main", "report", str(SEED / "runs.csv")]
    command += ["--history", str(SEED / "history.csv"), "--llm", "openai", "-o", str(target)]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert chat_server.wait_for_requests(1, timeout=30), "the report never called the server"
        assert process.poll() is None  # mid-call: the server has not answered
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, err
    assert err.decode().strip() == "reportgen: interrupted" and out == b""
    assert target.read_bytes() == EARLIER
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no .report.md.*.tmp left
    assert PLANTED_KEY.encode() not in out + err


def test_an_interrupt_mid_write_keeps_the_earlier_report(
    seed,
    chat_server: ChatServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The interrupt lands after the new report's bytes went to the temporary file, before the rename."""
    import reportgen.atomic
    from reportgen.cli.main import main
    from tests.reliability.conftest import answer

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    chat_server.answer_prose(answer(seed))
    monkeypatch.setenv("OPENAI_BASE_URL", chat_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", PLANTED_KEY)
    monkeypatch.setenv("REPORTGEN_MODEL", "test-model")
    monkeypatch.setattr(reportgen.atomic.os, "fsync", interrupted)
    target = tmp_path / "report.md"
    target.write_bytes(EARLIER)
    args = [str(SEED / "runs.csv"), "--history", str(SEED / "history.csv"), "--llm", "openai"]
    assert main(["report", *args, "-o", str(target)]) == 130
    assert capsys.readouterr().err == "reportgen: interrupted\n"
    assert len(chat_server.requests) == 1  # the report was written, then interrupted
    assert target.read_bytes() == EARLIER
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]
