"""`reportgen inspect` and the error contract of the command line, through a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO

SEED = FIXTURES / "seed000"


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reportgen", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


def test_inspect_text_shows_states_params_objective_history() -> None:
    out = run("inspect", SEED / "runs.csv", "--history", SEED / "history.csv")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "runs: 8  (ids from trial_id)" in text
    assert "crashed        1   12.5%" in text
    assert "lr " in text and "log-scale" in text
    assert "objective: val_loss (min, inferred)" in text
    assert "history: 290 rows, 8 runs, 2 metrics, epoch 1 .. 20" in text


def test_inspect_json_is_versioned_and_complete() -> None:
    out = run("inspect", SEED / "runs.csv", "--history", SEED / "history.csv", "--format", "json")
    doc = json.loads(out.stdout)
    assert doc["schema_version"] == 1 and doc["runs"] == 8
    assert {s["state"]: s["runs"] for s in doc["states"]} == {"finished": 7, "crashed": 1}
    val = next(m for m in doc["metrics"] if m["name"] == "val_loss")
    assert val["inf_runs"] == 1 and val["missing_or_nan_runs"] == 1
    assert doc["history"]["rows"] == 290 and len(doc["source"]["sha256"]) == 64


def test_output_file_is_written_and_a_failure_leaves_the_old_one(tmp_path: Path) -> None:
    target = tmp_path / "inspect.json"
    assert run("inspect", SEED / "runs.csv", "--format", "json", "-o", target).returncode == 0
    before = target.read_text()
    assert json.loads(before)["runs"] == 8
    bad = run("inspect", tmp_path / "absent.csv", "--format", "json", "-o", target)
    assert bad.returncode == 2 and target.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["inspect.json"]  # no temp file left behind


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "empty file"),
        (b"\x00\x00\xff\xfe binary\x00", "binary content"),
        (b'[{"run_id": 1', "truncated JSON"),
    ],
)
def test_bad_input_is_one_line_exit_2_no_traceback(tmp_path: Path, content: bytes, fragment: str) -> None:
    p = tmp_path / ("runs.json" if content.startswith(b"[") else "runs.csv")
    p.write_bytes(content)
    out = run("inspect", p)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and str(p) in lines[0]
    assert "Traceback" not in out.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    p = tmp_path / "runs.csv"
    p.write_bytes(b"")
    out = run("inspect", p, "--debug")
    assert out.returncode != 0 and "Traceback" in out.stderr and "InputError" in out.stderr


def test_directory_and_bad_flags(tmp_path: Path) -> None:
    out = run("inspect", tmp_path)
    assert out.returncode == 2 and "folder holds no export" in out.stderr
    out = run("inspect", SEED / "runs.csv", "--objective", "val_loss")
    assert out.returncode == 2 and "--objective must be METRIC:min or METRIC:max" in out.stderr
    out = run("inspect", SEED / "runs.csv", "--input-format", "excel")
    assert out.returncode == 2 and "unknown --input-format 'excel'" in out.stderr


def test_formats_lists_every_loader_as_json() -> None:
    out = run("formats", "--format", "json")
    names = [f["name"] for f in json.loads(out.stdout)["formats"]]
    assert names[-1] == "table" and {"optuna", "optuna-csv", "mlflow", "mlflow-csv"} <= set(names)
