"""The GitHub Action (``action.yml``) and the pre-commit hook (``.pre-commit-hooks.yaml``) are well formed
and run ``reportgen check`` the way the README says."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from reportgen.cli.main import main
from tests.conftest import REPO


def load(name: str) -> Any:
    return yaml.safe_load((REPO / name).read_text(encoding="utf-8"))


def test_action_is_a_composite_action_with_the_documented_inputs() -> None:
    action = load("action.yml")
    assert {"name", "description", "inputs", "runs"} <= set(action)
    inputs = action["inputs"]
    assert set(inputs) == {"sweep", "history", "files", "fail-on", "args", "install", "python-version"}
    assert inputs["sweep"]["required"] is True
    assert all(inputs[k]["required"] is False for k in set(inputs) - {"sweep"})
    assert inputs["fail-on"]["default"] == "contradicted"
    assert all(isinstance(spec.get("description"), str) and spec["description"] for spec in inputs.values())
    runs = action["runs"]
    assert runs["using"] == "composite"
    for step in runs["steps"]:
        assert ("uses" in step) != ("run" in step)
        if "run" in step:
            assert step["shell"] == "bash"
            # inputs reach scripts through env only, never pasted into the script (script injection)
            assert "${{" not in step["run"]
    [check] = [s for s in runs["steps"] if "run" in s and "reportgen check" in s["run"]]
    assert "reportgen check --format github" in check["run"]
    assert "--fail-on" in check["run"] and check["env"]["FAIL_ON"] == "${{ inputs.fail-on }}"
    assert "git diff" in check["run"] and check["env"]["BASE_REF"] == "${{ github.base_ref }}"


def test_action_flags_are_check_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    usage = capsys.readouterr().out
    for flag in ("--format", "github", "--sweep", "--history", "--fail-on"):
        assert flag in usage


def test_pre_commit_hook() -> None:
    [hook] = load(".pre-commit-hooks.yaml")
    assert hook["id"] == "reportgen-check"
    assert hook["entry"] == "reportgen check"
    assert hook["language"] == "python"
    assert hook["files"] == r"\.md$"
    assert hook["require_serial"] is True
    assert "--sweep" in hook["description"]
