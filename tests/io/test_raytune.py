"""Ray Tune loader against the base-sweep experiment folder written by real Ray Tune."""

from __future__ import annotations

import json
import math
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from reportgen.errors import InputError
from reportgen.io.load import load_sweep
from reportgen.io.options import LoadOptions
from reportgen.io.raytune import RAY_TUNE_DIR

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENT = ROOT / "fixtures" / "raytune" / "base_sweep"
OPTS = LoadOptions()
sys.path.insert(0, str(ROOT / "fixtures" / "generators"))

from base_sweep import RUNS  # noqa: E402


def _by_base_index(runs):
    """Trial ids change per generation; map each trial to its base run through its config."""
    out = {}
    for _, row in runs.iterrows():
        base = next(r for r in RUNS if all(row[k] == v for k, v in r.params.items()))
        out[base.index] = row
    return out


def test_fixture_trials_states_params_and_metrics() -> None:
    raw = RAY_TUNE_DIR.read(EXPERIMENT, OPTS)
    assert len(raw.runs) == 12 and raw.id_column == "trial_id" and raw.state_column == "status"
    assert raw.runs["status"].value_counts().to_dict() == {"TERMINATED": 9, "ERROR": 3}
    assert sorted(raw.param_columns) == ["batch_size", "lr", "optimizer", "weight_decay"]
    assert sorted(raw.metric_columns) == ["train_loss", "val_acc", "val_loss"]
    assert raw.step_axis == "training_iteration" and raw.runtime_column == "time_total_s"
    trials = _by_base_index(raw.runs)
    assert {i for i, row in trials.items() if row["status"] == "ERROR"} == {6, 8, 10}
    assert trials[9]["status"] == "TERMINATED"  # stopped early: Ray has no "killed"
    # summaries are the last reported values, which assembly derives from the history
    summaries = _by_base_index(load_sweep(EXPERIMENT).runs)
    assert summaries[3]["val_loss"] == pytest.approx(RUNS[3].summary()["val_loss"])
    assert raw.runs["trial_id"].str.fullmatch(r"[0-9a-f]{5}_\d{5}").all()
    assert raw.warnings == []


def test_fixture_histories_keep_reported_nan() -> None:
    raw = RAY_TUNE_DIR.read(EXPERIMENT, OPTS)
    trials = _by_base_index(raw.runs)
    hist = raw.history
    summaries = _by_base_index(load_sweep(EXPERIMENT).runs)
    for index, epochs in ((6, 7), (8, 4)):
        loss = hist[(hist["run_key"] == trials[index]["trial_id"]) & (hist["metric"] == "train_loss")]
        assert len(loss) == epochs and loss["step"].tolist() == list(range(1, epochs + 1))
        assert math.isnan(loss["value"].iloc[-1]) and loss["value"].iloc[:-1].notna().all()
        assert math.isnan(summaries[index]["train_loss"])
    assert trials[10]["trial_id"] not in set(hist["run_key"])  # raised before its first report
    assert math.isnan(trials[10]["time_total_s"])
    assert len(hist[hist["run_key"] == trials[0]["trial_id"]]) == 20 * 3


def test_without_experiment_state_or_progress_csv(tmp_path: Path) -> None:
    copy = tmp_path / "exp"
    shutil.copytree(EXPERIMENT, copy)
    for state in copy.glob("experiment_state-*.json"):
        state.unlink()
    for progress in copy.glob("*/progress.csv"):
        progress.unlink()  # result.json (JSON lines, bare NaN tokens) is read instead
    # pickles are never opened: garbage in them changes nothing
    (copy / "tuner.pkl").write_bytes(b"not a pickle")
    raw = RAY_TUNE_DIR.read(copy, OPTS)
    trials = _by_base_index(raw.runs)
    # error files still mark ERROR; Ray never writes done=true to trial files, so the rest are unknown
    assert raw.runs["status"].isna().sum() == 9 and raw.runs["status"].value_counts().to_dict() == {
        "ERROR": 3
    }
    assert raw.warnings == ["9 trial(s) have no recorded status (no experiment_state, no error file)"]
    loss = raw.history[
        (raw.history["run_key"] == trials[6]["trial_id"]) & (raw.history["metric"] == "val_loss")
    ]
    assert len(loss) == 7 and math.isnan(loss["value"].iloc[-1])
    assert (
        trials[10]["trial_id"] == raw.runs.loc[raw.runs["folder"].str.contains("_00010_"), "trial_id"].item()
    )


def test_unreadable_experiment_state_warns(tmp_path: Path) -> None:
    copy = tmp_path / "exp"
    shutil.copytree(EXPERIMENT, copy)
    next(copy.glob("experiment_state-*.json")).write_text('{"trial_data": [["{not json')
    raw = RAY_TUNE_DIR.read(copy, OPTS)
    assert "unreadable" in raw.warnings[0] and raw.runs["status"].value_counts().to_dict() == {"ERROR": 3}


def test_empty_folder_and_bad_params_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        RAY_TUNE_DIR.read(tmp_path, OPTS)
    assert str(tmp_path) in str(err.value) and "\n" not in str(err.value)
    trial = tmp_path / "exp" / "trainable_abcde_00000_0"
    trial.mkdir(parents=True)
    (trial / "params.json").write_text('{"lr": 0.1,')
    with pytest.raises(InputError) as err:
        RAY_TUNE_DIR.read(tmp_path / "exp", OPTS)
    assert "params.json" in str(err.value) and "\n" not in str(err.value)


def test_sniff() -> None:
    assert RAY_TUNE_DIR.sniff(EXPERIMENT)
    assert not RAY_TUNE_DIR.sniff(next(EXPERIMENT.glob("*/progress.csv")))
    assert not RAY_TUNE_DIR.sniff(ROOT / "fixtures" / "wandb" / "local")
    assert not RAY_TUNE_DIR.sniff(ROOT / "fixtures" / "wandb" / "runs_api.json")


# --- odd shapes: every one a sensible reading or a one-line InputError ----------------------------------


def _folder_id(folder: str) -> str:
    """The trial id Ray puts in a trial folder's name: trainable_<cfb24_00000>_0_<date>."""
    return "_".join(folder.split("_")[1:3])


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / "exp"
    shutil.copytree(EXPERIMENT, copy)
    return copy


def _edit_state(copy: Path, trial: int, **changes: object) -> str:
    """Change one trial's entry in the experiment state; returns that trial's folder name."""
    path = next(copy.glob("experiment_state-*.json"))
    state = json.loads(path.read_text())
    trial_json, runtime_json = state["trial_data"][trial]
    entry, runtime = json.loads(trial_json), json.loads(runtime_json)
    for key, value in changes.items():
        (runtime if key == "start_time" else entry)[key] = value
    state["trial_data"][trial] = [json.dumps(entry), json.dumps(runtime)]
    path.write_text(json.dumps(state))
    return entry["relative_logdir"]


@pytest.mark.parametrize("start", ["abc", 1e20, [1], True])
def test_unreadable_start_time_is_left_empty(tmp_path: Path, start: object) -> None:
    copy = _copy(tmp_path)
    folder = _edit_state(copy, 0, start_time=start)
    raw = RAY_TUNE_DIR.read(copy, OPTS)
    runs = raw.runs.set_index("folder")
    assert runs["start_time"].isna().sum() == 1 and pd.isna(runs.loc[folder, "start_time"])
    assert pd.to_datetime(runs["start_time"].dropna(), utc=True).dt.year.eq(2026).all()
    assert load_sweep(copy).runs["created"].notna().sum() == 11


def test_wrong_types_in_experiment_state_fall_back_to_the_trial_folder(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    folder = _edit_state(copy, 0, status=5, trial_id={"x": 1})
    raw = RAY_TUNE_DIR.read(copy, OPTS)
    row = raw.runs.set_index("folder").loc[folder]
    assert pd.isna(row["status"]) and row["trial_id"] == _folder_id(folder)
    assert raw.warnings == ["1 trial(s) have no recorded status (no experiment_state, no error file)"]


def _results_only(copy: Path) -> None:
    for progress in copy.glob("*/progress.csv"):
        progress.unlink()


def _rewrite_results(trial: Path, edit) -> None:
    path = trial / "result.json"
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    path.write_text("\n".join(json.dumps(r) for r in edit(records)) + "\n")


def test_last_result_without_trial_id_keeps_the_reported_id(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    _results_only(copy)
    trial = sorted(copy.glob("trainable_*"))[0]
    expected = _folder_id(trial.name)
    _rewrite_results(trial, lambda rs: [*rs[:-1], {k: v for k, v in rs[-1].items() if k != "trial_id"}])
    raw = RAY_TUNE_DIR.read(copy, OPTS)
    assert raw.runs.set_index("folder").loc[trial.name, "trial_id"] == expected
    assert "nan" not in set(raw.runs["trial_id"]) and expected in set(raw.history["run_key"])


def test_nested_results_are_flattened_like_progress_csv(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    _results_only(copy)
    trial = sorted(copy.glob("trainable_*"))[0]
    _rewrite_results(trial, lambda rs: [{**r, "info": {"learner": {"grad_norm": 0.5}}} for r in rs])
    raw = RAY_TUNE_DIR.read(copy, OPTS)
    assert "info/learner/grad_norm" in raw.metric_columns
    rows = raw.history[raw.history["metric"] == "info/learner/grad_norm"]
    assert len(rows) == 20 and (rows["value"] == 0.5).all()
    # the config echoed in every result is not a metric, nested or not
    assert not any(str(m).startswith("config") for m in raw.metric_columns)


def test_config_key_clashing_with_a_result_key_is_renamed_in_every_trial(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    for params in copy.glob("*/params.json"):
        params.write_text(json.dumps({**json.loads(params.read_text()), "val_acc": 0.9}))
    raw = RAY_TUNE_DIR.read(copy, OPTS)
    # the trial that raised before its first report has no val_acc result, and is renamed all the same
    assert "val_acc" not in raw.param_columns and "config/val_acc" in raw.param_columns
    assert raw.runs["config/val_acc"].eq(0.9).all() and "val_acc" not in raw.runs
    assert raw.warnings == ["config keys that are also result keys were renamed config/<key>: val_acc"]
    assert "val_acc" in load_sweep(copy).schema.metric_names


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda text: text + "[1, 2]\n", "row 21"),  # a line that is not a result object
        (lambda text: "\n".join([*text.splitlines()[:2], '{"a": ', *text.splitlines()[2:]]), "row 3"),
        (lambda text: text.rstrip()[:-40], "truncated JSON"),
    ],
)
def test_bad_result_lines_are_input_errors_naming_the_row(tmp_path: Path, edit, fragment: str) -> None:
    copy = _copy(tmp_path)
    _results_only(copy)
    result = sorted(copy.glob("trainable_*"))[0] / "result.json"
    result.write_text(edit(result.read_text()))
    with pytest.raises(InputError) as err:
        RAY_TUNE_DIR.read(copy, OPTS)
    assert fragment in str(err.value) and str(result) in str(err.value) and "\n" not in str(err.value)


def test_params_json_errors_say_truncated_or_nested_too_deeply(tmp_path: Path) -> None:
    trial = tmp_path / "exp" / "trainable_abcde_00000_0"
    trial.mkdir(parents=True)
    for text, fragment in (('{"lr": 0.1,', "truncated JSON"), ('{"a": ' + "[" * 100_000, "too deeply")):
        (trial / "params.json").write_text(text)
        with pytest.raises(InputError) as err:
            RAY_TUNE_DIR.read(tmp_path / "exp", OPTS)
        assert fragment in str(err.value) and "params.json" in str(err.value)
