"""The wheel carries the prompt templates, and the explicit package list in pyproject.toml misses nothing.

pyproject.toml lists the packages by hand (discovery cannot map the top-level prompts/ folder to
``reportgen.prompts``), so a new folder under reportgen/ must be added there: this test says which.
"""

from __future__ import annotations

import sys
from pathlib import Path

from reportgen.llm.prompts import TEMPLATES
from tests.conftest import REPO

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def _setuptools() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def _packages_on_disk() -> set[str]:
    """Every folder under reportgen/ that Python would import as a (namespace) package."""
    root = REPO / "reportgen"
    folders = [root, *(p for p in root.rglob("*") if p.is_dir())]
    return {
        ".".join(p.relative_to(REPO).parts)
        for p in folders
        if all(part.isidentifier() and part != "__pycache__" for part in p.relative_to(REPO).parts)
    }


def test_every_package_is_listed() -> None:
    listed = set(_setuptools()["packages"])
    assert listed - {"reportgen.prompts"} == _packages_on_disk()


def test_prompts_are_packaged_as_reportgen_prompts() -> None:
    config = _setuptools()
    assert config["package-dir"]["reportgen.prompts"] == "prompts"
    assert "*.j2" in config["package-data"]["reportgen.prompts"]
    assert all((REPO / "prompts" / name).is_file() for name in TEMPLATES)
    assert Path(REPO / "prompts").is_dir()
