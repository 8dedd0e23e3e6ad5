"""Schema inference rules, each with a case that must not trigger."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reportgen.io import infer


@pytest.mark.parametrize(
    ("metrics", "pairs"),
    [
        (["train_loss", "val_loss"], [("train_loss", "val_loss")]),
        (
            ["train/loss", "val/loss", "train/acc", "val/acc"],
            [("train/acc", "val/acc"), ("train/loss", "val/loss")],
        ),
        (
            ["loss", "val_loss", "accuracy", "val_accuracy"],
            [("accuracy", "val_accuracy"), ("loss", "val_loss")],
        ),
        (["score_train", "score_valid", "score_test"], [("score_train", "score_valid")]),
        (["train_loss", "test_loss"], [("train_loss", "test_loss")]),
        (["val_loss", "val_acc"], []),  # no train side: nothing to pair
        (["loss", "lr"], []),
    ],
)
def test_train_val_pairs(metrics: list[str], pairs: list[tuple[str, str]]) -> None:
    assert [(p.train, p.val) for p in infer.infer_pairs(metrics)] == pairs


@pytest.mark.parametrize(
    ("metrics", "expected"),
    [
        (["train_loss", "val_loss", "val_acc"], ("val_loss", "min")),
        (["train/loss", "val/loss"], ("val/loss", "min")),
        (["accuracy", "val_accuracy"], ("val_accuracy", "max")),
        (["value"], None),  # direction unknown without the study: ask for --objective
        (["score_train", "score_valid"], ("score_valid", "max")),
        (["train/loss"], ("train/loss", "min")),
        (["throughput_items", "gpu_mem"], None),
    ],
)
def test_objective_inference(metrics: list[str], expected: tuple[str, str] | None) -> None:
    objective = infer.infer_objective(metrics, None, "inferred")
    assert (None if objective is None else (objective.metric, objective.direction)) == expected


def test_stated_objective_wins() -> None:
    objective = infer.infer_objective(["val_loss", "val_acc"], ("val_acc", "max"), "flag")
    assert (objective.metric, objective.direction, objective.source) == ("val_acc", "max", "flag")


def test_roles_by_name_then_by_values() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "learning_rate": [1e-3, 1e-2] * 5,
            "eval_interval": [250] * 10,
            "val_check_interval": [0.5] * 10,
            "test_size": [0.2] * 10,
            "train/loss": rng.random(10),
            "depth_multiplier": [1, 2] * 5,  # unfamiliar name, repeating values: a parameter
            "throughput": rng.random(10) * 1000,  # continuous: a metric
            "widget": rng.random(10),  # unfamiliar name, continuous: a metric
        }
    )
    params, metrics = infer.split_roles(df, list(df.columns))
    assert params == ["learning_rate", "eval_interval", "val_check_interval", "test_size", "depth_multiplier"]
    assert metrics == ["train/loss", "throughput", "widget"]


@pytest.mark.parametrize(
    ("name", "values", "log"),
    [
        ("lr", [1e-5, 1e-4, 3e-3, 1e-1], True),
        ("batch_size", [16, 32, 64, 128], True),
        ("batch_size", [32, 48, 64], False),
        ("dropout", [0.0, 0.1, 0.5], False),
        ("openmlid", [380, 1457, 41167], False),
        ("weight_decay", [1e-4, 5e-4], False),
    ],
)
def test_log_scale(name: str, values: list[float], log: bool) -> None:
    assert infer.param_spec(pd.Series(values), name, "inferred", None).log_scale is log


def test_num_classes_from_constant_config() -> None:
    runs = pd.DataFrame({"num_classes": [10, 10], "vocab_size": [65, 65]})
    assert infer.infer_num_classes(runs, ["num_classes", "vocab_size"]) == (10, "num_classes")
    assert infer.infer_num_classes(runs, ["vocab_size"]) == (65, "vocab_size")
    varying = pd.DataFrame({"n_classes": [10, 100]})
    assert infer.infer_num_classes(varying, ["n_classes"]) == (None, None)


def test_step_axis_and_id_column() -> None:
    assert infer.pick_step_axis(["_step", "epoch", "loss"]) == "_step"
    assert infer.pick_step_axis(["epoch", "loss"], "size_train") is None
    df = pd.DataFrame({"Name": ["a", "a"], "run_id": ["x1", "x2"], "trial": [0, 1]})
    assert infer.pick_id_column(df, None) == "run_id"
    assert infer.pick_id_column(df.drop(columns=["run_id", "trial"]), None, "Name") == "Name"


def test_progress_columns_are_not_parameters() -> None:
    df = pd.DataFrame(
        {
            "epochs": [20] * 6,
            "epochs_done": [2, 20, 20, 5, 20, 20],
            "max_iters": [5000] * 6,
            "epoch": [1, 19, 19, 4, 19, 19],
        }
    )
    params, metrics = infer.split_roles(df, list(df.columns))
    assert params == ["epochs", "max_iters"] and metrics == ["epochs_done", "epoch"]
    assert infer.is_progress("epochs_done") and not infer.is_progress("epochs")
