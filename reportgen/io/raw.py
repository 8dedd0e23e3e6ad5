"""What a format loader hands to the common assembly step.

Each loader knows its format's conventions (which columns are config and which are summary, what the
state column is called, where histories live) and records them here; `assemble.assemble()` then does what
is common to every format: value cleaning, id disambiguation, canonical states, schema inference and the
long history table. Loaders never infer what the format already states.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

Direction = Literal["min", "max"]


@dataclass(frozen=True)
class DeclaredParam:
    """A parameter's declared search distribution (from a W&B sweep YAML or an Optuna study)."""

    name: str
    distribution: str  # e.g. "uniform", "log_uniform_values", "int_uniform", "categorical", "float", "int"
    low: float | None = None
    high: float | None = None
    log: bool | None = None
    step: float | None = None
    choices: tuple[str | float | int | bool | None, ...] | None = None


@dataclass
class RawSweep:
    """A sweep as read, before cleaning and inference.

    `runs`: one row per run, columns named as the format names them (config keys, summary keys, meta).
    `history`: long table with columns `run_key` (matching `runs[id_column]`), `step`, `metric`, `value`;
    None when the export has no per-step data.
    Role fields (`param_columns`, `metric_columns`, ...) are None when the format does not say; assembly
    infers them then.
    """

    runs: pd.DataFrame
    format: str
    source: str
    history: pd.DataFrame | None = None
    id_column: str | None = None
    name_column: str | None = None
    state_column: str | None = None
    runtime_column: str | None = None
    created_column: str | None = None
    param_columns: list[str] | None = None
    metric_columns: list[str] | None = None
    ignore_columns: list[str] = field(default_factory=list)
    objective: tuple[str, Direction] | None = None
    step_axis: str | None = None
    declared_params: list[DeclaredParam] = field(default_factory=list)
    early_termination: str | None = None
    warnings: list[str] = field(default_factory=list)
