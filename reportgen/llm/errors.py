"""Errors of the LLM layer, one branch under ``ReportgenError``.

Every error here means "this writer could not produce prose"; the caller (the report composer) catches
``WriterError`` and falls back to the offline writer, recording the message in the manifest. Messages name
what happened and never carry the API key (see ``redact``).
"""

from __future__ import annotations

from reportgen.errors import ReportgenError


class WriterError(ReportgenError):
    """An LLM writer gave up; the report can still be written by the offline writer."""


class WriterConfigError(WriterError):
    """The writer cannot be set up as configured (no API key for OpenAI, a bad budget)."""


class PromptBudgetError(WriterError):
    """The prompt does not fit the token budget even after every declared reduction."""


class DeadlineError(WriterError):
    """The caller's total deadline passed before the writer had an acceptable answer."""


class WriterUnavailableError(WriterError):
    """The server failed after the client's own transport retries (HTTP error, timeout, no connection)."""


class WriterRefusedError(WriterError):
    """The model refused to answer (``message.refusal``)."""


class AnswerTooLongError(WriterError):
    """The answer hit the completion-token limit again after a re-ask for a shorter one."""


class AnswerRejectedError(WriterError):
    """The answer still failed validation (JSON, schema, finding ids) when the re-asks ran out."""


class ReplayError(WriterError):
    """A replayed exchange does not match the request made, or the recording ran out."""
