"""One golden file per `reportgen check` output format, for ``drafts/seed000_review.md`` against the seed-000
fixture. ``REPORTGEN_UPDATE_GOLDEN=1`` rewrites the golden files instead of comparing (review the diff).

The CLI runs from the repo root with relative paths, so no absolute path reaches the output; the SARIF
driver version is replaced by ``VERSION`` so a release does not change the golden file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reportgen.cli.main import main
from tests.conftest import REPO

HERE = Path(__file__).parent
GOLDEN = HERE / "golden"
DRAFT = "tests/check/drafts/seed000_review.md"
SWEEP = ["--sweep", "fixtures/seed000/runs.csv", "--history", "fixtures/seed000/history.csv"]
SUFFIX = {
    "full": "full.txt",
    "concise": "concise.txt",
    "json": "json",
    "github": "github.txt",
    "sarif": "sarif",
}


def assert_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("REPORTGEN_UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8", newline="")
        return
    assert path.is_file(), f"{path} missing: run with REPORTGEN_UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs (REPORTGEN_UPDATE_GOLDEN=1 updates)"


def normalise_sarif(text: str) -> str:
    log = json.loads(text)
    log["runs"][0]["tool"]["driver"]["version"] = "VERSION"
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(REPO)
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    return summary


@pytest.mark.parametrize("fmt", list(SUFFIX))
def test_golden_output(fmt: str, in_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", DRAFT, *SWEEP, "--format", fmt]) == 1  # the draft has contradicted claims
    out = capsys.readouterr().out
    assert str(REPO) not in out
    assert_golden(f"seed000_review.{SUFFIX[fmt]}", normalise_sarif(out) if fmt == "sarif" else out)
    if fmt == "github":
        assert_golden("seed000_review.github-summary.md", in_repo.read_text(encoding="utf-8"))
