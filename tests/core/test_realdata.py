"""The real exports in ../shared/realdata read as their SOURCES.md documents them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reportgen.io.load import load_sweep
from reportgen.io.options import LoadOptions


def test_lcdb_curves_by_composite_key(realdata: Path) -> None:
    path = realdata / "lcdb-learning-curves" / "database-accuracy.openmlid-380-1457-1509-41167.csv"
    sweep = load_sweep(
        path, LoadOptions(run_key=("openmlid", "learner", "outer_seed", "inner_seed"), step="size_train")
    )
    runs = sweep.runs
    assert len(runs) == 1457
    per_dataset = runs.groupby("openmlid").size()
    assert per_dataset[41167] == 90 and per_dataset[1509] == 392
    assert runs.loc[runs["openmlid"] == 41167, "learner"].nunique() == 9
    assert runs.loc[runs["openmlid"] == 1509, "learner"].nunique() == 19
    assert sweep.schema.step_axis == "size_train"
    assert len(sweep.history) == 4 * 19403  # four per-step metrics, every row of the file
    assert {"score_train", "score_valid"} <= set(sweep.schema.metric_names)
    assert [(p.train, p.val) for p in sweep.schema.pairs] == [("score_train", "score_valid")]
    assert sweep.schema.objective.metric == "score_valid" and sweep.schema.objective.direction == "max"
    # the anchors are training-set sizes: 16, 23, 32, ... (sqrt(2) spacing)
    first = sweep.history.loc[sweep.history["run_id"] == runs["run_id"].iloc[0], "step"].unique()
    assert list(first[:3]) == [16, 23, 32]


def test_fcnet_grid_params_and_exploding_losses(realdata: Path) -> None:
    sweep = load_sweep(realdata / "hpolib-fcnet-slice" / "fcnet_slice_localization.lr_schedule-const.csv")
    assert len(sweep.runs) == 31104
    init_lr = sweep.schema.param("init_lr")
    assert init_lr.log_scale and init_lr.n_unique == 6 and (init_lr.low, init_lr.high) == (5e-4, 0.1)
    assert sweep.schema.param("batch_size").n_unique == 4
    assert "config_key" in sweep.schema.ignored_columns
    losses = sweep.runs[[f"val_loss_seed{i}" for i in range(4)]].to_numpy()
    assert np.nanmax(losses) > 1e7 and np.nanmedian(losses) < 0.1


def test_wandb_api_summary_with_history_folder(realdata: Path) -> None:
    folder = realdata / "wandb-nanogpt-ablation"
    sweep = load_sweep(folder / "wandb_summary.csv", LoadOptions(history=folder / "history_data"))
    assert len(sweep.runs) == 64 and sweep.state_counts["finished"] == 64
    assert sweep.runs["run_id"].is_unique
    assert sweep.history["run_id"].nunique() == 64
    assert not [w for w in sweep.warnings if "match no run" in w or "no history file" in w]
    assert {"train/loss", "val/loss", "lr"} <= set(sweep.schema.metric_names)
    assert "lr" not in sweep.schema.param_names  # the logged (scheduled) lr is a metric, not config
    assert sweep.schema.param("learning_rate").constant
    assert sweep.schema.step_axis == "_step"
    # F2_context_512 seed 2026 overfits: val loss min about 1.47, ends about 2.0 (SOURCES.md)
    run = sweep.runs.loc[(sweep.runs["name"] == "F2_context_512") & (sweep.runs["seed"] == 2026), "run_id"]
    val = sweep.history[(sweep.history["run_id"] == run.iloc[0]) & (sweep.history["metric"] == "val/loss")]
    assert 1.4 < val["value"].min() < 1.55 and 1.95 < val["value"].iloc[-1] < 2.1


def test_wandb_ui_export_keeps_seeds_apart(realdata: Path) -> None:
    sweep = load_sweep(realdata / "wandb-nanogpt-ablation" / "wandb_export.csv")
    assert sweep.schema.format == "wandb-ui"
    assert len(sweep.runs) == 64 and sweep.state_counts["finished"] == 64
    assert sweep.runs["run_id"].is_unique and sweep.runs["name"].nunique() == 16
    assert "F2_context_512-seed2026" in set(sweep.runs["run_id"])
    assert any("made unique" in w for w in sweep.warnings)
    assert {"val/loss", "train/loss", "lr"} <= set(sweep.schema.metric_names)
    assert {"learning_rate", "pos_encoding", "batch_size"} <= set(sweep.schema.param_names)
    assert sweep.runs["runtime_s"].notna().all()


def test_wandb_chart_export_is_history_with_derived_runs(realdata: Path) -> None:
    sweep = load_sweep(realdata / "wandb-chart-nanogpt-divergence" / "wandb_export.csv")
    assert sweep.schema.format == "wandb-chart" and len(sweep.runs) == 8
    assert sorted(sweep.runs["steps"].astype(int)) == [51, 57, 118, 128, 128, 150, 166, 386]
    assert sweep.state_counts["unknown"] == 8
    assert sweep.schema.objective.metric == "train/loss"
    run = sweep.runs.loc[sweep.runs["run_id"].str.startswith("gpt2_last_char_token_to_char"), "run_id"].iloc[
        0
    ]
    curve = sweep.history[sweep.history["run_id"] == run].set_index("step")["value"]
    assert 14.2 < curve.loc[5:].max() < 14.4  # the mid-training spike of SOURCES.md
    assert 12.1 < curve.iloc[-1] < 12.3


LCDB_KEY = ("openmlid", "learner", "outer_seed", "inner_seed")


def test_lcdb_truncated_curves_and_train_valid_gaps(realdata: Path) -> None:
    path = realdata / "lcdb-learning-curves" / "database-accuracy.openmlid-380-1457-1509-41167.csv"
    sweep = load_sweep(path, LoadOptions(run_key=LCDB_KEY, step="size_train"))
    runs = sweep.runs
    # truncated curves end before their dataset's largest anchor: 145 of 392 on openmlid 1509
    largest = runs.groupby("openmlid")["last_step"].transform("max")
    truncated = runs[runs["last_step"] < largest]
    assert (truncated["openmlid"] == 1509).sum() == 145 and (runs["openmlid"] == 1509).sum() == 392
    # overfitting: on 1457 the final train/valid gap exceeds 0.2 in 400 of 475 curves
    on_1457 = runs[runs["openmlid"] == 1457]
    gap = on_1457["score_train"] - on_1457["score_valid"]
    assert len(on_1457) == 475 and int((gap > 0.2).sum()) == 400


def test_lcdb_logloss_is_clipped_near_34_5(realdata: Path) -> None:
    path = realdata / "lcdb-learning-curves" / "database-logloss.openmlid-380-1457-1509-41167.csv"
    sweep = load_sweep(path, LoadOptions(run_key=LCDB_KEY, step="size_train"))
    assert len(sweep.runs) == 1457
    values = sweep.history.loc[sweep.history["metric"] == "score_valid", "value"]
    assert 34.5 < values.max() < 34.6  # -ln(1e-15) = 34.54, the clipping ceiling
    assert not np.isnan(values).any()


def test_fcnet_cosine_half_and_authors_summary(realdata: Path) -> None:
    cosine = load_sweep(realdata / "hpolib-fcnet-slice" / "fcnet_slice_localization.lr_schedule-cosine.csv")
    assert len(cosine.runs) == 31104 and cosine.schema.param("lr_schedule").constant
    summary = load_sweep(realdata / "wandb-nanogpt-ablation" / "ablation_summary.csv")
    assert len(summary.runs) == 16 and summary.runs["run_id"].is_unique
    assert set(summary.runs["num_seeds"]) == {4}
    f2 = summary.runs.set_index("run_id").loc["F2_context_512"]
    assert 2.0 < f2["val/loss_mean"] < 2.05


def test_stated_objective_sets_the_goal_of_its_pair(realdata: Path) -> None:
    path = realdata / "lcdb-learning-curves" / "database-logloss.openmlid-380-1457-1509-41167.csv"
    inferred = load_sweep(path, LoadOptions(run_key=LCDB_KEY, step="size_train"))
    assert {m.name: m.goal for m in inferred.schema.metrics}["score_valid"] == "max"  # the name misleads
    stated = load_sweep(
        path, LoadOptions(run_key=LCDB_KEY, step="size_train", objective=("score_valid", "min"))
    )
    goals = {m.name: m.goal for m in stated.schema.metrics}
    assert goals["score_valid"] == goals["score_train"] == "min" and goals["score_test"] == "max"
