"""Every registered detector has a fixture that triggers it and a negative twin that must not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reportgen.detectors.base import DetectConfig
from reportgen.detectors.registry import REGISTRY
from reportgen.detectors.run import run_detectors
from reportgen.io.load import load_sweep
from reportgen.io.options import LoadOptions
from tests.conftest import FIXTURES

ROOT = FIXTURES / "detectors"


def _load(folder: Path):
    options = json.loads((folder / "options.json").read_text()) if (folder / "options.json").exists() else {}
    for key in ("history", "sweep_config"):  # paths in options.json are relative to the fixture folder
        if key in options:
            options[key] = folder / options[key]
    if (folder / "history.csv").exists():
        options["history"] = folder / "history.csv"
    return load_sweep(folder / "runs.csv", LoadOptions(**options))


@pytest.mark.parametrize("spec", [pytest.param(s, id=s.name) for s in REGISTRY])
def test_trigger_fires_and_clean_twin_does_not(spec) -> None:
    trigger, clean = ROOT / spec.name / "trigger", ROOT / spec.name / "clean"
    assert trigger.is_dir() and clean.is_dir(), (
        f"fixtures/detectors/{spec.name}/trigger and clean are required"
    )
    # run the whole registry so detectors that read earlier findings (ctx.prior) see them
    fired = run_detectors(_load(trigger), DetectConfig())
    assert not fired.errors, fired.errors
    assert fired.by_name(spec.name), f"{spec.name} did not fire on its trigger fixture"
    quiet = run_detectors(_load(clean), DetectConfig())
    assert not quiet.errors, quiet.errors
    assert not quiet.by_name(spec.name), f"{spec.name} fired on its clean twin: {quiet.by_name(spec.name)}"
