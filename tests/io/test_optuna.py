"""Optuna loaders against fixtures written by the real optuna (fixtures/generators/make_optuna.py)."""

from __future__ import annotations

import csv
import hashlib
import math
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from reportgen.errors import InputError
from reportgen.io.load import load_sweep
from reportgen.io.options import LoadOptions
from reportgen.io.optuna import OPTUNA_CSV, OPTUNA_STORAGE
from reportgen.io.raw import DeclaredParam
from reportgen.sweep import Objective

ROOT = Path(__file__).resolve().parents[2]
STUDY = ROOT / "fixtures" / "optuna" / "study.sqlite3"
MULTI = ROOT / "fixtures" / "optuna" / "multi_objective.sqlite3"
TRIALS_CSV = ROOT / "fixtures" / "optuna" / "trials.csv"
MLFLOW_CSV = ROOT / "fixtures" / "mlflow" / "search_runs.csv"
MLRUNS = ROOT / "fixtures" / "mlflow" / "mlruns"
LR_SWEEP = LoadOptions(study="lr-sweep")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _edited_copy(tmp_path: Path, sql: str) -> Path:
    """A copy of the study storage with `sql` applied (the fixture itself is never written)."""
    path = tmp_path / STUDY.name
    shutil.copy(STUDY, path)
    conn = sqlite3.connect(path)
    try:
        conn.executescript(sql)
        conn.commit()
    finally:
        conn.close()
    return path


@pytest.fixture
def new_york_time(monkeypatch):
    """Local time is US Eastern (a POSIX TZ rule, so no tz database is needed) for the test's duration."""
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is POSIX-only")
    monkeypatch.setenv("TZ", "EST5EDT,M3.2.0,M11.1.0")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="module")
def lr_sweep():
    pytest.importorskip("optuna")
    return OPTUNA_STORAGE.read(STUDY, LR_SWEEP)


def test_storage_runs_states_and_roles(lr_sweep):
    runs = lr_sweep.runs
    assert len(runs) == 12
    assert runs["state"].value_counts().to_dict() == {"COMPLETE": 8, "FAIL": 3, "PRUNED": 1}
    assert (lr_sweep.id_column, lr_sweep.state_column) == ("number", "state")
    assert (lr_sweep.runtime_column, lr_sweep.created_column) == ("duration", "datetime_start")
    assert lr_sweep.param_columns == ["lr", "batch_size", "weight_decay", "optimizer"]
    assert lr_sweep.metric_columns == ["val_loss"]  # named by study.metric_names
    assert lr_sweep.objective == ("val_loss", "min")
    assert lr_sweep.early_termination == "pruner"
    assert runs["duration"].dtype.kind == "f" and (runs["duration"] > 0).all()
    assert runs["planned_epochs"].eq(20).all()  # a user attr, prefix-free


def test_storage_values_of_specific_trials(lr_sweep):
    runs = lr_sweep.runs.set_index("number")
    assert runs.loc[6, ["lr", "batch_size", "weight_decay", "optimizer", "state"]].tolist() == [
        0.01,
        16,
        0.0,
        "adam",
        "FAIL",
    ]
    assert math.isnan(runs.loc[6, "val_loss"])  # FAIL trials have no value
    assert runs.loc[0, "val_loss"] == pytest.approx(0.766492)
    # optuna gives a PRUNED trial the last intermediate value as its value
    assert runs.loc[9, "val_loss"] == pytest.approx(0.841624)


def test_storage_history_from_intermediate_values(lr_sweep):
    history = lr_sweep.history
    assert list(history.columns) == ["run_key", "step", "metric", "value"]
    assert len(history) == 8 * 20 + 7 + 4 + 8
    assert set(history["metric"]) == {"val_loss"}
    sizes = history.groupby("run_key").size()
    assert sizes[["6", "8", "9"]].tolist() == [7, 4, 8]
    assert "10" not in sizes.index  # failed before its first epoch: nothing reported
    crashed = history[history["run_key"] == "6"]
    assert crashed["step"].tolist() == list(range(7))
    # optuna >= 3 stores NaN intermediate values; the divergence is visible at step 6
    assert crashed["value"].isna().tolist() == [False] * 6 + [True]


def test_storage_declared_params(lr_sweep):
    declared = {p.name: p for p in lr_sweep.declared_params}
    assert declared["lr"] == DeclaredParam("lr", "float", low=1e-4, high=1e-1, log=True, step=None)
    assert declared["batch_size"].choices == (16, 32, 64, 128)
    assert declared["weight_decay"].choices == (0.0, 1e-4)
    assert declared["optimizer"] == DeclaredParam("optimizer", "categorical", choices=("adam", "sgd"))


def test_storage_second_study_and_direction():
    pytest.importorskip("optuna")
    smoke = OPTUNA_STORAGE.read(STUDY, LoadOptions(study="smoke"))
    assert len(smoke.runs) == 3
    assert smoke.objective == ("value", "max")  # no metric names set: the column is `value`
    assert smoke.history is None
    assert smoke.early_termination is None
    assert [p.name for p in smoke.declared_params] == ["x"]


def test_storage_multi_objective():
    pytest.importorskip("optuna")
    sweep = OPTUNA_STORAGE.read(MULTI, LoadOptions())  # one study: no --study needed
    assert sweep.metric_columns == ["val_loss", "val_acc"]
    assert sweep.objective == ("val_loss", "min")
    assert len(sweep.runs) == 4 and any("multi-objective" in w for w in sweep.warnings)


@pytest.mark.parametrize(
    ("study", "expected"),
    [(None, "several studies"), ("nope", "no study named 'nope'")],
)
def test_storage_study_selection_errors(study, expected):
    pytest.importorskip("optuna")
    with pytest.raises(InputError) as info:
        OPTUNA_STORAGE.read(STUDY, LoadOptions(study=study))
    message = str(info.value)
    assert expected in message and "lr-sweep" in message and "smoke" in message
    assert message.startswith(str(STUDY)) and "\n" not in message


def test_storage_file_unchanged_after_reading(tmp_path):
    pytest.importorskip("optuna")
    before = _sha256(STUDY)
    copy = tmp_path / "study.sqlite3"
    shutil.copy(STUDY, copy)
    OPTUNA_STORAGE.read(copy, LR_SWEEP)
    OPTUNA_STORAGE.read(STUDY, LR_SWEEP)
    assert _sha256(STUDY) == before == _sha256(copy)
    assert [p.name for p in tmp_path.iterdir()] == ["study.sqlite3"]  # no journal or lock left behind


def test_storage_user_attr_clash_and_infinities(tmp_path):
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    path = tmp_path / "clash.db"
    study = optuna.create_study(study_name="clash", storage=f"sqlite:///{path}")
    trial = study.ask({"lr": optuna.distributions.FloatDistribution(0.0, 1.0)})
    trial.set_user_attr("lr", "note")
    trial.report(float("inf"), 0)
    study.tell(trial, float("inf"))
    sweep = OPTUNA_STORAGE.read(path, LoadOptions())
    assert {"lr", "user_attrs_lr"} <= set(sweep.runs.columns)
    assert sweep.runs.loc[0, "value"] == math.inf
    assert sweep.history["value"].tolist() == [math.inf]


def _one_line_naming(exc: pytest.ExceptionInfo[InputError], path: Path) -> None:
    message = str(exc.value)
    assert "\n" not in message and str(path) in message and exc.value.path == str(path)


def test_storage_malformed_inputs(tmp_path):
    pytest.importorskip("optuna")
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    truncated = tmp_path / "truncated.sqlite3"
    truncated.write_bytes(STUDY.read_bytes()[:8192])
    text = tmp_path / "notes.sqlite3"
    text.write_text("not a database\n")
    for path in (empty, truncated, text, tmp_path / "missing.sqlite3"):
        with pytest.raises(InputError) as info:
            OPTUNA_STORAGE.read(path, LR_SWEEP)
        _one_line_naming(info, path)


def test_storage_without_optuna_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)  # makes `import optuna` raise ImportError
    with pytest.raises(InputError, match=r"pip install 'reportgen\[optuna\]'"):
        OPTUNA_STORAGE.read(STUDY, LR_SWEEP)


def test_module_does_not_import_optuna():
    code = "import sys, reportgen.io.optuna; print('optuna' in sys.modules, 'sqlalchemy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "False"]


def test_csv_trials_dataframe():
    sweep = OPTUNA_CSV.read(TRIALS_CSV, LoadOptions())
    runs = sweep.runs.set_index("number")
    assert len(runs) == 12
    assert runs["state"].value_counts().to_dict() == {"COMPLETE": 8, "FAIL": 3, "PRUNED": 1}
    assert sorted(sweep.param_columns) == ["batch_size", "lr", "optimizer", "weight_decay"]
    assert sweep.metric_columns == ["val_loss"]  # `value_val_loss` as trials_dataframe names it
    assert runs.loc[6, ["lr", "batch_size", "optimizer"]].tolist() == [0.01, 16, "adam"]
    assert math.isnan(runs.loc[6, "val_loss"]) and runs.loc[9, "val_loss"] == pytest.approx(0.841624)
    assert sweep.runtime_column == "duration"  # left as written: the common step reads it as seconds
    runtime = load_sweep(TRIALS_CSV).runs.set_index(runs.index)["runtime_s"]
    assert runtime.dtype.kind == "f" and (runtime > 0).all()  # "0 days 00:00:00.1" -> s
    assert runtime[0] == pytest.approx(0.104424)  # "0 days 00:00:00.104424"
    assert sweep.objective is None  # direction is not in the CSV
    assert sweep.history is None and sweep.declared_params == []
    assert "system_attrs_fixed_params" in sweep.ignore_columns
    assert sweep.early_termination == "pruner"


def test_csv_objective_from_options():
    # the loader states none (the CSV has no direction); the common step applies --objective
    assert OPTUNA_CSV.read(TRIALS_CSV, LoadOptions(objective=("val_loss", "min"))).objective is None
    sweep = load_sweep(TRIALS_CSV, LoadOptions(objective=("val_loss", "min")))
    assert sweep.schema.objective == Objective(metric="val_loss", direction="min", source="flag")


def test_csv_missing_state_column(tmp_path):
    bad = tmp_path / "trials.csv"
    bad.write_text("number,value\n0,0.5\n1,0.25\n")
    with pytest.raises(InputError, match="missing column") as info:
        OPTUNA_CSV.read(bad, LoadOptions())
    _one_line_naming(info, bad)
    assert not OPTUNA_CSV.sniff(bad)


def test_sniffs(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello, world\nnumber,state\n")
    assert OPTUNA_STORAGE.sniff(STUDY) and OPTUNA_STORAGE.sniff(MULTI)
    assert OPTUNA_CSV.sniff(TRIALS_CSV)
    for other in (TRIALS_CSV, MLFLOW_CSV, MLRUNS, text, tmp_path / "missing.db"):
        assert not OPTUNA_STORAGE.sniff(other)
    for other in (STUDY, MLFLOW_CSV, MLRUNS, text, tmp_path / "missing.csv"):
        assert not OPTUNA_CSV.sniff(other)
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    truncated = tmp_path / "truncated.sqlite3"
    truncated.write_bytes(STUDY.read_bytes()[:100])
    assert not OPTUNA_STORAGE.sniff(empty) and not OPTUNA_STORAGE.sniff(truncated)


# --- corrupt storages, directions, times, CSV dialects -------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE trials SET state = 'WHATEVER' WHERE number = 2",  # LookupError from optuna's enum
        "UPDATE study_directions SET direction = 'SIDEWAYS'",
        "UPDATE trial_intermediate_values SET intermediate_value_type = 'WHAT'",
        "UPDATE trial_params SET distribution_json = '[1, 2]'",  # TypeError in optuna's decoding
        "UPDATE trial_params SET param_value = 99 WHERE param_name = 'optimizer'",  # IndexError
        "UPDATE trial_intermediate_values SET intermediate_value = 'xyz'",  # AssertionError
        "UPDATE trials SET datetime_start = 12345",
        "UPDATE trials SET number = NULL",  # TypeError in the conversion
        "DELETE FROM study_directions",
        "INSERT INTO trial_values (trial_id, objective, value, value_type) VALUES (1, 1, 0.5, 'FINITE')",
    ],
)
def test_storage_corrupt_rows_are_input_errors(tmp_path, sql):
    pytest.importorskip("optuna")
    path = _edited_copy(tmp_path, sql)
    with pytest.raises(InputError) as info:
        OPTUNA_STORAGE.read(path, LR_SWEEP)
    _one_line_naming(info, path)


def test_storage_unknown_state_names_the_storage(tmp_path):
    pytest.importorskip("optuna")
    path = _edited_copy(tmp_path, "UPDATE trials SET state = 'WHATEVER' WHERE number = 2")
    with pytest.raises(InputError, match=r"is not a readable Optuna storage \(LookupError: 'WHATEVER'"):
        OPTUNA_STORAGE.read(path, LR_SWEEP)


def test_storage_foreign_schema_with_optuna_table_names(tmp_path):
    pytest.importorskip("optuna")
    path = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE studies (a); CREATE TABLE trials (b); CREATE TABLE trial_params (c);"
        "INSERT INTO studies VALUES (1);"
    )
    conn.commit()
    conn.close()
    assert OPTUNA_STORAGE.sniff(path)  # the table names are all the sniff checks
    with pytest.raises(InputError, match="is not a readable Optuna storage") as info:
        OPTUNA_STORAGE.read(path, LoadOptions())
    _one_line_naming(info, path)


def test_storage_direction_not_set_states_no_objective(tmp_path):
    pytest.importorskip("optuna")
    path = _edited_copy(tmp_path, "UPDATE study_directions SET direction = 'NOT_SET' WHERE study_id = 1")
    sweep = OPTUNA_STORAGE.read(path, LR_SWEEP)
    assert sweep.objective is None  # not "max"
    assert any("NOT_SET" in w for w in sweep.warnings)
    assert sweep.metric_columns == ["val_loss"]


def test_storage_metric_names_not_fitting_the_objectives(tmp_path):
    pytest.importorskip("optuna")
    sql = "UPDATE study_system_attributes SET value_json = '5' WHERE key = 'study:metric_names'"
    sweep = OPTUNA_STORAGE.read(_edited_copy(tmp_path, sql), LR_SWEEP)
    assert sweep.metric_columns == ["value"] and sweep.objective == ("value", "min")
    assert any("metric names" in w for w in sweep.warnings)


def test_storage_local_times_become_utc(tmp_path, new_york_time):
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    path = tmp_path / "now.db"
    study = optuna.create_study(study_name="now", storage=f"sqlite:///{path}")
    before = pd.Timestamp.now(tz="UTC")
    study.optimize(lambda trial: trial.suggest_float("x", 0.0, 1.0), n_trials=1)
    after = pd.Timestamp.now(tz="UTC")
    # optuna hands out naive local times (New York here, 4-5 hours behind UTC); read as UTC unconverted,
    # the start would fall hours outside the instants around the trial
    start = OPTUNA_STORAGE.read(path, LoadOptions()).runs.loc[0, "datetime_start"]
    assert before - pd.Timedelta(milliseconds=1) <= start <= after
    assert str(start.tz) == "UTC"


def test_csv_local_times_become_utc(tmp_path, new_york_time):
    path = tmp_path / "trials.csv"
    path.write_text(
        "number,value,datetime_start,duration,params_x,state\n"
        "0,0.5,2025-01-15 12:00:00.000000,0 days 00:00:01.500000,1,COMPLETE\n"
        "1,0.4,2025-07-15 12:00:00.000000,0 days 00:00:02,2,COMPLETE\n"
    )
    runs = OPTUNA_CSV.read(path, LoadOptions()).runs
    # 12:00 in New York is 17:00 UTC in winter (EST, UTC-5) and 16:00 UTC in summer (EDT, UTC-4)
    expected = [pd.Timestamp("2025-01-15T17:00:00Z"), pd.Timestamp("2025-07-15T16:00:00Z")]
    assert runs["datetime_start"].tolist() == expected
    sweep = load_sweep(path)
    assert sweep.runs["created"].tolist() == expected
    assert sweep.runs["runtime_s"].tolist() == [1.5, 2.0]
    aware = tmp_path / "aware.csv"
    aware.write_text("number,value,datetime_start,state\n0,0.5,2025-07-15 12:00:00+02:00,COMPLETE\n")
    assert OPTUNA_CSV.read(aware, LoadOptions()).runs["datetime_start"].tolist() == [
        pd.Timestamp("2025-07-15T10:00:00Z")  # an explicit offset is only converted
    ]


def test_csv_numeric_duration_is_seconds(tmp_path):
    path = tmp_path / "trials.csv"
    path.write_text("number,value,duration,params_x,state\n0,0.5,1.5,1,COMPLETE\n1,0.4,90,2,COMPLETE\n")
    assert load_sweep(path).runs["runtime_s"].tolist() == [1.5, 90.0]  # not nanoseconds


def test_csv_semicolon_delimited(tmp_path):
    path = tmp_path / "trials.csv"
    with TRIALS_CSV.open(newline="") as src, path.open("w", newline="") as dst:
        csv.writer(dst, delimiter=";").writerows(csv.reader(src))
    assert ";" in path.read_text().splitlines()[0]
    assert OPTUNA_CSV.sniff(path)
    sweep = OPTUNA_CSV.read(path, LoadOptions())
    expected = OPTUNA_CSV.read(TRIALS_CSV, LoadOptions())
    pd.testing.assert_frame_equal(sweep.runs, expected.runs)
    assert sweep.metric_columns == ["val_loss"] and len(sweep.runs) == 12


def test_csv_cp1252_and_bom(tmp_path):
    path = tmp_path / "trials.csv"
    text = "number,value,params_optimizer,state\n0,0.5,adam\u00e9,COMPLETE\n1,0.4,sgd,FAIL\n"
    path.write_bytes(text.encode("cp1252"))
    assert OPTUNA_CSV.sniff(path)
    sweep = OPTUNA_CSV.read(path, LoadOptions())
    assert sweep.runs["optimizer"].tolist() == ["adam\u00e9", "sgd"]
    assert any("cp1252" in w for w in sweep.warnings)
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert OPTUNA_CSV.sniff(bom) and OPTUNA_CSV.read(bom, LoadOptions()).runs["number"].tolist() == [0, 1]


def test_csv_sniff_never_raises(tmp_path):
    binary = tmp_path / "trials.csv"
    binary.write_bytes(b"number,state\x00\xff\n")
    unreadable = tmp_path / "folder.csv"
    unreadable.mkdir()
    quote = tmp_path / "quote.csv"
    quote.write_text('"number,state\n')  # an unterminated quote
    for path in (binary, unreadable, quote):
        assert not OPTUNA_CSV.sniff(path)
