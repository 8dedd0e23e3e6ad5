"""Detector configuration from `[tool.reportgen.detect]` in pyproject.toml or a `--config` TOML file,
with command-line flags over both (flags > --config file > pyproject.toml > defaults).

    [tool.reportgen.detect]
    ignore = ["top-runs"]
    [tool.reportgen.detect.thresholds.crashed-run]
    stale_after_hours = 12
    [tool.reportgen.detect.severity]
    short-run = "low"
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reportgen.detectors.base import DetectConfig
from reportgen.errors import InputError, UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise InputError("no such config file", path=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML ({exc})", path=path) from None


def _detect_table(doc: dict[str, Any], path: Path, standalone: bool) -> dict[str, Any]:
    """The detect settings of a TOML document: `[tool.reportgen.detect]`, or top-level in a --config file."""
    table = doc.get("tool", {}).get("reportgen", {}).get("detect")
    if table is None and standalone:
        table = doc.get("detect", doc)
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise InputError("[tool.reportgen.detect] must be a table", path=path)
    return table


def parse_set(item: str) -> tuple[str, str, Any]:
    """`detector.key=value` from --set, the value read as JSON when it parses (numbers, true, lists)."""
    target, sep, raw = item.partition("=")
    name, dot, key = target.strip().partition(".")
    if not sep or not dot or not name or not key:
        raise UsageError(f"--set expects DETECTOR.THRESHOLD=VALUE, not {item!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw.strip()
    return name, key.strip(), value


def load_detect_config(
    config_file: Path | None = None,
    *,
    project_dir: Path | None = None,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    sets: list[str] | None = None,
) -> DetectConfig:
    """The effective detector configuration (see the module docstring for precedence)."""
    merged: dict[str, Any] = {"thresholds": {}, "severity": {}}
    pyproject = (project_dir or Path.cwd()) / "pyproject.toml"
    sources = [(pyproject, False)] if pyproject.is_file() else []
    if config_file is not None:
        sources.append((config_file, True))
    for path, standalone in sources:
        table = _detect_table(_read_toml(path), path, standalone)
        for key, value in table.items():
            if key in ("thresholds", "severity") and isinstance(value, dict):
                for name, inner in value.items():
                    if key == "thresholds" and isinstance(inner, dict):
                        merged["thresholds"].setdefault(name, {}).update(inner)
                    else:
                        merged[key][name] = inner
            else:
                merged[key] = value
    if select:
        merged["select"] = select
    if ignore:
        merged["ignore"] = [*merged.get("ignore", []), *ignore]
    for item in sets or []:
        name, key, value = parse_set(item)
        merged["thresholds"].setdefault(name, {})[key] = value
    try:
        return DetectConfig(**merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UsageError(f"detector configuration: {where}: {first['msg']}") from None
