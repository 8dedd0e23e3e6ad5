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
from reportgen.io.load import load_sweep
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


@pytest.fixture(scope="module")
def store_sweep():
    """The store as assembled: params typed and metric summaries derived by the common step."""
    return load_sweep(MLRUNS)


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


def test_store_params_are_numeric_where_they_parse(store, store_sweep):
    assert _by_name(store).loc["run-06", "lr"] == "0.01"  # as mlflow stores it; typed by the common step
    runs = store_sweep.runs.set_index("name")
    assert runs.loc["run-06", ["lr", "batch_size", "weight_decay", "optimizer"]].tolist() == [
        0.01,
        16,
        0.0,
        "adam",
    ]
    assert runs["lr"].dtype == "float64" and runs["batch_size"].dtype == "int64"
    assert runs.loc["run-06", "state_raw"] == "FAILED" and runs.loc["run-09", "state_raw"] == "KILLED"


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


def test_store_summary_is_last_value_and_matches_search_runs(store, store_sweep):
    assert "val_loss" not in store.runs.columns  # the file store has no summaries: the history has them
    runs = store_sweep.runs.set_index("name")
    assert math.isnan(runs.loc["run-06", "val_loss"])  # the last logged value is the NaN
    assert runs.loc["run-09", "val_loss"] == pytest.approx(0.841624)  # killed: its 8th epoch
    csv = load_sweep(SEARCH_CSV).runs.set_index("run_id")
    merged = store_sweep.runs.set_index("run_id").join(csv, suffixes=("", "_csv"))
    for metric in ("train_loss", "val_loss", "val_acc", "lr", "batch_size"):
        pd.testing.assert_series_equal(merged[metric], merged[f"{metric}_csv"], check_names=False)
    assert (merged["state_raw"] == merged["state_raw_csv"]).all()
    assert (merged["runtime_s"] == merged["runtime_s_csv"]).all()
    assert (merged["created"] == merged["created_csv"]).all()


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
    runs = load_sweep(tmp_store).runs.set_index("name")
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
    assert load_sweep(path).runs["sched"].tolist() == ["1", "cosine"]  # half numbers: stays text


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


# --- hostile stores and CSV dialects ----------------------------------------------------------------


def test_store_time_out_of_range_is_coerced(tmp_store):
    meta = _run_dir(tmp_store, "run-00") / "meta.yaml"
    meta.write_text(meta.read_text().replace("start_time: 1735689600000", "start_time: 99999999999999999999"))
    sweep = MLFLOW_STORE.read(tmp_store, LoadOptions())
    assert sweep.runs["start_time"].isna().sum() == 1 and sweep.runs["runtime_s"].isna().sum() == 1
    assert any("start_time that is not a readable time" in w for w in sweep.warnings)
    assert load_sweep(tmp_store).runs["created"].isna().sum() == 1


def test_store_non_utf8_param_and_run_name(tmp_store):
    run = _run_dir(tmp_store, "run-00")
    (run / "params" / "optimizer").write_bytes("adam\u00e9".encode("cp1252"))
    (run / "tags" / "mlflow.runName").write_bytes("r\u00e9seau".encode("cp1252"))
    sweep = MLFLOW_STORE.read(tmp_store, LoadOptions())
    runs = _by_name(sweep)
    assert runs.loc["r\u00e9seau", "optimizer"] == "adam\u00e9"
    assert sum("cp1252" in w for w in sweep.warnings) == 2


def test_store_unreadable_param_file(tmp_store, monkeypatch):
    param = _run_dir(tmp_store, "run-00") / "params" / "lr"
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == param:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(InputError, match="Permission denied") as info:
        MLFLOW_STORE.read(tmp_store, LoadOptions())
    assert str(info.value).startswith(f"{param}:") and "\n" not in str(info.value)


@pytest.mark.parametrize(
    "lines",
    [
        "1 0.5 0\n2 0.4 1 a b c d\n",  # 7 fields
        "1 0.5 0\n2 0.4 1 train\n",  # 4 fields (dataset without digest)
        "1 0.5 0\n2\n",  # 1 field
    ],
)
def test_store_metric_line_with_wrong_field_count(tmp_store, lines):
    bad = _run_dir(tmp_store, "run-01") / "metrics" / "val_loss"
    bad.write_text(lines)
    with pytest.raises(InputError, match="2, 3 or 5 fields") as info:
        MLFLOW_STORE.read(tmp_store, LoadOptions())
    assert str(info.value).startswith(f"{bad}, row 2:") and "\n" not in str(info.value)


def test_store_metric_lines_of_two_and_five_fields(tmp_store):
    metric = _run_dir(tmp_store, "run-00") / "metrics" / "val_loss"
    metric.write_text("1 0.9\n2 0.5 1 train 0123abcd\n")  # step 0 when absent, as mlflow reads it
    history = MLFLOW_STORE.read(tmp_store, LoadOptions()).history
    ids = _by_name(MLFLOW_STORE.read(tmp_store, LoadOptions()))["run_id"]
    rows = history[(history["run_key"] == ids["run-00"]) & (history["metric"] == "val_loss")]
    assert rows[["step", "value"]].values.tolist() == [[0, 0.9], [1, 0.5]]


def test_store_metric_named_like_a_run_column(tmp_store):
    run = _run_dir(tmp_store, "run-00")
    (run / "metrics" / "state").write_text("1 0.25 0\n")
    (run / "metrics" / "lr").write_text("1 0.5 0\n")  # a param's name
    raw = MLFLOW_STORE.read(tmp_store, LoadOptions())
    assert {"metrics.state", "metrics.lr"} <= set(raw.metric_columns)
    assert {"metrics.state", "metrics.lr"} <= set(raw.history["metric"])
    runs = load_sweep(tmp_store).runs.set_index("name")
    assert runs.loc["run-00", "metrics.state"] == 0.25 and runs.loc["run-00", "metrics.lr"] == 0.5
    assert runs.loc["run-00", "lr"] == 0.0001


def test_csv_epoch_milliseconds(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text(
        "run_id,status,start_time,end_time,params.lr,metrics.loss\n"
        "a,FINISHED,1735689600000,1735690230000,0.1,0.5\n"
        "b,FINISHED,1735690200000,1735690500500,0.2,0.4\n"
    )
    raw = MLFLOW_CSV.read(path, LoadOptions())
    assert raw.runs["runtime_s"].tolist() == [630.0, 300.5]
    runs = load_sweep(path).runs
    assert runs["created"].tolist() == [
        pd.Timestamp("2025-01-01T00:00:00Z"),  # not 1735689600000 seconds
        pd.Timestamp("2025-01-01T00:10:00Z"),
    ]
    assert runs["runtime_s"].tolist() == [630.0, 300.5]


def test_csv_cp1252_semicolon(tmp_path):
    path = tmp_path / "runs.csv"
    text = (
        "run_id;status;params.optimizer;metrics.loss;tags.mlflow.runName\n"
        "a;FINISHED;adam;0.5;r\u00e9seau\n"
        "b;FAILED;sgd;0.4;caf\u00e9\n"
    )
    path.write_bytes(text.encode("cp1252"))
    assert MLFLOW_CSV.sniff(path)
    sweep = MLFLOW_CSV.read(path, LoadOptions())
    assert sweep.runs["run_name"].tolist() == ["r\u00e9seau", "caf\u00e9"]
    assert sweep.runs["loss"].tolist() == [0.5, 0.4]
    assert any("cp1252" in w for w in sweep.warnings)


def test_csv_numeric_looking_ids_stay_text(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("run_id,experiment_id,status,metrics.loss\n007,123456789012345678901234,FINISHED,0.5\n")
    runs = MLFLOW_CSV.read(path, LoadOptions()).runs
    assert runs["run_id"].tolist() == ["007"] and runs["experiment_id"].tolist() == [
        "123456789012345678901234"
    ]


def test_csv_sniff_never_raises(tmp_path):
    binary = tmp_path / "runs.csv"
    binary.write_bytes(b"run_id,status,metrics.loss\x00\n")
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    for path in (binary, folder, tmp_path / "missing.csv"):
        assert not MLFLOW_CSV.sniff(path)
