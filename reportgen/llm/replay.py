"""Record and replay LLM exchanges at the HTTP transport, so tests run with no server, network or key.

Both work below the ``openai`` client, as ``httpx2`` transports, so a replayed test goes through the same
client code (parsing, transport retries, errors) as a live call. Recording wraps the real transport and
writes every request/response pair to a JSON file as it happens, with secrets scrubbed (secret headers
blanked, the given secrets and anything key-shaped replaced, see ``redact``). Replaying serves the recorded
responses in order and raises ``ReplayError`` when a request differs from the recorded one (method, URL
path, or JSON body) or when the recording runs out, so a changed prompt fails loudly instead of
replaying a stale answer. Headers are not compared: they carry platform details and retry counters.

Record (against a live server)::

    writer = OpenAIWriter(model, http_client=recording_client(path, secrets=[api_key]))

Replay (base_url must have the recorded path prefix; the key is never checked)::

    writer = OpenAIWriter(model, base_url="http://replay.invalid/v1", api_key="replay",
                          http_client=replay_client(path))
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx2
from pydantic import BaseModel, Field

from reportgen.atomic import write_text_atomic
from reportgen.llm.errors import ReplayError
from reportgen.llm.redact import redact, redact_headers, redact_json

RECORDING_VERSION = 1
# Describe the bytes on the wire, not the decoded body a recording stores.
_WIRE_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding", "connection"})
_SHOWN = 120


class Exchange(BaseModel):
    """One request and the response it got, as JSON (a body that is not JSON is kept as text)."""

    method: str
    url: str
    request_headers: dict[str, str]
    request: Any
    status: int
    response_headers: dict[str, str]
    response: Any


class Recording(BaseModel):
    """A file of exchanges in the order they happened."""

    version: int = RECORDING_VERSION
    exchanges: list[Exchange] = Field(default_factory=list)


class RecordingTransport(httpx2.BaseTransport):
    """Passes requests to ``inner`` and appends each exchange, scrubbed, to the recording at ``path``."""

    def __init__(
        self, path: str | Path, *, secrets: Iterable[str] = (), inner: httpx2.BaseTransport | None = None
    ) -> None:
        self.path = Path(path)
        self._secrets = tuple(s for s in secrets if s)
        self._inner = inner or httpx2.HTTPTransport()
        self._recording = Recording()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = self._inner.handle_request(request)
        content = response.read()
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _WIRE_HEADERS]
        self._recording.exchanges.append(
            Exchange(
                method=request.method,
                url=redact(str(request.url), self._secrets),
                request_headers=redact_headers(request.headers.multi_items(), self._secrets),
                request=redact_json(_json_or_text(request.read()), self._secrets),
                status=response.status_code,
                response_headers=redact_headers(headers, self._secrets),
                response=redact_json(_json_or_text(content), self._secrets),
            )
        )
        write_text_atomic(self.path, self._recording.model_dump_json(indent=2) + "\n")
        return httpx2.Response(
            response.status_code,
            headers=headers,
            content=content,
            request=request,
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._inner.close()


class ReplayTransport(httpx2.BaseTransport):
    """Serves the exchanges recorded at ``path`` in order, checking each request against its recording."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._exchanges = Recording.model_validate_json(self.path.read_text(encoding="utf-8")).exchanges
        except (OSError, ValueError) as err:
            raise ReplayError(f"{self.path}: cannot read the recording: {err}") from None
        self.served = 0

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        number = self.served + 1
        if self.served >= len(self._exchanges):
            raise ReplayError(
                f"{self.path}: request {number} ({request.method} {request.url.path}) was not recorded: "
                f"the recording holds {len(self._exchanges)} exchanges"
            )
        recorded = self._exchanges[self.served]
        sent = redact_json(_json_or_text(request.read()))
        difference = (
            _difference("method", recorded.method, request.method)
            or _difference("path", httpx2.URL(recorded.url).path, request.url.path)
            or _difference("body", recorded.request, sent)
        )
        if difference:
            raise ReplayError(f"{self.path}: request {number} differs from the recording at {difference}")
        self.served = number
        body = recorded.response
        content = body.encode("utf-8") if isinstance(body, str) else json.dumps(body).encode("utf-8")
        return httpx2.Response(
            recorded.status, headers=recorded.response_headers, content=content, request=request
        )


def recording_client(
    path: str | Path, *, secrets: Iterable[str] = (), inner: httpx2.BaseTransport | None = None
) -> httpx2.Client:
    """An ``httpx2.Client`` for ``openai.OpenAI(http_client=...)`` that records to ``path``."""
    return httpx2.Client(transport=RecordingTransport(path, secrets=secrets, inner=inner))


def replay_client(path: str | Path) -> httpx2.Client:
    """An ``httpx2.Client`` for ``openai.OpenAI(http_client=...)`` that replays ``path``."""
    return httpx2.Client(transport=ReplayTransport(path))


def _json_or_text(content: bytes) -> Any:
    text = content.decode("utf-8", errors="replace")
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return text


def _difference(where: str, recorded: Any, sent: Any) -> str | None:
    """Where ``sent`` first differs from ``recorded`` ("body.messages[1].content: ..."), or None."""
    if isinstance(recorded, dict) and isinstance(sent, dict):
        for key in sorted(recorded.keys() | sent.keys()):
            if key not in sent or key not in recorded:
                return f"{where}.{key}: {'missing from the request' if key not in sent else 'not recorded'}"
            found = _difference(f"{where}.{key}", recorded[key], sent[key])
            if found:
                return found
        return None
    if isinstance(recorded, list) and isinstance(sent, list):
        for i, (r, s) in enumerate(zip(recorded, sent, strict=False)):
            found = _difference(f"{where}[{i}]", r, s)
            if found:
                return found
        if len(recorded) != len(sent):
            return f"{where}: {len(recorded)} items recorded, {len(sent)} sent"
        return None
    if recorded != sent:
        return f"{where}: recorded {_short(recorded)}, sent {_short(sent)}"
    return None


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."
