"""Loading plain tables end to end: the seed-000 sweep and the base sweep in every generic layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen.errors import InputError
from reportgen.io.load import load_sweep
from reportgen.io.options import LoadOptions
from tests.conftest import FIXTURES

SEED = FIXTURES / "seed000"
GENERIC = FIXTURES / "generic"


@pytest.fixture(scope="module")
def seed():
    return load_sweep(SEED / "runs.csv", LoadOptions(history=SEED / "history.csv"))


def test_seed000_runs_states_and_params(seed) -> None:
    runs = seed.runs.set_index("run_id")
    assert list(runs.index) == [str(i) for i in range(8)]
    assert seed.state_counts["finished"] == 7 and seed.state_counts["crashed"] == 1
    assert runs.loc["2", "state"] == "crashed"
    assert runs.loc["2", "lr"] == 0.01 and runs.loc["4", "lr"] == 0.02
    assert runs.loc["3", "weight_decay"] == 0.0 and runs.loc["4", "weight_decay"] == 0.0
    schema = seed.schema
    assert schema.param_names == ["lr", "batch_size", "weight_decay", "num_classes"]
    assert schema.param("lr").log_scale and schema.param("lr").kind == "numeric"
    assert schema.param("batch_size").kind == "int"
    assert schema.objective.metric == "val_loss" and schema.objective.direction == "min"
    assert [(p.train, p.val) for p in schema.pairs] == [("train_loss", "val_loss")]
    assert schema.num_classes == 10 and schema.step_axis == "epoch"


def test_seed000_history_keeps_nan_and_inf(seed) -> None:
    h = seed.history
    assert len(h) == 2 * (7 * 20 + 5)
    assert isinstance(h["run_id"].dtype, pd.CategoricalDtype)
    assert isinstance(h["metric"].dtype, pd.CategoricalDtype)
    t2 = h[(h["run_id"] == "2") & (h["metric"] == "train_loss")]
    assert t2["step"].tolist() == [1, 2, 3, 4, 5]
    first_nan = t2.loc[t2["value"].isna(), "step"].min()
    assert first_nan == 4
    v4 = h[(h["run_id"] == "4") & (h["metric"] == "val_loss")]
    assert v4.loc[np.isinf(v4["value"]), "step"].min() == 13
    runs = seed.runs.set_index("run_id")
    assert runs.loc["2", "steps"] == 5 and runs.loc["3", "last_step"] == 20
    ratio = runs.loc["3", "val_loss"] / runs.loc["3", "train_loss"]
    assert round(ratio, 2) == 5.33


@pytest.mark.parametrize("history", ["history.parquet", "history_wide.csv", "history_runs"])
def test_base_sweep_histories_agree_across_layouts(history: str) -> None:
    sweep = load_sweep(GENERIC / "runs.parquet", LoadOptions(history=GENERIC / history))
    h = sweep.history
    assert len(h) == 537
    assert h["run_id"].nunique() == 11  # run-10 failed before its first epoch
    crashed = h[(h["run_id"] == "run-06") & (h["metric"] == "val_loss")]
    assert crashed["step"].max() == 6 and crashed["value"].isna().sum() == 1
    assert sweep.runs.set_index("run_id").loc["run-09", "last_step"] == 7


@pytest.mark.parametrize("name", ["runs.json", "runs.jsonl", "runs.parquet"])
def test_base_sweep_runs_in_every_table_format(name: str) -> None:
    sweep = load_sweep(GENERIC / name)
    assert len(sweep.runs) == 12
    assert sweep.state_counts == {
        "finished": 8,
        "crashed": 2,
        "failed": 1,
        "killed": 1,
        "running": 0,
        "pruned": 0,
        "queued": 0,
        "unknown": 0,
    }
    assert sweep.schema.param_names == ["lr", "batch_size", "weight_decay", "optimizer"]
    assert sweep.schema.param("optimizer").kind == "categorical"
    assert sweep.schema.metric_names == ["train_loss", "val_loss", "val_acc"]


def test_duplicate_ids_are_made_unique_and_said(tmp_path: Path) -> None:
    p = tmp_path / "runs.csv"
    p.write_text("name,seed,lr,val_loss\nbase,1,0.1,0.5\nbase,2,0.1,0.6\nwide,1,0.2,0.4\n")
    sweep = load_sweep(p)
    assert sweep.runs["run_id"].tolist() == ["base-seed1", "base-seed2", "wide"]
    assert sweep.runs["name"].tolist() == ["base", "base", "wide"]
    assert any("made unique" in w for w in sweep.warnings)
    p.write_text("name,lr,val_loss\nbase,0.1,0.5\nbase,0.1,0.6\n")
    assert load_sweep(p).runs["run_id"].tolist() == ["base#1", "base#2"]


def test_mixed_types_and_header_only(tmp_path: Path) -> None:
    p = tmp_path / "runs.csv"
    rows = "\n".join(f"r{i},{0.1 * i},finished" for i in range(1, 12))
    p.write_text(f"run_id,val_loss,state\n{rows}\nr12,crashed-at-3,crashed\n")
    sweep = load_sweep(p)
    assert sweep.runs["val_loss"].isna().sum() == 1
    assert any("'val_loss' is numeric but 1 cell(s)" in w and "row 13" in w for w in sweep.warnings)
    p.write_text("run_id,lr,val_loss\n")
    empty = load_sweep(p)
    assert empty.runs.empty and "the export holds no runs" in empty.warnings


def test_unknown_flag_columns_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--objective names 'acc'"):
        load_sweep(SEED / "runs.csv", LoadOptions(objective=("acc", "max")))
    with pytest.raises(InputError, match="--params names 'depth'"):
        load_sweep(SEED / "runs.csv", LoadOptions(params=("depth",)))


def test_flags_override_inference() -> None:
    sweep = load_sweep(
        SEED / "runs.csv",
        LoadOptions(objective=("train_loss", "min"), metrics=("runtime_s",), params=("lr",)),
    )
    assert sweep.schema.objective.metric == "train_loss" and sweep.schema.objective.source == "flag"
    assert sweep.schema.param("lr").source == "flag"


def test_sweep_config_declares_the_space(tmp_path: Path) -> None:
    cfg = tmp_path / "sweep.yaml"
    cfg.write_text(
        "method: random\nmetric: {name: val_loss, goal: minimize}\n"
        "early_terminate: {type: hyperband, min_iter: 3}\n"
        "parameters:\n  lr: {distribution: uniform, min: 0.0001, max: 0.1}\n"
        "  batch_size: {values: [8, 16, 32, 64, 128]}\n  weight_decay: {value: 0.0}\n"
    )
    sweep = load_sweep(SEED / "runs.csv", LoadOptions(sweep_config=cfg))
    lr = sweep.schema.param("lr")
    assert lr.declared.kind == "uniform" and lr.declared.log is False and lr.declared.high == 0.1
    assert not lr.log_scale  # the declared distribution decides the scale it was searched on
    assert sweep.schema.param("batch_size").declared.choices == [8, 16, 32, 64, 128]
    assert sweep.schema.early_termination == "hyperband"
    assert sweep.schema.objective.source == "format"
    cfg.write_text("parameters: [1, 2]\n")
    with pytest.raises(InputError, match="'parameters' mapping"):
        load_sweep(SEED / "runs.csv", LoadOptions(sweep_config=cfg))


def test_same_export_same_sweep() -> None:
    a = load_sweep(SEED / "runs.csv", LoadOptions(history=SEED / "history.csv"))
    b = load_sweep(SEED / "runs.csv", LoadOptions(history=SEED / "history.csv"))
    pd.testing.assert_frame_equal(a.runs, b.runs)
    pd.testing.assert_frame_equal(a.history, b.history)
    assert a.schema == b.schema and a.source.sha256 == b.source.sha256


def test_history_only_metrics_summarise_the_last_logged_value_nan_included(tmp_path: Path) -> None:
    runs = pd.read_parquet(GENERIC / "runs.parquet")[["run_id", "state", "lr"]]
    runs.to_csv(tmp_path / "runs.csv", index=False)
    sweep = load_sweep(tmp_path / "runs.csv", LoadOptions(history=GENERIC / "history.parquet"))
    specs = {m.name: m for m in sweep.schema.metrics}
    assert specs["val_loss"].in_history and not specs["val_loss"].in_runs
    summary = sweep.runs.set_index("run_id")
    assert np.isnan(summary.loc["run-06", "val_loss"])  # crashed at epoch 6 logging NaN
    assert summary.loc["run-09", "val_loss"] == pytest.approx(0.841624)  # stopped early at epoch 7
    assert np.isnan(summary.loc["run-10", "val_loss"])  # no history at all


def test_optuna_sqlite_url_and_server_urls(tmp_path: Path) -> None:
    study = FIXTURES / "optuna" / "study.sqlite3"
    sweep = load_sweep(f"sqlite:///{study}", LoadOptions(study="lr-sweep"))
    assert sweep.schema.format == "optuna" and len(sweep.runs) == 12
    with pytest.raises(InputError, match="only sqlite:/// URLs are read"):
        load_sweep("postgresql://user@localhost/optuna")


def test_input_format_overrides_sniffing(realdata: Path) -> None:
    export = realdata / "wandb-nanogpt-ablation" / "wandb_export.csv"
    assert load_sweep(export).schema.format == "wandb-ui"
    forced = load_sweep(export, LoadOptions(input_format="table"))
    assert forced.schema.format == "table" and len(forced.runs) == 64


def test_ids_with_leading_zeros_stay_text_and_match_their_history(tmp_path: Path) -> None:
    (tmp_path / "runs.csv").write_text("run_id,lr\n007,0.1\n010,0.2\n")
    (tmp_path / "h.csv").write_text("run_id,step,loss\n007,0,2.0\n007,1,1.0\n010,0,2.2\n")
    sweep = load_sweep(tmp_path / "runs.csv", LoadOptions(history=tmp_path / "h.csv"))
    assert sweep.runs["run_id"].tolist() == ["007", "010"]
    assert sweep.history.groupby("run_id", observed=True).size().to_dict() == {"007": 2, "010": 1}
