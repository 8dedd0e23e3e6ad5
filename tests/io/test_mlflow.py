"""MLflow loaders against fixtures written by the real mlflow (fixtures/generators/make_mlflow.py)."""

from __future__ import annotations

import hashlib
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from reportgen.errors import InputError
from reportgen.io.mlflow import MLFLOW_CSV, MLFLOW_STORE
from reportgen.io.options import LoadOptions

ROOT = Path(__file__).resolve().parents[2]
MLRUNS = ROOT / "fixtures" / "mlflow" / "mlruns"
SEARCH_CSV = ROOT / "fixtures" / "mlflow" / "search_runs.csv"
OPTUNA_DIR = ROOT / "fixtures" / "optuna"
STATES = {"FINISHED": 8, "FAILED": 3, "KILLED": 1}


@pytest.fixture(scope="module")
def store():
    return MLFLOW_STORE.read(MLRUNS, LoadOptions())


def _by_name(sweep) -> pd.DataFrame:
    return sweep.runs.set_index("run_name")


def _run_dir(tmp_store: Path, name: str) -> Path:
    (tag,) = [t for t in tmp_store.glob("*/*/tags/mlflow.runName") if t.read_text() == name]
    return tag.parents[1]


def test_store_runs_states_and_roles(store):
    runs = store.runs
    assert len(runs) == 12
    assert runs["status"].value_counts().to_dict() == STATES  # int enum in meta.yaml -> name
    assert (store.id_column, store.name_column, store.state_column) == ("run_id", "run_name", "status")
    assert (store.runtime_column, store.created_column) == ("runtime_s", "start_time")
    assert store.param_columns == ["batch_size", "lr", "optimizer", "weight_decay"]
    assert store.metric_columns == ["train_loss", "val_acc", "val_loss"]
    assert store.objective is None and store.warnings == []
    assert "experiment" not in runs.columns  # one experiment
    assert runs["run_name"].tolist() == [f"run-{i:02d}" for i in range(12)]  # ordered by start time


def test_store_params_are_numeric_where_they_parse(store):
    runs = _by_name(store)
    assert runs.loc["run-06", ["lr", "batch_size", "weight_decay", "optimizer"]].tolist() == [
        0.01,
        16,
        0.0,
        "adam",
    ]
    assert runs["lr"].dtype == "float64" and runs["batch_size"].dtype == "int64"
    assert runs.loc["run-06", "status"] == "FAILED" and runs.loc["run-09", "status"] == "KILLED"


def test_store_times_and_runtime(store):
    runs = _by_name(store)
    assert runs.loc["run-00", "start_time"] == pd.Timestamp("2025-01-01T00:00:00Z")
    assert runs.loc["run-00", "runtime_s"] == 630.0  # 20 epochs of 30 s + 30 s
    assert runs.loc["run-10", "runtime_s"] == 30.0


def test_store_history(store):
    history = store.history
    assert list(history.columns) == ["run_key", "step", "metric", "value"]
    assert len(history) == 8 * 60 + 21 + 12 + 24
    ids = _by_name(store)["run_id"]
    sizes = history.groupby("run_key").size()
    assert sizes[ids[["run-06", "run-08", "run-09"]]].tolist() == [21, 12, 24]  # 7, 4, 8 epochs x 3 metrics
    assert ids["run-10"] not in sizes.index  # failed before its first epoch
    crashed = history[(history["run_key"] == ids["run-06"]) & (history["metric"] == "val_loss")]
    assert crashed["step"].tolist() == list(range(7))
    assert crashed["value"].isna().tolist() == [False] * 6 + [True]  # mlflow writes "nan"


def test_store_summary_is_last_value_and_matches_search_runs(store):
    runs = _by_name(store)
    assert math.isnan(runs.loc["run-06", "val_loss"])  # the last logged value is the NaN
    assert runs.loc["run-09", "val_loss"] == pytest.approx(0.841624)  # killed: its 8th epoch
    csv = MLFLOW_CSV.read(SEARCH_CSV, LoadOptions()).runs.set_index("run_id")
    merged = store.runs.set_index("run_id").join(csv, suffixes=("", "_csv"))
    for metric in ("train_loss", "val_loss", "val_acc", "lr", "batch_size"):
        pd.testing.assert_series_equal(merged[metric], merged[f"{metric}_csv"], check_names=False)
    assert (merged["status"] == merged["status_csv"]).all()


def test_store_read_leaves_files_unchanged():
    def digest() -> str:
        files = sorted(p for p in MLRUNS.rglob("*") if p.is_file())
        return hashlib.sha256(b"".join(p.read_bytes() + str(p).encode() for p in files)).hexdigest()

    before = digest()
    MLFLOW_STORE.read(MLRUNS, LoadOptions())
    assert digest() == before


def test_store_parent_folder_with_mlruns_child():
    assert len(MLFLOW_STORE.read(MLRUNS.parent, LoadOptions()).runs) == 12


@pytest.fixture
def tmp_store(tmp_path) -> Path:
    return Path(shutil.copytree(MLRUNS, tmp_path / "mlruns"))


def test_store_deleted_running_and_several_experiments(tmp_store):
    killed = _run_dir(tmp_store, "run-09") / "meta.yaml"
    killed.write_text(killed.read_text().replace("status: 5", "status: 1"))
    deleted = _run_dir(tmp_store, "run-00") / "meta.yaml"
    deleted.write_text(deleted.read_text().replace("lifecycle_stage: active", "lifecycle_stage: deleted"))
    (exp,) = [d for d in tmp_store.iterdir() if d.is_dir()]
    other = tmp_store / "7"
    other.mkdir()
    (other / "meta.yaml").write_text(
        (exp / "meta.yaml").read_text().replace(exp.name, "7").replace("name: lr-sweep", "name: other")
    )
    shutil.copytree(_run_dir(tmp_store, "run-01"), other / "0123456789abcdef0123456789abcdef")
    (tmp_store / ".trash" / "9").mkdir(parents=True)
    sweep = MLFLOW_STORE.read(tmp_store, LoadOptions())
    assert len(sweep.runs) == 12  # 12 - 1 deleted + 1 in the second experiment
    assert sweep.runs["status"].value_counts().to_dict() == {"FINISHED": 8, "FAILED": 3, "RUNNING": 1}
    assert sweep.runs["experiment"].value_counts().to_dict() == {"lr-sweep": 11, "other": 1}
    assert any("1 deleted run" in w for w in sweep.warnings)
    assert any("2 experiments" in w for w in sweep.warnings)
    assert any(".trash" in w for w in sweep.warnings)


def test_store_last_value_by_step_then_timestamp(tmp_store):
    run = _run_dir(tmp_store, "run-00")
    (run / "metrics" / "val_loss").write_text("300 0.5 2\n100 0.9 1\n200 0.7 2\n50 0.1 0\n")
    (run / "metrics" / "nested").mkdir()
    (run / "metrics" / "nested" / "loss").write_text("1 inf 0\n2 -inf 1\n")  # key "nested/loss"
    sweep = MLFLOW_STORE.read(tmp_store, LoadOptions())
    runs = _by_name(sweep)
    assert runs.loc["run-00", "val_loss"] == 0.5  # step 2 at the later timestamp
    assert runs.loc["run-00", "nested/loss"] == -math.inf
    rows = sweep.history[(sweep.history["metric"] == "nested/loss")]
    assert rows["value"].tolist() == [math.inf, -math.inf]


def test_store_malformed_metric_line(tmp_store):
    bad = _run_dir(tmp_store, "run-00") / "metrics" / "val_loss"
    bad.write_text("1 0.5 0\n2 oops 1\n")
    with pytest.raises(InputError) as info:
        MLFLOW_STORE.read(tmp_store, LoadOptions())
    assert str(info.value).startswith(f"{bad}, row 2:") and "\n" not in str(info.value)


def test_store_not_a_store(tmp_path):
    with pytest.raises(InputError) as info:
        MLFLOW_STORE.read(tmp_path, LoadOptions())
    assert str(tmp_path) in str(info.value) and "\n" not in str(info.value)


def test_csv_search_runs():
    sweep = MLFLOW_CSV.read(SEARCH_CSV, LoadOptions())
    runs = _by_name(sweep)
    assert len(runs) == 12
    assert runs["status"].value_counts().to_dict() == STATES
    assert sorted(sweep.param_columns) == ["batch_size", "lr", "optimizer", "weight_decay"]
    assert sorted(sweep.metric_columns) == ["train_loss", "val_acc", "val_loss"]
    assert runs.loc["run-06", ["lr", "batch_size", "optimizer"]].tolist() == [0.01, 16, "adam"]
    assert runs["lr"].dtype == "float64" and runs["optimizer"].dtype != "float64"
    assert math.isnan(runs.loc["run-06", "val_loss"])
    assert runs.loc["run-09", "runtime_s"] == 270.0
    assert not any(c.startswith("tags.") for c in sweep.runs.columns)
    assert sweep.history is None and sweep.objective is None


def test_csv_mixed_param_column_stays_text(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text(
        "run_id,status,params.lr,params.sched,metrics.loss\na,FINISHED,0.1,1,0.5\nb,FAILED,,cosine,\n"
    )
    runs = MLFLOW_CSV.read(path, LoadOptions()).runs
    assert runs["lr"].tolist()[0] == 0.1 and math.isnan(runs["lr"].tolist()[1])
    assert runs["sched"].tolist() == ["1", "cosine"]


def test_csv_missing_status(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("run_id,metrics.loss\na,0.5\n")
    with pytest.raises(InputError, match="missing column") as info:
        MLFLOW_CSV.read(path, LoadOptions())
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


def test_sniffs(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("run_id,status\n")
    assert MLFLOW_STORE.sniff(MLRUNS) and MLFLOW_STORE.sniff(MLRUNS.parent)
    assert MLFLOW_CSV.sniff(SEARCH_CSV)
    for other in (SEARCH_CSV, OPTUNA_DIR, OPTUNA_DIR / "study.sqlite3", text, tmp_path):
        assert not MLFLOW_STORE.sniff(other)
    for other in (OPTUNA_DIR / "trials.csv", OPTUNA_DIR / "study.sqlite3", MLRUNS, text):
        assert not MLFLOW_CSV.sniff(other)


def test_module_does_not_import_mlflow():
    code = "import sys, reportgen.io.mlflow; print('mlflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["False"]
