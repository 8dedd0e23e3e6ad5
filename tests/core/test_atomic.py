"""Atomic output: the file appears whole or not at all, with the mode a new file would get."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from reportgen.atomic import write_text_atomic
from reportgen.errors import InputError


def test_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "r.md", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "r.md").stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["r.md"]  # no temporary file left


def test_replacing_keeps_the_old_mode(tmp_path: Path) -> None:
    target = tmp_path / "r.md"
    target.write_text("old")
    target.chmod(0o640)
    write_text_atomic(target, "new")
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o640


def test_missing_folder_is_an_input_error_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="output folder does not exist"):
        write_text_atomic(tmp_path / "nope" / "r.md", "x")
    assert list(tmp_path.iterdir()) == []
