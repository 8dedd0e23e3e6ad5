"""From a loader's RawSweep to a Sweep: ids, states, roles, types, history and the schema.

This is the one place where what is common to every format happens, so a W&B export and an Optuna study
come out with the same columns, the same canonical states and the same inference rules.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from reportgen.errors import InputError
from reportgen.io import infer
from reportgen.io.exact_curves import exact_stats, exact_steps, key_targets
from reportgen.io.history_source import ReducedHistory
from reportgen.io.options import LoadOptions
from reportgen.io.raw import DeclaredParam, RawSweep
from reportgen.io.roles import require_columns, role_source, split_columns, varying_history_metrics
from reportgen.io.run_history import DEDUP_ATTR, keyed_history
from reportgen.io.run_ids import id_strings, run_ids
from reportgen.io.values import coerce_frame
from reportgen.io.wide_table import is_wide_history, runs_from_wide
from reportgen.states import STATES, canonical_states
from reportgen.sweep import (
    RUN_COLUMNS,
    Direction,
    Distribution,
    MetricPair,
    MetricSpec,
    Source,
    SourceInfo,
    Sweep,
    SweepSchema,
    empty_history,
)
from reportgen.sweep_history import category_codes, curve_segments

STATE_CANDIDATES = ("state", "State", "status", "Status")
RUNTIME_CANDIDATES = (
    "runtime_s",
    "Runtime",
    "runtime",
    "_runtime",
    "duration",
    "time_total_s",
    "training_time_sec",
    "traintime",
)
CREATED_CANDIDATES = ("created", "Created", "created_at", "datetime_start", "start_time", "date")
NAME_CANDIDATES = ("name", "Name", "run_name", "display_name", "tags.mlflow.runName")


def assemble(
    raw: RawSweep,
    options: LoadOptions,
    source: SourceInfo,
    history: pd.DataFrame | None = None,
    reduced: ReducedHistory | None = None,
) -> Sweep:
    """Build the Sweep from what a loader read, the user's options and an optional separate history.

    `reduced`, when the history was reduced out of core, is where `history` (its kept rows) came from:
    its exact per-run step counts, repeats and varying metrics replace what the kept rows would say, and
    its exact curve statistics go into `Sweep.exact_curve_stats` for the detectors."""
    warnings = list(raw.warnings)
    id_like = frozenset(c for c in (*infer.ID_CANDIDATES, raw.id_column, raw.name_column) if c)
    df = coerce_frame(raw.runs.reset_index(drop=True), source.path, warnings, keep_text=id_like)
    if df.empty and len(df.columns) == 0:
        raise InputError("no columns; expected a header row and one row per run", path=source.path)
    long_history = raw.history if history is None else history
    key_cols = list(options.run_key) if options.run_key else None
    if key_cols:
        require_columns(df, key_cols, source.path, "--run-key")
    # A table whose run key repeats with a step column is a history in wide form (learning-curve tables)
    step_col = infer.pick_step_axis(df.columns, options.step)
    id_col = None if key_cols else infer.pick_id_column(df, raw.id_column, raw.name_column)
    keys_for_rows = key_cols or ([id_col] if id_col else None)
    if (
        long_history is None
        and step_col is not None
        and keys_for_rows
        and is_wide_history(df, keys_for_rows, step_col, explicit=bool(key_cols or options.step))
    ):
        df, long_history = runs_from_wide(df, keys_for_rows, step_col)
        raw_step_axis: str | None = step_col
    else:
        raw_step_axis = raw.step_axis
        if options.step and long_history is None and step_col is None:
            raise InputError(f"--step {options.step!r} is not a column of the table", path=source.path)

    run_id, id_source = run_ids(df, key_cols, id_col, raw.name_column, warnings)
    name_col = raw.name_column or next((c for c in NAME_CANDIDATES if c in df.columns and c != id_col), None)
    if name_col is not None:
        names = df[name_col].astype("string").fillna(run_id)
    elif id_col is not None:  # the export's own ids, before any disambiguation
        names = id_strings(df[id_col]).fillna(run_id)
    else:
        names = run_id

    state_col = raw.state_column or next((c for c in STATE_CANDIDATES if c in df.columns), None)
    if state_col is not None:
        state_raw = df[state_col].astype("string")
        states, state_warnings = canonical_states(state_raw)
        warnings.extend(state_warnings)
    else:
        state_raw = pd.Series(pd.NA, index=df.index, dtype="string")
        states = pd.Series("unknown", index=df.index).astype(pd.CategoricalDtype(list(STATES)))
        warnings.append("no state column; every run's state is 'unknown'")

    runtime_col = raw.runtime_column or next((c for c in RUNTIME_CANDIDATES if c in df.columns), None)
    created_col = raw.created_column or next((c for c in CREATED_CANDIDATES if c in df.columns), None)

    # W&B's `_step` counts log() calls: it is the run's step count, not a metric
    step_count_col = "_step" if "_step" in df.columns else None
    used = {c for c in (id_col, name_col, state_col, runtime_col, created_col, step_count_col) if c}
    used.update(key_cols or [])
    hist_metrics = set(reduced.varying) if reduced is not None else varying_history_metrics(long_history)
    params, metrics, ignored = split_columns(df, raw, options, used, hist_metrics, source.path, warnings)
    # the columns of a composite run key (openmlid, learner, seed) are what the runs differ by
    params = [c for c in (key_cols or []) if c not in params] + params

    declared = {d.name: _distribution(d) for d in raw.declared_params}
    param_specs = [
        infer.param_spec(df[p], p, role_source(p, options.params, raw.param_columns), declared.get(p))
        for p in params
    ]
    lookup = _lookup(df, run_id, id_col, name_col)
    ids = run_id.astype(str).to_numpy()
    target = None
    if reduced is not None and long_history is not None:
        long_history.attrs[DEDUP_ATTR] = {
            "repeats": reduced.repeats.to_numpy(),
            "varying": sorted(reduced.varying),
        }
        target = key_targets(reduced.keys, lookup, ids)
        if target is None:
            warnings.append(
                "several history run keys map to one run: curve statistics come from the kept rows, "
                "not from the full history"
            )
    history_long, steps, last_step = _history(long_history, lookup, ids, warnings)
    if target is not None and reduced is not None and steps is not None:
        steps = exact_steps(reduced, target, len(ids))
    if steps is None:
        steps, last_step = _steps_from_columns(df, warnings)

    runs = pd.DataFrame(
        {
            "run_id": run_id.astype(str).to_numpy(),
            "name": names.astype(str).to_numpy(),
            "state": states.to_numpy(),
            "state_raw": state_raw.to_numpy(),
            "steps": steps,
            "last_step": last_step,
            "runtime_s": _runtime(df, runtime_col),
            "created": _created(df, created_col),
        }
    )
    runs["state"] = runs["state"].astype(pd.CategoricalDtype(list(STATES)))
    payload = _renamed(df, params + metrics, warnings)
    # a param renamed for a clash (a repeated `run_id` column left as a param) keeps its spec under the new
    # name, or every detector looking the spec's name up in `runs` fails
    param_specs = [
        s.model_copy(update={"name": str(col)}) if s.name != col else s
        for s, col in zip(param_specs, payload.columns[: len(params)], strict=True)
    ]
    runs = pd.concat([runs, payload], axis=1)
    metric_names = list(payload.columns[len(params) :])
    runs, history_long, metric_specs = _metric_specs(runs, metric_names, history_long, warnings)

    objective = infer.infer_objective(
        [m.name for m in metric_specs], *_stated_objective(options, raw, metric_specs, source.path)
    )
    pairs = infer.infer_pairs([m.name for m in metric_specs])
    if objective is not None and objective.source != "inferred":
        metric_specs = _goal_from_objective(metric_specs, pairs, objective.metric, objective.direction)
    num_classes, nc_source = infer.infer_num_classes(runs, [p.name for p in param_specs])
    schema = SweepSchema(
        format=raw.format,
        id_source=id_source,
        params=param_specs,
        metrics=metric_specs,
        objective=objective,
        pairs=pairs,
        num_classes=num_classes,
        num_classes_source=nc_source,
        step_axis=raw_step_axis if not history_long.empty else None,
        early_termination=raw.early_termination,
        ignored_columns=ignored,
    )
    if runs.empty:
        warnings.append("the export holds no runs")
    exact = None if target is None or reduced is None else exact_stats(reduced, target, history_long)
    return Sweep(
        runs=runs,
        history=history_long,
        schema=schema,
        source=source,
        warnings=warnings,
        exact_curve_stats=exact,
    )


def _distribution(d: DeclaredParam) -> Distribution:
    return Distribution(
        kind=d.distribution,
        low=d.low,
        high=d.high,
        log=d.log,
        step=d.step,
        choices=list(d.choices) if d.choices is not None else None,
    )


def _renamed(df: pd.DataFrame, cols: Sequence[str], warnings: list[str]) -> pd.DataFrame:
    """Param/metric columns, renamed when they collide with a reserved runs column."""
    payload = df[list(cols)].reset_index(drop=True).copy()
    clashes = {c: f"{c}_" for c in cols if c in RUN_COLUMNS}
    for old, new in clashes.items():
        warnings.append(f"column {old!r} clashes with reportgen's own {old!r}; renamed {new!r}")
    return payload.rename(columns=clashes)


def _lookup(df: pd.DataFrame, run_id: pd.Series, id_col: str | None, name_col: str | None) -> dict[str, str]:
    """The keys a history may name runs by (the export's own id, a unique name, the run_id) -> run_id."""
    ids = run_id.astype(str).to_numpy()
    lookup: dict[str, str] = {}
    if name_col is not None:
        names = df[name_col].astype("string")
        unique_names = ~names.duplicated(keep=False)
        lookup.update(zip(names[unique_names].astype(str), ids[unique_names.to_numpy()], strict=True))
    if id_col is not None:
        lookup.update(zip(id_strings(df[id_col]).astype(str), ids, strict=True))
    lookup.update(zip(ids, ids, strict=True))
    return lookup


def _history(
    history: pd.DataFrame | None, lookup: dict[str, str], ids: np.ndarray, warnings: list[str]
) -> tuple[pd.DataFrame, np.ndarray | None, np.ndarray | None]:
    """The long history keyed by run_id, and per-run (distinct steps, last step)."""
    if history is None or history.empty:
        return empty_history(), None, None
    return keyed_history(history, lookup, ids, warnings)


def _steps_from_columns(df: pd.DataFrame, warnings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Without history, the last step from a progress column such as `_step`, `epoch` or `epochs_done`."""
    col = next(
        (c for c in df.columns if infer.is_progress(str(c)) and pd.api.types.is_numeric_dtype(df[c].dtype)),
        None,
    )
    if col is None:
        nan = np.full(len(df), np.nan)
        return nan, nan.copy()
    last = df[col].to_numpy(dtype="float64")
    return np.full(len(df), np.nan), last


def _runtime(df: pd.DataFrame, col: str | None) -> np.ndarray:
    if col is None:
        return np.full(len(df), np.nan)
    series = df[col]
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype="float64")
    # numbers are seconds even in a text column; only the rest is parsed as a duration ("0 days 00:01:02")
    seconds = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64")
    delta = pd.to_timedelta(series.astype("string"), errors="coerce").dt.total_seconds()
    return np.where(np.isnan(seconds), delta.to_numpy(dtype="float64"), seconds)


def _created(df: pd.DataFrame, col: str | None) -> pd.Series:
    if col is None:
        return pd.Series(pd.NaT, index=range(len(df)), dtype="datetime64[ns, UTC]")
    series = df[col]
    if pd.api.types.is_numeric_dtype(series.dtype):
        return pd.to_datetime(series, unit="s", utc=True, errors="coerce").reset_index(drop=True)
    return pd.to_datetime(series.astype("string"), utc=True, errors="coerce", format="mixed").reset_index(
        drop=True
    )


def _metric_specs(
    runs: pd.DataFrame, metric_names: list[str], history: pd.DataFrame, warnings: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame, list[MetricSpec]]:
    """(runs, history, metric specs); history-only metrics get a summary column holding their last logged
    value, and history metrics named like a reserved runs column are renamed as `_renamed` does."""
    if not history.empty:
        clashes = {m: f"{m}_" for m in history["metric"].cat.categories if m in RUN_COLUMNS}
        for old, new in clashes.items():
            warnings.append(f"history metric {old!r} clashes with reportgen's own {old!r}; renamed {new!r}")
        if clashes:
            history = history.assign(metric=history["metric"].cat.rename_categories(clashes))
    curves = curve_segments(history)
    curve_metric = category_codes(history["metric"])[curves.starts]
    categories = history["metric"].cat.categories
    hist_names = [str(categories[m]) for m in pd.unique(curve_metric)]  # in order of appearance
    # a name already in the runs table (a param such as `seed` echoed into the log) keeps its column
    extra = [m for m in hist_names if m not in metric_names and m not in runs.columns]
    if extra:
        # the last *logged* value, NaN included (groupby.last() would skip a diverged run's NaN): the
        # last row of each curve, as the history is sorted by run, metric, step
        ends = history.iloc[curves.lasts]
        rows = ends[ends["metric"].isin(extra).to_numpy()]
        last = rows.pivot(index="run_id", columns="metric", values="value")
        last = last.reindex(index=runs["run_id"], columns=extra)
        runs = pd.concat([runs, pd.DataFrame(last.to_numpy(dtype="float64"), columns=extra)], axis=1)
    hist_set = set(hist_names)
    specs = [
        MetricSpec(name=m, goal=infer.metric_goal(m), in_runs=m in metric_names, in_history=m in hist_set)
        for m in metric_names + extra
    ]
    return runs, history, specs


def _goal_from_objective(
    specs: list[MetricSpec], pairs: list[MetricPair], metric: str, direction: Direction
) -> list[MetricSpec]:
    """A stated objective direction is the goal of that metric and of its train/val partner: names can
    mislead (LCDB's log-loss table calls its losses `score_*`)."""
    partners = {metric}
    for pair in pairs:
        if metric in (pair.train, pair.val):
            partners.update((pair.train, pair.val))
    return [s.model_copy(update={"goal": direction}) if s.name in partners else s for s in specs]


def _stated_objective(
    options: LoadOptions, raw: RawSweep, metrics: list[MetricSpec], path: str
) -> tuple[tuple[str, Direction] | None, Source]:
    names = [m.name for m in metrics]
    if options.objective is not None:
        metric, direction = options.objective
        if metric not in names:
            raise InputError(
                f"--objective names {metric!r}, which is not a metric; metrics are "
                f"{', '.join(names[:12]) or '(none)'}",
                path=path,
            )
        if direction not in ("min", "max"):
            raise InputError(f"--objective direction must be min or max, not {direction!r}")
        return (metric, direction), "flag"  # type: ignore[return-value]
    if raw.objective is not None and raw.objective[0] in names:
        return raw.objective, "format"
    return None, "inferred"
