"""W&B loaders against real public exports and the base-sweep fixtures made with the real wandb client."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from reportgen.errors import InputError
from reportgen.io.history_folder import read_history_folder
from reportgen.io.load import load_sweep
from reportgen.io.options import LoadOptions
from reportgen.io.raytune import RAY_TUNE_DIR
from reportgen.io.wandb import (
    WANDB_API_JSON,
    WANDB_CHART_CSV,
    WANDB_LOCAL_DIR,
    WANDB_UI_CSV,
)
from tests.conftest import REALDATA

ROOT = Path(__file__).resolve().parents[2]
REAL = REALDATA
ABLATION = REAL / "wandb-nanogpt-ablation"
CHART = REAL / "wandb-chart-nanogpt-divergence" / "wandb_export.csv"
FIX = ROOT / "fixtures" / "wandb"
OPTS = LoadOptions()

needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="shared real data not present")

# base sweep (fixtures/generators/base_sweep.py): run index -> W&B id the generator gave it
CRASHED = {"rg06x7k2": 7, "rg08x7k2": 4}  # logged epochs; the last one is NaN
FAILED, KILLED = "rg10x7k2", "rg09x7k2"


# --- real exports ----------------------------------------------------------------------------------


@needs_real
def test_real_ui_export_runs_roles_and_split() -> None:
    raw = WANDB_UI_CSV.read(ABLATION / "wandb_export.csv", OPTS)
    assert len(raw.runs) == 64
    assert set(raw.runs[raw.state_column]) == {"finished"}
    assert raw.id_column is None and raw.name_column == "Name"
    names = raw.runs["Name"].value_counts()
    assert len(names) == 16 and set(names) == {4}
    assert {"learning_rate", "batch_size", "pos_encoding"} <= set(raw.param_columns)
    assert {"val/loss", "train/loss", "lr"} <= set(raw.metric_columns)
    # `lr` is the final scheduled lr (a summary), not the configured learning_rate
    assert "lr" not in raw.param_columns and "learning_rate" not in raw.metric_columns
    assert raw.runs["lr"].max() < raw.runs["learning_rate"].min()
    assert {"Notes", "User", "Tags", "Sweep"} <= set(raw.ignore_columns)
    assert raw.runtime_column == "Runtime" and raw.runs["Runtime"].dtype.kind in "if"
    assert raw.warnings == []


@needs_real
def test_real_chart_export_runs_and_steps() -> None:
    raw = WANDB_CHART_CSV.read(CHART, OPTS)
    assert len(raw.runs) == 8 and raw.state_column is None
    assert raw.metric_columns == ["train/loss"] and raw.step_axis == "Step"
    counts = raw.history.groupby("run_key").size()
    assert sorted(counts) == [51, 57, 118, 128, 128, 150, 166, 386]
    assert set(raw.history["metric"]) == {"train/loss"}  # __MIN/__MAX envelopes dropped
    run = next(k for k in counts.index if k.startswith("gpt2_last_char_token_to_char"))
    curve = raw.history[raw.history["run_key"] == run].set_index("step")["value"]
    # SOURCES.md's "14.3 spike" is the mid-training peak; the curve starts at 24.7 at step 0
    assert curve.max() == pytest.approx(24.701, abs=1e-3) and curve.idxmax() == 0
    assert curve.loc[5:].max() == pytest.approx(14.29, abs=0.01)
    # the summary is the curve's last logged value, which assembly derives from the history
    summary = load_sweep(CHART).runs.set_index("run_id").loc[run, "train/loss"]
    assert summary == pytest.approx(12.23, abs=0.01) == curve.iloc[-1]


@needs_real
def test_real_history_folder_matches_every_run_by_id() -> None:
    summary = pd.read_csv(ABLATION / "wandb_summary.csv")
    history, _axis, warnings = read_history_folder(
        ABLATION / "history_data", summary["run_id"].tolist(), summary["run_name"].tolist()
    )
    assert len(list((ABLATION / "history_data").glob("*.csv"))) == 64
    assert warnings == []
    assert set(history["run_key"]) == set(summary["run_id"])
    assert {"train/loss", "val/loss", "train/step_loss", "lr"} <= set(history["metric"])
    # internals and the media column are not metrics; sparse holes are not NaN values
    assert not {"_timestamp", "_runtime", "Sample Generation"} & set(history["metric"])
    assert history["value"].notna().all()
    assert list(history.columns) == ["run_key", "step", "metric", "value"]


# --- history folder semantics ------------------------------------------------------------------------


def test_history_folder_name_fallback_nan_tokens_and_unmatched(tmp_path: Path) -> None:
    (tmp_path / "alpha_history.csv").write_text("_step,loss,acc\n0,1.0,\n1,,0.5\n2,NaN,\n")
    (tmp_path / "beta_history.csv").write_text("_step,loss\n0,2.0\n")
    (tmp_path / "stray.csv").write_text("_step,loss\n0,3.0\n")
    history, _axis, warnings = read_history_folder(tmp_path, ["id1", "id2", "id3"], ["alpha", "beta", "beta"])
    # alpha is unique -> matched by name; beta is shared by two runs -> not guessed
    assert set(history["run_key"]) == {"id1"}
    loss = history[history["metric"] == "loss"].set_index("step")["value"]
    assert loss.loc[0] == 1.0 and math.isnan(loss.loc[2]) and 1 not in loss.index
    assert len(history[history["metric"] == "acc"]) == 1
    assert any("beta_history.csv" in w for w in warnings) and any("stray.csv" in w for w in warnings)
    assert any("2 run(s) have no history file" in w for w in warnings)


def test_history_folder_empty_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        read_history_folder(tmp_path, ["a"], None)
    assert str(tmp_path) in str(err.value) and "\n" not in str(err.value)


# --- fixtures from the real wandb client -------------------------------------------------------------


@pytest.mark.parametrize("name", ["runs_api.json", "runs_api.jsonl"])
def test_api_dump_fixture(name: str) -> None:
    raw = WANDB_API_JSON.read(FIX / name, OPTS)
    runs = raw.runs.set_index("id")
    assert len(runs) == 12 and raw.id_column == "id" and raw.name_column == "name"
    assert runs["state"].value_counts().to_dict() == {"finished": 8, "crashed": 2, "killed": 1, "failed": 1}
    assert raw.param_columns == ["lr", "batch_size", "weight_decay", "optimizer"]
    assert {"train_loss", "val_loss", "val_acc"} <= set(raw.metric_columns)
    assert (raw.runs["name"] == "sweep-run-1").sum() == 2  # seeds share a display name
    # the literal NaN / Infinity tokens of the dump arrive as floats
    text = (FIX / name).read_text()
    assert "NaN" in text and "Infinity" in text
    assert math.isnan(runs.loc["rg06x7k2", "val_loss"]) and runs.loc["rg08x7k2", "grad_norm"] == math.inf
    assert runs["grad_norm"].dtype.kind == "f"
    assert runs.loc["rg00x7k2", "_step"] == 19 and raw.runtime_column == "_runtime"
    assert not any(c.startswith("_wandb") or c == "_timestamp" for c in raw.runs.columns)
    assert {"tags", "notes"} <= set(raw.ignore_columns)


def test_api_dump_unwraps_config_and_reads_history(tmp_path: Path) -> None:
    path = tmp_path / "runs.json"
    path.write_text(
        '[{"id": "a1", "name": "n", "state": "crashed",'
        ' "config": {"wandb_version": 1, "_wandb": {"value": {}}, "lr": {"value": 0.1, "desc": null},'
        '            "model": {"value": {"depth": 4}}},'
        ' "summary": {"loss": NaN, "media": {"_type": "html-file", "path": "x.html"}, "_step": 2,'
        '             "_runtime": 5.5, "_timestamp": 1},'
        ' "history": [{"_step": 0, "loss": 1.0}, {"_step": 1, "acc": 0.5}, {"_step": 2, "loss": NaN}]}]'
    )
    raw = WANDB_API_JSON.read(path, OPTS)
    assert raw.param_columns == ["lr", "model.depth"] and raw.runs.loc[0, "model.depth"] == 4
    assert raw.metric_columns == ["loss"] and "media" in raw.ignore_columns
    assert raw.runs.loc[0, "_runtime"] == 5.5
    loss = raw.history[raw.history["metric"] == "loss"]
    assert loss["step"].tolist() == [0.0, 2.0] and math.isnan(loss["value"].iloc[-1])
    assert raw.history[raw.history["metric"] == "acc"]["step"].tolist() == [1.0]


def test_local_dir_fixture() -> None:
    raw = WANDB_LOCAL_DIR.read(FIX / "local", OPTS)
    runs = raw.runs.set_index("id")
    assert len(runs) == 12 and raw.id_column == "id" and raw.name_column is None
    # state from the exit code in logs/debug.log: crashed runs exited 1 -> W&B's "failed"
    assert runs["state"].value_counts().to_dict() == {"finished": 8, "failed": 3, "killed": 1}
    assert runs.loc[KILLED, "state"] == "killed" and runs.loc[FAILED, "state"] == "failed"
    assert raw.param_columns == ["lr", "batch_size", "weight_decay", "optimizer"]
    assert runs.loc["rg03x7k2", "lr"] == 1e-3 and runs.loc["rg03x7k2", "weight_decay"] == 0.0
    hist = raw.history
    for run_id, epochs in CRASHED.items():
        loss = hist[(hist["run_key"] == run_id) & (hist["metric"] == "val_loss")]
        assert (
            len(loss) == epochs
            and math.isnan(loss["value"].iloc[-1])
            and loss["value"].iloc[:-1].notna().all()
        )
        assert math.isnan(runs.loc[run_id, "val_loss"])  # the summary keeps the last logged NaN
    assert FAILED not in set(hist["run_key"])
    assert len(hist[(hist["run_key"] == KILLED) & (hist["metric"] == "val_loss")]) == 8
    assert raw.warnings == []


def test_local_dir_with_only_binary_logs_is_input_error(tmp_path: Path) -> None:
    run = tmp_path / "wandb" / "offline-run-20260101_000000-abcd1234"
    run.mkdir(parents=True)
    (run / "run-abcd1234.wandb").write_bytes(b":W&B\xe1\xbe\x00")
    assert not WANDB_LOCAL_DIR.sniff(tmp_path)
    with pytest.raises(InputError) as err:
        WANDB_LOCAL_DIR.read(tmp_path, OPTS)
    assert "config.yaml" in str(err.value) and "\n" not in str(err.value)


def test_ui_export_fixture() -> None:
    raw = WANDB_UI_CSV.read(FIX / "ui_export.csv", OPTS)
    runs = raw.runs
    assert len(runs) == 12 and (runs["Name"] == "sweep-run-1").sum() == 2
    assert runs["State"].value_counts().to_dict() == {"finished": 8, "crashed": 2, "killed": 1, "failed": 1}
    assert raw.param_columns == ["batch_size", "lr", "optimizer", "weight_decay"]
    assert raw.metric_columns == ["best_val_loss", "grad_norm", "train_loss", "val_acc", "val_loss"]
    assert runs["grad_norm"].max() == math.inf and runs["grad_norm"].dtype.kind == "f"
    crashed = runs[runs["State"] == "crashed"]
    assert crashed["val_loss"].isna().all()


def test_chart_export_fixture_keeps_logged_nan_and_numbers_shared_names() -> None:
    raw = WANDB_CHART_CSV.read(FIX / "chart_export.csv", OPTS)
    assert len(raw.runs) == 12 and raw.metric_columns == ["val_loss"]
    assert {"sweep-run-1", "sweep-run-1#2"} <= set(raw.runs["name"])
    assert any("sweep-run-1" in w for w in raw.warnings)
    counts = raw.history.groupby("run_key").size()
    assert counts["sweep-run-7"] == 7 and counts["sweep-run-9"] == 4 and counts["sweep-run-10"] == 8
    assert "sweep-run-11" not in counts  # failed before its first epoch
    last = raw.history[raw.history["run_key"] == "sweep-run-7"]["value"]
    assert math.isnan(last.iloc[-1]) and last.iloc[:-1].notna().all()


# --- malformed input -----------------------------------------------------------------------------------


def _one_line_error(spec, path: Path) -> str:
    with pytest.raises(InputError) as err:
        spec.read(path, OPTS)
    message = str(err.value)
    assert "\n" not in message and str(path) in message
    return message


def test_malformed_inputs(tmp_path: Path) -> None:
    truncated = tmp_path / "runs.json"
    truncated.write_text((FIX / "runs_api.json").read_text()[:500])
    assert "truncated" in _one_line_error(WANDB_API_JSON, truncated)
    not_runs = tmp_path / "obj.json"
    not_runs.write_text('{"project": "x", "entity": "y"}')
    assert "array of W&B run objects" in _one_line_error(WANDB_API_JSON, not_runs)
    bad_line = tmp_path / "runs.jsonl"
    bad_line.write_text('{"id": "a", "config": {}, "summary": {}}\n{"id": "b", "config": \n')
    assert "row 2" in _one_line_error(WANDB_API_JSON, bad_line)
    empty = tmp_path / "empty"
    empty.mkdir()
    _one_line_error(WANDB_LOCAL_DIR, empty)
    no_curves = tmp_path / "chart.csv"
    no_curves.write_text("Step,loss,acc\n0,1,2\n")
    assert "<run> - <metric>" in _one_line_error(WANDB_CHART_CSV, no_curves)
    no_state = tmp_path / "ui.csv"
    no_state.write_text("Name,Created,lr\na,2024,0.1\n")
    assert "State" in _one_line_error(WANDB_UI_CSV, no_state)


def test_ui_export_without_single_order_break_warns(tmp_path: Path) -> None:
    path = tmp_path / "ui.csv"
    path.write_text("Name,State,Created,Runtime,b,a,d,c,e\nr,finished,2024,1,1,2,3,4,5\n")
    raw = WANDB_UI_CSV.read(path, OPTS)
    assert raw.param_columns is None and raw.metric_columns is None and len(raw.warnings) == 1


# --- sniffing ------------------------------------------------------------------------------------------


SPECS = {
    "ui": (WANDB_UI_CSV, FIX / "ui_export.csv"),
    "chart": (WANDB_CHART_CSV, FIX / "chart_export.csv"),
    "api": (WANDB_API_JSON, FIX / "runs_api.json"),
    "api-jsonl": (WANDB_API_JSON, FIX / "runs_api.jsonl"),
    "local": (WANDB_LOCAL_DIR, FIX / "local"),
    "local-wandb": (WANDB_LOCAL_DIR, FIX / "local" / "wandb"),
    "ray": (RAY_TUNE_DIR, ROOT / "fixtures" / "raytune" / "base_sweep"),
}


@pytest.mark.parametrize("key", list(SPECS))
def test_each_sniff_claims_only_its_own_fixture(key: str, tmp_path: Path) -> None:
    spec, fixture = SPECS[key]
    assert spec.sniff(fixture)
    others = [path for other_spec, path in SPECS.values() if other_spec is not spec]
    assert not any(spec.sniff(path) for path in others)
    text = tmp_path / "notes.txt"
    text.write_text("just some text, Name State Created\nnot an export\n")
    assert not spec.sniff(text) and not spec.sniff(tmp_path) and not spec.sniff(tmp_path / "missing")


@needs_real
def test_sniff_real_exports() -> None:
    assert WANDB_UI_CSV.sniff(ABLATION / "wandb_export.csv") and not WANDB_CHART_CSV.sniff(
        ABLATION / "wandb_export.csv"
    )
    assert WANDB_CHART_CSV.sniff(CHART) and not WANDB_UI_CSV.sniff(CHART)
    assert not WANDB_UI_CSV.sniff(ABLATION / "wandb_summary.csv")


def test_loaders_never_import_wandb(tmp_path: Path) -> None:
    import sys

    shutil.copytree(FIX / "local", tmp_path / "local", symlinks=True)
    WANDB_LOCAL_DIR.read(tmp_path / "local", OPTS)
    WANDB_API_JSON.read(FIX / "runs_api.jsonl", OPTS)
    assert "wandb" not in sys.modules


# --- odd shapes: every one a sensible reading or a one-line InputError ----------------------------------


def test_api_history_of_numeric_ids_matches_the_runs(tmp_path: Path) -> None:
    path = tmp_path / "runs.json"
    run = {"name": "n", "state": "finished", "config": {"lr": 0.1}, "summary": {"loss": 0.5}}
    path.write_text(
        json.dumps(
            [
                {**run, "id": 5.0, "history": [{"_step": 0, "loss": 1.0}, {"_step": 1, "loss": 0.5}]},
                {**run, "id": 7, "history": [{"_step": 0, "loss": 2.0}]},
            ]
        )
    )
    raw = WANDB_API_JSON.read(path, OPTS)
    assert raw.runs["id"].tolist() == ["5", "7"] and set(raw.history["run_key"]) == {"5", "7"}
    sweep = load_sweep(path)
    assert not any("match no run" in w for w in sweep.warnings)
    assert sweep.history.groupby("run_id", observed=True).size().to_dict() == {"5": 2, "7": 1}


def test_api_history_records_flatten_nested_dicts_like_the_summary(tmp_path: Path) -> None:
    path = tmp_path / "runs.json"
    path.write_text(
        '[{"id": "a", "config": {}, "summary": {"val": {"loss": 0.5}},'
        ' "history": [{"_step": 0, "val": {"loss": 1.0}, "img": {"_type": "image-file", "width": 64}},'
        '             {"_step": 1, "val": {"loss": NaN}}]}]'
    )
    raw = WANDB_API_JSON.read(path, OPTS)
    assert raw.metric_columns == ["val.loss"]
    loss = raw.history[raw.history["metric"] == "val.loss"]
    assert loss["step"].tolist() == [0.0, 1.0] and math.isnan(loss["value"].iloc[-1])
    assert set(raw.history["metric"]) == {"val.loss"}  # a media dict's fields are not metrics


def test_local_history_flattens_nested_dicts_and_names_bad_rows(tmp_path: Path) -> None:
    shutil.copytree(FIX / "local", tmp_path / "local", symlinks=True)
    run_dir = sorted((tmp_path / "local" / "wandb").glob("offline-run-*"))[0]
    history = run_dir / "files" / "wandb-history.jsonl"
    history.write_text('{"_step": 0, "val": {"loss": 1.0}}\n\n{"_step": 1, "val": {"loss": NaN}}\n')
    raw = WANDB_LOCAL_DIR.read(tmp_path / "local", OPTS)
    run_id = run_dir.name.rsplit("-", 1)[-1]
    loss = raw.history[(raw.history["run_key"] == run_id) & (raw.history["metric"] == "val.loss")]
    assert loss["step"].tolist() == [0.0, 1.0] and math.isnan(loss["value"].iloc[-1])
    for text, fragment in (
        ('{"_step": 0, "loss": 1.0}\n[1, 2]\n', "row 2"),  # a record that is not an object
        ('{"_step": 0, "loss": 1.0}\n{"_step": 1, \n{"_step": 2}\n', "row 2"),
        ('{"_step": 0, "loss": 1.0}\n{"_step": 1, "lo', "truncated JSON"),
    ):
        history.write_text(text)
        assert fragment in _one_line_error(WANDB_LOCAL_DIR, tmp_path / "local")


def test_api_history_that_is_not_a_list_of_objects_is_input_error(tmp_path: Path) -> None:
    path = tmp_path / "runs.json"
    for history, fragment in (('[{"_step": 0}, 5]', "not an object"), ('{"_step": [0]}', "list")):
        path.write_text(f'[{{"id": "a", "config": {{}}, "summary": {{}}, "history": {history}}}]')
        message = _one_line_error(WANDB_API_JSON, path)
        assert fragment in message and "row 1" in message


def test_local_summary_config_and_metadata_of_odd_shapes_read(tmp_path: Path) -> None:
    shutil.copytree(FIX / "local", tmp_path / "local", symlinks=True)
    run_dir = sorted((tmp_path / "local" / "wandb").glob("offline-run-*"))[0]
    files = run_dir / "files"
    (files / "wandb-summary.json").write_text('{"loss": [[1, NaN], [2]], "acc": {"top": [1]}, "f1": 0.5}')
    (files / "config.yaml").write_text(
        "model:\n  value: {depth: 4, act: {name: relu}}\n"
        "day:\n  value: 2024-01-02\n"
        "layers:\n  value: [1, 2]\n"
    )
    (files / "wandb-metadata.json").write_text('{"startedAt": [1, 2]}')
    raw = WANDB_LOCAL_DIR.read(tmp_path / "local", OPTS)
    row = raw.runs.set_index("id").loc[run_dir.name.rsplit("-", 1)[-1]]
    assert row["loss"] == "[[1, NaN], [2]]" and row["acc.top"] == "[1]" and row["f1"] == 0.5
    assert row["model.depth"] == 4 and row["model.act.name"] == "relu" and row["layers"] == "[1, 2]"
    assert row["day"] == "2024-01-02"  # a YAML date as its own spelling, not a quoted JSON string
    assert pd.isna(load_sweep(tmp_path / "local").runs.set_index("run_id").loc[row.name, "created"])


def test_chart_export_runs_get_summaries_from_the_history() -> None:
    raw = WANDB_CHART_CSV.read(FIX / "chart_export.csv", OPTS)
    assert list(raw.runs.columns) == ["name"]  # no summary columns of its own
    runs = load_sweep(FIX / "chart_export.csv").runs.set_index("run_id")
    last = raw.history.drop_duplicates(["run_key", "metric"], keep="last").set_index("run_key")["value"]
    assert math.isnan(runs.loc["sweep-run-7", "val_loss"])  # NaN logged last
    assert runs.loc["sweep-run-1#2", "val_loss"] == last["sweep-run-1#2"]
    assert math.isnan(runs.loc["sweep-run-11", "val_loss"])  # never logged


def test_chart_export_metric_never_logged_stays_a_column(tmp_path: Path) -> None:
    path = tmp_path / "chart.csv"
    path.write_text("Step,a - loss,b - acc\n0,,1\n1,,\n")
    raw = WANDB_CHART_CSV.read(path, OPTS)
    assert raw.metric_columns == ["loss", "acc"] and raw.runs["loss"].isna().all() and "acc" not in raw.runs
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("Step,a - loss\n0,1\n1,2,3\n")
    _one_line_error(WANDB_CHART_CSV, ragged)
