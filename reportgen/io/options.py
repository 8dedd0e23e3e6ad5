"""Options that steer loading and inference; every field is optional and overrides what is inferred."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from reportgen.io.history_source import HistoryEngine


class LoadOptions(BaseModel):
    """How to read an export.

    `input_format`: a loader name (see `reportgen.io.registry.LOADERS`), else sniffed.
    `history`: a history table (long or wide) or a folder of per-run history files.
    `study`: the Optuna study to read when a storage holds several.
    `run_key`: columns whose combination identifies a run (e.g. openmlid, learner, seed).
    `step`: the history's step axis column (e.g. size_train).
    `objective`: metric name and direction, e.g. ("val_loss", "min").
    `params` / `metrics`: explicit parameter and metric column lists.
    `sweep_config`: a W&B sweep YAML declaring the search space.
    `history_engine`: "memory" reads the whole history; "chunked" (pyarrow, in batches) and "duckdb"
    reduce a long Parquet history out of core: exact per-curve statistics, and at most `max_points`
    real rows per curve kept for the checks that read curves row by row. `duckdb_memory_limit` caps
    DuckDB's memory (it spills to a temporary folder beyond it).
    """

    model_config = ConfigDict(frozen=True)

    input_format: str | None = None
    history: Path | None = None
    study: str | None = None
    run_key: tuple[str, ...] | None = None
    step: str | None = None
    objective: tuple[str, str] | None = None
    params: tuple[str, ...] | None = None
    metrics: tuple[str, ...] | None = None
    sweep_config: Path | None = None
    history_engine: HistoryEngine = "memory"
    max_points: int = Field(default=1000, ge=2)
    duckdb_memory_limit: str = "1GB"
