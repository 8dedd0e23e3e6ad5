"""`reportgen detect`, `reportgen explain` and the detector configuration sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reportgen.cli.main import main
from reportgen.config import load_detect_config, parse_set
from reportgen.errors import UsageError
from tests.conftest import FIXTURES

SEED = FIXTURES / "seed000"


def test_detect_json_has_the_documented_shape(capsys) -> None:
    assert (
        main(["detect", str(SEED / "runs.csv"), "--history", str(SEED / "history.csv"), "--format", "json"])
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema_version"] == 1
    assert doc["sweep"]["runs"] == 8 and doc["sweep"]["states"] == {"finished": 7, "crashed": 1}
    nan = [
        f
        for f in doc["findings"]
        if f["name"] == "nan-or-inf-metric" and f["evidence"]["metric"] == "val_loss"
    ]
    assert nan and nan[0]["run_ids"] == ["2", "4"]
    assert set(nan[0]) == {"id", "code", "name", "severity", "title", "run_ids", "evidence"}
    assert {r["run_id"]: r["first_bad_step"] for r in nan[0]["evidence"]["runs"]} == {"2": 4.0, "4": 13.0}


def test_detect_text_and_select(capsys) -> None:
    assert main(["detect", str(SEED / "runs.csv"), "--select", "RUN001"]) == 0
    out = capsys.readouterr().out
    assert "RUN001 crashed-run" in out and "1 of 8 runs failed (1 crashed)" in out
    assert "NAN001" not in out.split("(not run:")[0]


def test_explain_lists_and_documents(capsys) -> None:
    assert main(["explain", "--format", "json"]) == 0
    listing = json.loads(capsys.readouterr().out)["detectors"]
    assert {"code": "NAN001", "name": "nan-or-inf-metric"}.items() <= listing[0].items()
    assert main(["explain", "crashed-run"]) == 0
    out = capsys.readouterr().out
    assert "Why it matters:" in out and "stale_after_hours = 6.0" in out
    assert main(["explain", "nosuch"]) == 2
    assert "no detector 'nosuch'" in capsys.readouterr().err


def test_config_precedence_pyproject_then_file_then_flags(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.reportgen.detect]\nignore = ["nan-or-inf-metric"]\n'
        "[tool.reportgen.detect.thresholds.crashed-run]\nstale_after_hours = 12\ncommon_step_share = 0.7\n"
    )
    extra = tmp_path / "reportgen.toml"
    extra.write_text("[thresholds.crashed-run]\nstale_after_hours = 24\n[severity]\ncrashed-run = 'medium'\n")
    config = load_detect_config(extra, project_dir=tmp_path, sets=["crashed-run.common_step_share=0.9"])
    assert config.ignore == ["nan-or-inf-metric"]
    assert config.thresholds["crashed-run"] == {"stale_after_hours": 24, "common_step_share": 0.9}
    assert config.severity == {"crashed-run": "medium"}


def test_bad_configuration_is_a_usage_error(tmp_path: Path, capsys) -> None:
    with pytest.raises(UsageError, match="--set expects"):
        parse_set("stale_after_hours=3")
    assert main(["detect", str(SEED / "runs.csv"), "--set", "crashed-run.stale_after_hours=-1"]) == 2
    assert (
        "threshold crashed-run.stale_after_hours: Input should be greater than 0" in capsys.readouterr().err
    )
    assert main(["detect", str(SEED / "runs.csv"), "--set", "crashed-run.nope=1"]) == 2
    assert "crashed-run.nope" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("[thresholds\n")
    assert main(["detect", str(SEED / "runs.csv"), "--config", str(bad)]) == 2
    assert "not valid TOML" in capsys.readouterr().err
