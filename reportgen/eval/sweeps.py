"""The eval suite's bundled sweeps: ``reportgen/eval/suite-data/sweeps/<name>/``, an export and a
``sweep.json``.

``sweep.json`` names the runs file (``runs``), optionally a ``history`` file and ``options`` for
``LoadOptions`` (``study``, ``sweep_config``...; paths relative to the folder), and where the data came from
(``source``, ``licence``). Every sweep is a copy of one of the repo's own fixtures, or of a real export whose
licence allows it (``../shared/realdata/SOURCES.md``), attributed in its ``sweep.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from reportgen.factcheck.entities import Vocabulary, build_vocabulary
from reportgen.facts import FactSheet
from reportgen.findings import Detection
from reportgen.sweep import Sweep

# data folders are named so that Python never takes them for packages (tests/llm/test_llm_packaging.py)
DATA_DIR = Path(__file__).resolve().parent / "suite-data"
SWEEPS_DIR = DATA_DIR / "sweeps"
CASES_DIR = DATA_DIR / "cases"
_PATH_OPTIONS = ("history", "sweep_config")


@dataclass(frozen=True)
class LoadedSweep:
    """One bundled sweep, loaded and run through the detectors exactly as ``reportgen check`` does."""

    name: str
    sweep: Sweep
    detection: Detection
    facts: FactSheet
    vocab: Vocabulary


def sweep_names(root: Path = SWEEPS_DIR) -> list[str]:
    """Every bundled sweep, sorted."""
    return sorted(p.parent.name for p in root.glob("*/sweep.json"))


@cache
def load_eval_sweep(name: str, root: Path = SWEEPS_DIR) -> LoadedSweep:
    """Load ``root/<name>`` (cached per process: cases and generated claims share one load)."""
    from reportgen.detectors.run import run_detectors
    from reportgen.facts import build_factsheet
    from reportgen.io.load import LoadOptions, load_sweep

    folder = root / name
    meta: dict[str, Any] = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
    options: dict[str, Any] = dict(meta.get("options", {}))
    if meta.get("history"):
        options["history"] = meta["history"]
    for key in _PATH_OPTIONS:
        if key in options:
            options[key] = folder / options[key]
    sweep = load_sweep(folder / meta["runs"], LoadOptions(**options))
    detection = run_detectors(sweep)
    facts = build_factsheet(sweep, detection)
    return LoadedSweep(name, sweep, detection, facts, build_vocabulary(sweep, facts))
