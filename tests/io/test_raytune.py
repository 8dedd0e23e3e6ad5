"""Ray Tune loader against the base-sweep experiment folder written by real Ray Tune."""

from __future__ import annotations

import math
import shutil
import sys
from pathlib import Path

import pytest

from reportgen.errors import InputError
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
    assert trials[3]["val_loss"] == pytest.approx(RUNS[3].summary()["val_loss"])
    assert raw.runs["trial_id"].str.fullmatch(r"[0-9a-f]{5}_\d{5}").all()
    assert raw.warnings == []


def test_fixture_histories_keep_reported_nan() -> None:
    raw = RAY_TUNE_DIR.read(EXPERIMENT, OPTS)
    trials = _by_base_index(raw.runs)
    hist = raw.history
    for index, epochs in ((6, 7), (8, 4)):
        loss = hist[(hist["run_key"] == trials[index]["trial_id"]) & (hist["metric"] == "train_loss")]
        assert len(loss) == epochs and loss["step"].tolist() == list(range(1, epochs + 1))
        assert math.isnan(loss["value"].iloc[-1]) and loss["value"].iloc[:-1].notna().all()
        assert math.isnan(trials[index]["train_loss"])
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
