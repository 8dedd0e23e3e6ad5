"""The table of export formats, most specific first; the plain-table reader is the catch-all, last."""

from __future__ import annotations

from reportgen.io.mlflow import MLFLOW_CSV, MLFLOW_STORE
from reportgen.io.optuna import OPTUNA_CSV, OPTUNA_STORAGE
from reportgen.io.plain import PLAIN_TABLE
from reportgen.io.registry import LoaderSpec

LOADERS: list[LoaderSpec] = [
    OPTUNA_STORAGE,
    MLFLOW_STORE,
    OPTUNA_CSV,
    MLFLOW_CSV,
    PLAIN_TABLE,
]
