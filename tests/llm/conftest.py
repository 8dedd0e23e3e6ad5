"""The LLM layer's test kit: briefs built by hand, and a real HTTP server on 127.0.0.1 that speaks enough
of ``/v1/chat/completions`` for the ``openai`` client, answering from a per-test script.

No test here needs the network or a real key: the writer talks to this server (or to a replay), and the
key is a planted fake that tests assert never leaks.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from reportgen.llm.openai_writer import OpenAIWriter
from reportgen.report.model import Overview, Paragraph, Recommendation
from reportgen.report.writing import Brief, BriefFinding, BriefSection, Prose, SectionProse

# Distinctive, key-shaped and fake: any trace of it in usage, errors or recordings is a leak.
PLANTED_KEY = "sk-test-PLANTED0KEY0d1stinct1ve0000000000"
SEVERITIES = ("high", "medium", "low", "info")


def make_brief(
    findings: int = 3, *, runs: int = 2, facts: int = 1, table_lines: int = 0, note: str = ""
) -> Brief:
    """A brief with ``findings`` findings (severities cycling high, medium, low, info), each with ``runs``
    run ids and ``facts`` facts, and two sections (overview: all findings; crashes: the first) with
    ``table_lines`` lines each. ``note`` is appended to every run id, to plant text in the data."""
    items = [
        BriefFinding(
            id=f"CRS{n:03d}-{n:010x}",
            code=f"CRS{n:03d}",
            name="crashed-run",
            severity=SEVERITIES[n % len(SEVERITIES)],
            title=f"{runs} runs crashed before step 100",
            runs=[f"run-{n}-{r}{note}" for r in range(runs)],
            runs_total=runs,
            facts=[f"run run-{n}-{r} crashed at step {10 * (r + 1)} of 100" for r in range(facts)],
        )
        for n in range(findings)
    ]
    ids = [f.id for f in items]
    lines = [f"| run-{i} | crashed | {i * 10} |" for i in range(table_lines)]
    return Brief(
        title="Sweep report",
        overview=Overview(
            runs=20,
            states={"finished": 20 - findings, "crashed": findings},
            objective="val_loss",
            direction="min",
            best_run="run-0-0",
            best_value=0.25,
            first_created=None,
            last_created=None,
            runs_with_issues=findings,
            issue_instances=findings,
            issue_types={"crashed-run": findings},
        ),
        findings=items,
        sections=[
            BriefSection(key="overview", title="Overview", findings=ids, table_lines=lines),
            BriefSection(key="crashes", title="Crash pattern", findings=ids[:1], table_lines=lines),
        ],
    )


def valid_prose(brief: Brief) -> Prose:
    """A correct answer for ``brief``: one paragraph per section and one recommendation, citing real ids."""
    first = brief.findings[0].id
    return Prose(
        sections=[
            SectionProse(key=s.key, paragraphs=[Paragraph(text=f"About {s.title}.", cites=s.findings[:1])])
            for s in brief.sections
        ],
        recommendations=[
            Recommendation(title="Lower the learning rate", text="Crashes cluster.", cites=[first])
        ],
    )


def completion(
    content: str | None,
    *,
    finish_reason: str = "stop",
    refusal: str | None = None,
    prompt_tokens: int = 120,
    completion_tokens: int = 40,
) -> dict[str, Any]:
    """A chat.completion response body."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": "test-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


@dataclass
class Reply:
    """One scripted response. The optional fields inject transport faults: ``delay`` seconds before the
    answer (``math.inf``: never, until the server shuts down), ``raw`` bytes sent instead of ``body`` as
    JSON, and ``declared_length``, a Content-Length to claim (larger than the bytes sent: the connection is
    closed after them, so the client sees a body cut off mid-way)."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    raw: bytes | None = None
    declared_length: int | None = None


@dataclass
class Received:
    """A request the server got: its path, headers (lower-cased names) and JSON body."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float = field(default_factory=time.monotonic)  # when it arrived (time.monotonic)

    def text(self) -> str:
        """Every message's content, joined: what the model was told."""
        return "\n".join(m["content"] for m in self.body["messages"])


class ChatServer:
    """Scripted answers, served in order; every request is kept for assertions."""

    def __init__(self) -> None:
        self.base_url = ""  # set once the port is bound
        self.script: list[Reply] = []
        self.requests: list[Received] = []
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)  # notified on every request
        self.released = threading.Event()  # set at shutdown: every stalled reply gives up

    def answer(self, content: str | None, **kwargs: Any) -> None:
        """Script a 200 chat completion (see ``completion`` for the keywords)."""
        self.script.append(Reply(200, completion(content, **kwargs)))

    def answer_prose(self, prose: Prose) -> None:
        self.answer(prose.model_dump_json())

    def fail(self, status: int, headers: dict[str, str] | None = None) -> None:
        """Script an error response, shaped like OpenAI's."""
        body = {"error": {"message": f"scripted {status}", "type": "server_error", "code": None}}
        self.script.append(Reply(status, body, headers or {}))

    def stall(self, seconds: float = math.inf) -> None:
        """Script a good-looking answer that only starts after ``seconds`` (by default: never)."""
        self.script.append(Reply(200, completion("{}"), delay=seconds))

    def cut_off(self, content: str, *, keep: float = 0.5) -> None:
        """Script a 200 whose body stops after ``keep`` of its bytes, with the full Content-Length claimed
        and the connection closed: a JSON document cut off mid-way."""
        payload = json.dumps(completion(content)).encode()
        self.script.append(
            Reply(200, {}, raw=payload[: int(len(payload) * keep)], declared_length=len(payload))
        )

    def raw_body(self, data: bytes, *, status: int = 200, content_type: str = "application/json") -> None:
        """Script a response whose body is ``data`` as is (e.g. not JSON at all)."""
        self.script.append(Reply(status, {}, headers={"content-type": content_type}, raw=data))

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> bool:
        """Block until the server has received ``count`` requests (False on timeout)."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)

    def next_reply(self, received: Received) -> Reply:
        with self.lock:
            self.requests.append(received)
            self.arrived.notify_all()
            if not self.script:
                return Reply(599, {"error": {"message": "the test scripted no more answers"}})
            return self.script.pop(0)


def _handler(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = server.next_reply(Received(self.path, headers, body))
            if reply.delay and server.released.wait(None if math.isinf(reply.delay) else reply.delay):
                self.close_connection = True
                return  # shut down while stalled: answer nothing
            payload = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                if "content-type" not in reply.headers:
                    self.send_header("content-type", "application/json")
                self.send_header("content-length", str(reply.declared_length or len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timed out) first
                pass
            if reply.declared_length is not None:
                self.close_connection = True  # the rest of the body never comes

        def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
            pass

    return Handler


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    """A scripted chat-completions server on a free port of 127.0.0.1, for one test."""
    server = ChatServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    server.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.released.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def make_writer(chat_server: ChatServer) -> Callable[..., OpenAIWriter]:
    """make_writer(**kwargs) -> an OpenAIWriter on the scripted server, with the planted key."""

    def make(**kwargs: Any) -> OpenAIWriter:
        options: dict[str, Any] = {
            "base_url": chat_server.base_url,
            "api_key": PLANTED_KEY,
            "timeout": 10.0,
        }
        return OpenAIWriter("test-model", **{**options, **kwargs})

    return make


@pytest.fixture
def planted_key() -> str:
    return PLANTED_KEY


@pytest.fixture
def brief_factory() -> Callable[..., Brief]:
    """make_brief(findings=3, *, runs=2, facts=1, table_lines=0, note="") -> Brief."""
    return make_brief


@pytest.fixture
def brief() -> Brief:
    """A small brief: three findings (high, medium, low) in two sections."""
    return make_brief()


@pytest.fixture
def prose_for() -> Callable[[Brief], Prose]:
    """prose_for(brief) -> a valid answer citing the brief's own ids."""
    return valid_prose
