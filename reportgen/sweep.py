"""The Sweep model: what every export is read into and every later stage works on.

`runs` has one row per run with the reserved columns in `RUN_COLUMNS` first, then one column per parameter
and per summary metric under their export names. `history` is long and tidy (run_id, step, metric, value)
with categorical ids and metric names, so per-run reductions are groupbys, not Python loops. `schema`
says which column is what and how that was decided, so a user can see and override every inference.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from reportgen.states import STATES

Direction = Literal["min", "max"]
ParamKind = Literal["numeric", "int", "categorical", "bool"]
Source = Literal["flag", "format", "declared", "inferred"]

# Reserved columns of Sweep.runs, in order. Everything after them is a param or a metric.
RUN_COLUMNS = ("run_id", "name", "state", "state_raw", "steps", "last_step", "runtime_s", "created")
HISTORY_COLUMNS = ("run_id", "step", "metric", "value")


class Distribution(BaseModel):
    """A declared search distribution (sweep YAML or Optuna study)."""

    model_config = ConfigDict(frozen=True)

    kind: str
    low: float | None = None
    high: float | None = None
    log: bool | None = None
    step: float | None = None
    choices: list[str | float | int | bool | None] | None = None


class ParamSpec(BaseModel):
    """One hyperparameter: its type, scale, observed range and how it was recognised."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: ParamKind
    log_scale: bool = False
    n_unique: int
    low: float | None = None
    high: float | None = None
    constant: bool = False
    source: Source = "inferred"
    declared: Distribution | None = None


class MetricSpec(BaseModel):
    """One metric: whether lower or higher is better (when the name says), and where it was seen."""

    model_config = ConfigDict(frozen=True)

    name: str
    goal: Direction | None = None
    in_runs: bool = True
    in_history: bool = False


class Objective(BaseModel):
    """The metric the sweep optimises and its direction."""

    model_config = ConfigDict(frozen=True)

    metric: str
    direction: Direction
    source: Source


class MetricPair(BaseModel):
    """A train metric and its validation counterpart (train_loss/val_loss, train/loss/val/loss, ...)."""

    model_config = ConfigDict(frozen=True)

    train: str
    val: str


class SweepSchema(BaseModel):
    """Which column is what, and how each was decided."""

    model_config = ConfigDict(frozen=True)

    format: str
    id_source: str = Field(description="the column(s) run ids come from, or how they were made")
    params: list[ParamSpec] = Field(default_factory=list)
    metrics: list[MetricSpec] = Field(default_factory=list)
    objective: Objective | None = None
    pairs: list[MetricPair] = Field(default_factory=list)
    num_classes: int | None = None
    num_classes_source: str | None = None
    step_axis: str | None = None
    early_termination: str | None = None
    ignored_columns: list[str] = Field(default_factory=list)

    def param(self, name: str) -> ParamSpec | None:
        return next((p for p in self.params if p.name == name), None)

    @property
    def param_names(self) -> list[str]:
        return [p.name for p in self.params]

    @property
    def metric_names(self) -> list[str]:
        return [m.name for m in self.metrics]


class SourceInfo(BaseModel):
    """Where the sweep came from: paths and their content hashes (for the report's provenance)."""

    model_config = ConfigDict(frozen=True)

    path: str
    format: str
    sha256: str
    history_path: str | None = None
    history_sha256: str | None = None
    sweep_config_path: str | None = None


class Sweep(BaseModel):
    """A sweep: runs table, long history, schema, provenance and what loading had to warn about."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    runs: pd.DataFrame
    history: pd.DataFrame
    schema_: SweepSchema = Field(alias="schema")
    source: SourceInfo
    warnings: list[str] = Field(default_factory=list)
    # per-curve statistics computed over the full history when `history` holds only some of its rows (a
    # history reduced out of core): the index, columns and dtypes of `detectors.curves.curve_stats`
    exact_curve_stats: pd.DataFrame | None = None

    @property
    def schema(self) -> SweepSchema:  # type: ignore[override]  # pydantic's deprecated BaseModel.schema()
        return self.schema_

    @property
    def state_counts(self) -> dict[str, int]:
        """Runs per canonical state, every state listed (zeros included), in canonical order."""
        counts = self.runs["state"].value_counts()
        return {s: int(counts.get(s, 0)) for s in STATES}


def empty_history() -> pd.DataFrame:
    """A history table with no rows and the right dtypes."""
    return pd.DataFrame(
        {
            "run_id": pd.Categorical([]),
            "step": pd.Series([], dtype="float64"),
            "metric": pd.Categorical([]),
            "value": pd.Series([], dtype="float64"),
        }
    )
