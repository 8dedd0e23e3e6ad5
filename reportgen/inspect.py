"""What `reportgen inspect` reports: what was read and what was inferred, as one typed summary."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from reportgen.sweep import MetricPair, Objective, ParamSpec, SourceInfo, Sweep

SCHEMA_VERSION = 1


class StateCount(BaseModel):
    state: str
    runs: int
    spellings: dict[str, int] = Field(description="raw spellings in the export and their run counts")


class ParamSummary(ParamSpec):
    levels: list[str] | None = Field(default=None, description="most common values of a categorical")


class MetricSummary(BaseModel):
    name: str
    goal: str | None
    in_history: bool
    runs_with_value: int = Field(description="runs whose summary value is a number (inf included)")
    missing_or_nan_runs: int = Field(description="runs with no value or a NaN (an export cannot tell apart)")
    inf_runs: int
    low: float | None
    high: float | None


class HistorySummary(BaseModel):
    rows: int
    runs: int
    metrics: list[str]
    step_axis: str | None
    first_step: float | None
    last_step: float | None


class InspectSummary(BaseModel):
    schema_version: int = SCHEMA_VERSION
    source: SourceInfo
    runs: int
    id_source: str
    states: list[StateCount]
    created_first: str | None
    created_last: str | None
    params: list[ParamSummary]
    metrics: list[MetricSummary]
    objective: Objective | None
    pairs: list[MetricPair]
    num_classes: int | None
    num_classes_source: str | None
    early_termination: str | None
    ignored_columns: list[str]
    history: HistorySummary
    warnings: list[str]


def summarize(sweep: Sweep) -> InspectSummary:
    """The inspect summary of a sweep (pure: no printing, no rounding)."""
    runs = sweep.runs
    schema = sweep.schema
    created = runs["created"].dropna()
    return InspectSummary(
        source=sweep.source,
        runs=len(runs),
        id_source=schema.id_source,
        states=_states(runs),
        created_first=created.min().isoformat() if not created.empty else None,
        created_last=created.max().isoformat() if not created.empty else None,
        params=[_param(runs, p) for p in schema.params],
        metrics=[_metric(runs, m.name, m.goal, m.in_history) for m in schema.metrics],
        objective=schema.objective,
        pairs=schema.pairs,
        num_classes=schema.num_classes,
        num_classes_source=schema.num_classes_source,
        early_termination=schema.early_termination,
        ignored_columns=schema.ignored_columns,
        history=_history(sweep),
        warnings=sweep.warnings,
    )


def _states(runs: pd.DataFrame) -> list[StateCount]:
    out = []
    raw = runs["state_raw"].astype("string").fillna("(none)")
    for state, group in raw.groupby(runs["state"], observed=True):
        spellings = {str(k): int(v) for k, v in group.value_counts().items()}
        out.append(StateCount(state=str(state), runs=len(group), spellings=spellings))
    return out


def _param(runs: pd.DataFrame, spec: ParamSpec) -> ParamSummary:
    levels = None
    if spec.kind in ("categorical", "bool"):
        levels = [str(v) for v in runs[spec.name].value_counts().index[:8]]
    data: dict[str, Any] = spec.model_dump()
    return ParamSummary(**data, levels=levels)


def _metric(runs: pd.DataFrame, name: str, goal: str | None, in_history: bool) -> MetricSummary:
    values = runs[name].to_numpy(dtype="float64")
    finite = values[np.isfinite(values)]
    present = ~np.isnan(values)
    return MetricSummary(
        name=name,
        goal=goal,
        in_history=in_history,
        runs_with_value=int(present.sum()),
        missing_or_nan_runs=int((~present).sum()),
        inf_runs=int(np.isinf(values).sum()),
        low=float(finite.min()) if finite.size else None,
        high=float(finite.max()) if finite.size else None,
    )


def _history(sweep: Sweep) -> HistorySummary:
    h = sweep.history
    if h.empty:
        return HistorySummary(rows=0, runs=0, metrics=[], step_axis=None, first_step=None, last_step=None)
    return HistorySummary(
        rows=len(h),
        runs=int(h["run_id"].nunique()),
        metrics=sorted(str(m) for m in h["metric"].unique()),
        step_axis=sweep.schema.step_axis,
        first_step=float(h["step"].min()),
        last_step=float(h["step"].max()),
    )
