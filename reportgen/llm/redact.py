"""Keep secrets out of everything the LLM layer writes down: error messages, usage notes, recordings.

The API key is the secret; it can surface in an ``Authorization`` header, in a server's error text
("Incorrect API key provided: sk-...") or in a recording. ``redact`` replaces every occurrence of a known
secret and anything shaped like a bearer token or an OpenAI-style key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"
SECRET_HEADERS = frozenset({"authorization", "api-key", "x-api-key", "openai-organization", "openai-project"})
# Key-shaped text even when we were not told the key: "sk-...", "Bearer ...".
_KEY_SHAPES = re.compile(r"\bsk-[A-Za-z0-9_\-]{20,}|(?i:bearer)\s+[A-Za-z0-9._~+/=\-]{8,}")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with each secret (and anything key-shaped) replaced by ``[redacted]``."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _KEY_SHAPES.sub(REDACTED, text)


def redact_json(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of a JSON value with every string passed through ``redact``."""
    known = tuple(secrets)
    if isinstance(value, str):
        return redact(value, known)
    if isinstance(value, list):
        return [redact_json(v, known) for v in value]
    if isinstance(value, dict):
        return {k: redact_json(v, known) for k, v in value.items()}
    return value


def redact_headers(headers: Iterable[tuple[str, str]], secrets: Iterable[str] = ()) -> dict[str, str]:
    """Headers as a dict, secret-bearing ones blanked and the rest passed through ``redact``."""
    known = tuple(secrets)
    return {
        name.lower(): REDACTED if name.lower() in SECRET_HEADERS else redact(value, known)
        for name, value in headers
    }
