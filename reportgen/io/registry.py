"""The contract of an export format: its name, how to recognise it and how to read it.

The table of formats itself is `reportgen.io.formats.LOADERS`; adding a format touches one loader module
and one row there. `sniff` must be cheap (a file name, a header
line, a folder listing) and must not raise; formats are tried in table order, most specific first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reportgen.io.options import LoadOptions
from reportgen.io.raw import RawSweep


@dataclass(frozen=True)
class LoaderSpec:
    """One export format."""

    name: str
    summary: str
    sniff: Callable[[Path], bool]
    read: Callable[[Path, LoadOptions], RawSweep]
    extra: str | None = None  # the pip extra its optional dependency comes from
