"""The table of export formats, most specific first; the plain-table reader is the catch-all, last."""

from __future__ import annotations

from reportgen.io.mlflow import MLFLOW_CSV, MLFLOW_STORE
from reportgen.io.optuna import OPTUNA_CSV, OPTUNA_STORAGE
from reportgen.io.plain import PLAIN_TABLE
from reportgen.io.raytune import RAY_TUNE_DIR
from reportgen.io.registry import LoaderSpec
from reportgen.io.wandb import WANDB_API_JSON, WANDB_CHART_CSV, WANDB_LOCAL_DIR, WANDB_UI_CSV

LOADERS: list[LoaderSpec] = [
    # binary storages and folders first: their sniffs look at structure, not text
    OPTUNA_STORAGE,
    MLFLOW_STORE,
    RAY_TUNE_DIR,
    WANDB_LOCAL_DIR,
    # tables with a format's own header conventions
    WANDB_UI_CSV,
    WANDB_CHART_CSV,
    OPTUNA_CSV,
    MLFLOW_CSV,
    WANDB_API_JSON,
    PLAIN_TABLE,
]
