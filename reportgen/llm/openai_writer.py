"""``OpenAIWriter``: the report's prose from any OpenAI-compatible server (OpenAI, vLLM, llama.cpp, Ollama).

One layer owns each retry. The ``openai`` client retries the transport (429, 5xx, timeouts, honouring
``Retry-After``) ``max_retries`` times; nothing here wraps it again. This module owns the semantic re-asks,
with tenacity: an answer that is not JSON, breaks the schema, cites ids the brief lacks, or was cut off at
the completion-token limit is sent back with the exact problems, at most ``max_attempts`` calls in all and
never past the caller's ``deadline``. A refusal is not re-asked: the caller falls back instead.

The deadline is strict: with one set, each call runs on a worker thread and is abandoned (``DeadlineError``)
when the deadline passes, whatever the client is doing then (a stalled read, its transport retries, a long
``Retry-After`` sleep). A response that is not a chat completion (not JSON, the wrong shape) is a
``WriterUnavailableError``, and a call that fails still counts the transport retries it took.

Construct it once per report and pass a deadline that covers every ``write`` of the report::

    writer = OpenAIWriter(model, deadline=time.monotonic() + 300)   # OPENAI_BASE_URL / OPENAI_API_KEY
    prose = writer.write(brief)                                       # raises WriterError to fall back

The API key is read from the argument or ``OPENAI_API_KEY`` (a server at ``OPENAI_BASE_URL`` may need
none) and goes only to the client: errors and usage are passed through ``redact``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import httpx2
import openai
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from reportgen.llm.answer import check_answer
from reportgen.llm.budget import Budget, count_request, fit_brief
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
from reportgen.llm.prompts import template_hashes
from reportgen.llm.redact import redact
from reportgen.llm.schema import Limits
from reportgen.llm.tokens import count_tokens
from reportgen.report.writing import Brief, Problem, Prose, Usage

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion

_NO_KEY = "no-key"  # OpenAI-compatible local servers need no key, but the client insists on one
_SHOWN_PROBLEMS = 3


class _Reask(Exception):
    """An answer to send back: what was wrong with it (internal; tenacity retries on it)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0].message if problems else "rejected")
        self.problems = problems


class OpenAIWriter:
    """A ``Writer`` over the chat-completions API with structured output, validated on the client."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 2,
        max_attempts: int = 3,
        deadline: float | None = None,
        budget: Budget | None = None,
        limits: Limits | None = None,
        max_completion_tokens: int = 4096,
        temperature: float | None = None,
        seed: int | None = None,
        extra_body: dict[str, Any] | None = None,
        name: str = "openai",
        ordered_sections: bool = False,
        schema_in_prompt: bool = True,
        http_client: httpx2.Client | None = None,
    ) -> None:
        """``deadline`` is a ``time.monotonic()`` instant after which no call starts and past which a call
        in flight is abandoned (its transport retries and ``Retry-After`` sleeps included); each call's
        timeout is also cut to the time left. ``extra_body`` carries a server's own sampling fields
        (llama.cpp's ``repeat_penalty``, say); ``ordered_sections`` asks for the sections as a fixed
        sequence (``schema.prose_schema``; for grammar-constrained servers, not OpenAI's strict mode);
        ``schema_in_prompt`` False leaves ``response_format`` out of the token count, for servers that
        turn it into a grammar instead of prompt text (llama.cpp). ``name`` is what the manifest calls the
        writer.
        ``http_client`` lets tests and ``replay`` swap the transport."""
        base = base_url or os.environ.get("OPENAI_BASE_URL") or None
        key = api_key or os.environ.get("OPENAI_API_KEY") or None
        if key is None and base is None:
            raise WriterConfigError("OPENAI_API_KEY is not set (or set OPENAI_BASE_URL for a local server)")
        if max_attempts < 1:
            raise WriterConfigError(f"max_attempts must be at least 1, not {max_attempts}")
        self.name = name
        self.model: str | None = model  # the Writer protocol's type; requests use _model
        self._model = model
        self.usage = Usage(templates=template_hashes())
        self.deadline = deadline
        self.budget = budget or Budget()
        self.limits = limits or Limits()
        self.max_attempts = max_attempts
        self.ordered_sections = ordered_sections
        self.schema_in_prompt = schema_in_prompt
        self.timeout = timeout
        self._secrets = (key,) if key else ()
        self._client = openai.OpenAI(
            base_url=base,
            api_key=key or _NO_KEY,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
        )
        # OpenAI's own API wants max_completion_tokens (reasoning models reject max_tokens); the
        # compatible servers (vLLM, llama.cpp, Ollama) know max_tokens.
        native = base is None or "api.openai.com" in base
        self._request_options: dict[str, Any] = {
            "max_completion_tokens" if native else "max_tokens": max_completion_tokens
        }
        if temperature is not None:
            self._request_options["temperature"] = temperature
        if seed is not None:
            self._request_options["seed"] = seed
        if extra_body:
            self._request_options["extra_body"] = dict(extra_body)

    def write(self, brief: Brief, feedback: list[Problem] | None = None) -> Prose:
        """Prose for ``brief``; with ``feedback``, the checker's problems are quoted in the request."""
        started = time.monotonic()
        try:
            return self._write(brief, feedback)
        finally:
            self.usage.seconds += time.monotonic() - started

    def _write(self, brief: Brief, feedback: list[Problem] | None) -> Prose:
        def first_request(candidate: Brief) -> int:
            return self._count(Conversation.start(candidate, feedback, self.limits, self.ordered_sections))

        fitted = fit_brief(brief, first_request, self.budget)
        self.usage.budget_reductions += [
            r for r in fitted.reductions if r not in self.usage.budget_reductions
        ]
        convo = Conversation.start(fitted.brief, feedback, self.limits, self.ordered_sections)
        retrying = Retrying(
            stop=self._stop,
            retry=retry_if_exception_type(_Reask),
            before_sleep=self._count_reask,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._attempt(convo)
        except _Reask as last:
            calls = retrying.statistics.get("attempt_number", self.max_attempts)
            summary = "; ".join(f"{p.where}: {p.message}" for p in last.problems[:_SHOWN_PROBLEMS])
            cls = DeadlineError if self._time_left() == 0 else AnswerRejectedError
            raise cls(
                redact(f"{self.model}: answer still invalid after {calls} calls: {summary}", self._secrets)
            ) from None
        raise AssertionError("tenacity ended without a result or an error")  # unreachable: reraise=True

    def _attempt(self, convo: Conversation) -> Prose:
        """One call: send the conversation, validate the answer, and prepare the re-ask when it fails."""
        tokens = self._count(convo)
        if tokens > self.budget.prompt_tokens and convo.drop_answer():
            self.usage.notes.append(
                f"re-ask {self.usage.reasks}: sent without the rejected answer to fit the budget"
            )
            tokens = self._count(convo)
        if tokens > self.budget.prompt_tokens:
            raise PromptBudgetError(
                f"the re-ask needs {tokens:,} prompt tokens, over the budget of {self.budget.prompt_tokens:,}"
            )
        completion = self._call(convo, tokens)
        if not completion.choices:
            raise WriterUnavailableError(f"{self.model} at {self._client.base_url} returned no choices")
        choice = completion.choices[0]
        if choice.message.refusal:
            raise WriterRefusedError(redact(f"{self.model} refused: {choice.message.refusal}", self._secrets))
        if choice.finish_reason == "length":
            if convo.shortened:
                raise AnswerTooLongError(
                    f"{self.model}: the answer hit the completion-token limit again after a re-ask for a "
                    "shorter one; raise max_completion_tokens"
                )
            convo.reask_shorter()
            cut = Problem(where="answer", text="", message="cut off at the completion-token limit")
            raise _Reask([cut])
        prose, problems = check_answer(choice.message.content, convo.brief)
        if prose is not None:
            return prose
        convo.reask(choice.message.content or "", problems)
        raise _Reask(problems)

    def _count(self, convo: Conversation) -> int:
        """The prompt tokens ``convo``'s next request costs on this server."""
        return count_request(convo.messages, convo.response_format() if self.schema_in_prompt else None)

    def _call(self, convo: Conversation, counted_tokens: int) -> ChatCompletion:
        """One chat-completions request (the client may retry its transport inside it)."""
        left = self._time_left()
        if left == 0:
            raise DeadlineError(f"{self.model}: the deadline passed before the call")
        self.usage.calls += 1
        try:
            raw = self._within_deadline(
                lambda: self._client.chat.completions.with_raw_response.create(
                    model=self._model,
                    messages=cast(Any, convo.messages),
                    response_format=cast(Any, convo.response_format()),
                    timeout=self.timeout if left is None else min(self.timeout, left),
                    **self._request_options,
                ),
                left,
            )
        except openai.APIError as err:
            self.usage.retries += _retries_taken(err)
            raise WriterUnavailableError(self._describe(err)) from None
        self.usage.retries += raw.retries_taken
        completion = self._parse(raw)
        reported = completion.usage
        if reported is None:  # some compatible servers omit usage: count what was sent and received
            contents = [c.message.content or "" for c in completion.choices]
            self.usage.prompt_tokens += counted_tokens
            self.usage.completion_tokens += sum(count_tokens(c) for c in contents)
        else:
            self.usage.prompt_tokens += reported.prompt_tokens
            self.usage.completion_tokens += reported.completion_tokens
        return completion

    def _within_deadline(self, call: Callable[[], Any], left: float | None) -> Any:
        """``call()``, given at most ``left`` seconds: past them it is abandoned on its daemon thread (the
        client's own timeout ends it soon after) and ``DeadlineError`` is raised. No deadline: a plain
        call."""
        if left is None:
            return call()
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def work() -> None:
            try:
                outcome["result"] = call()
            except BaseException as err:  # handed to the caller's thread below
                outcome["error"] = err
            finally:
                done.set()

        threading.Thread(target=work, name="reportgen-llm-call", daemon=True).start()
        if not done.wait(left):
            raise DeadlineError(
                f"{self.model} at {self._client.base_url}: no answer before the deadline "
                f"({left:.1f} s left when the call started); the call was abandoned"
            )
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]

    def _parse(self, raw: Any) -> ChatCompletion:
        """The completion in ``raw``; a body that is not JSON or not shaped like a chat completion is the
        server failing (``WriterUnavailableError``), not an answer to re-ask."""
        try:
            completion = cast("ChatCompletion", raw.parse())
            choices = completion.choices
            if not isinstance(choices, list):
                raise TypeError(f"'choices' is {type(choices).__name__}, not a list")
            for choice in choices:
                if getattr(choice, "message", None) is None:
                    raise TypeError("a choice has no 'message'")
        except (ValueError, TypeError, AttributeError) as err:
            first = (str(err).splitlines() or [""])[0][:200]
            raise WriterUnavailableError(
                redact(
                    f"{self.model} at {self._client.base_url} answered with a body that is not a chat "
                    f"completion ({type(err).__name__}: {first})",
                    self._secrets,
                )
            ) from None
        return completion

    def _stop(self, state: RetryCallState) -> bool:
        return state.attempt_number >= self.max_attempts or self._time_left() == 0

    def _count_reask(self, state: RetryCallState) -> None:
        """Record a re-ask (tenacity calls this only when another attempt follows)."""
        self.usage.reasks += 1
        error = state.outcome.exception() if state.outcome else None
        problems = error.problems if isinstance(error, _Reask) else []
        shown = "; ".join(f"{p.where}: {p.message}" for p in problems[:_SHOWN_PROBLEMS])
        more = f" (+{len(problems) - _SHOWN_PROBLEMS} more)" if len(problems) > _SHOWN_PROBLEMS else ""
        self.usage.notes.append(redact(f"re-ask {self.usage.reasks}: {shown}{more}", self._secrets))

    def _time_left(self) -> float | None:
        """Seconds to the deadline (0 once past it), or None without a deadline."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def _describe(self, err: openai.APIError) -> str:
        where = f"{self.model} at {self._client.base_url}"
        if isinstance(err, openai.APITimeoutError):
            what = "timed out"
        elif isinstance(err, openai.APIConnectionError):
            # the cause says which: refused, DNS, or a body cut off ("peer closed connection without ...")
            cause = err.__cause__
            what = "could not be reached" if isinstance(cause, httpx2.ConnectError) else "connection failed"
            detail = str(cause or "").strip().splitlines()
            what += f" ({detail[0][:200]})" if detail else ""
        elif isinstance(err, openai.APIStatusError):
            what = f"answered HTTP {err.status_code}: {err.message}"
        else:
            what = f"failed: {err.message}"
        retries = f"the client retries 429, 5xx and timeouts up to {self._client.max_retries} times"
        return redact(f"{where} {what} ({retries})", self._secrets)


def _retries_taken(err: openai.APIError) -> int:
    """The transport retries the client made before ``err`` (each request carries its retry count)."""
    request = getattr(err, "request", None)
    try:
        return int(request.headers.get("x-stainless-retry-count", "0")) if request is not None else 0
    except (TypeError, ValueError):
        return 0
