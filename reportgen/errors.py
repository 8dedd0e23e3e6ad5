"""The one exception hierarchy of reportgen.

Library code raises; only the CLI turns an error into a message and an exit code. `InputError` is the
user's bad input: its message is one line naming the file (and the row or column when known) and what was
expected, so the CLI can print it verbatim and exit 2.
"""

from __future__ import annotations

from pathlib import Path


class ReportgenError(Exception):
    """Root of every error reportgen raises on purpose."""


class InputError(ReportgenError):
    """A file, flag or value the user gave cannot be used as given."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.row = row
        self.column = column
        self.detail = message
        super().__init__(self._one_line())

    def _one_line(self) -> str:
        where = []
        if self.path is not None:
            where.append(self.path)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        prefix = ", ".join(where)
        text = " ".join(self.detail.split())  # one line, whatever the cause's text held
        return f"{prefix}: {text}" if prefix else text


class UsageError(InputError):
    """A flag or option combination that cannot work (e.g. an unknown --input-format)."""
