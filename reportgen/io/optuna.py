"""Optuna loaders: a study storage (SQLite file, read through optuna) and a `trials_dataframe()` CSV.

Optuna is optional (`pip install 'reportgen[optuna]'`) and imported only inside `read_storage`, so
importing this module, sniffing and the CSV loader work without it. The user's storage is never
written: Optuna's `RDBStorage` creates missing tables and stamps version rows when it opens a file, and an
old schema must be upgraded before this Optuna can read it, so the storage is read from a private copy.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import tempfile
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from reportgen.errors import InputError
from reportgen.io.history import RAW_HISTORY_COLUMNS
from reportgen.io.mlflow import csv_header, unclash
from reportgen.io.options import LoadOptions
from reportgen.io.raw import DeclaredParam, Direction, RawSweep
from reportgen.io.registry import LoaderSpec
from reportgen.io.tables import read_csv_table

if TYPE_CHECKING:
    import optuna

SQLITE_MAGIC = b"SQLite format 3\x00"
OPTUNA_TABLES = {"studies", "trials", "trial_params"}
# Optuna cannot say which pruner ran (it is not stored); PRUNED trials only prove that one did.
PRUNER_UNKNOWN = "pruner"
DIRECTIONS: dict[str, Direction] = {"MINIMIZE": "min", "MAXIMIZE": "max"}  # NOT_SET has none


def _optuna_tables(path: Path) -> set[str]:
    """Table names of a SQLite file, opened read-only (raises sqlite3.Error/OSError)."""
    with path.open("rb") as handle:
        if handle.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            return set()
    conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    finally:
        conn.close()
    return {name for (name,) in rows}


def sniff_storage(path: Path) -> bool:
    """A SQLite file holding Optuna's tables."""
    try:
        return path.is_file() and _optuna_tables(path) >= OPTUNA_TABLES
    except (OSError, sqlite3.Error):
        return False


def _pruned(states: pd.Series) -> str | None:
    return PRUNER_UNKNOWN if states.astype(str).eq("PRUNED").any() else None


def _local_to_utc(times: pd.Series) -> pd.Series:
    """Optuna's trial times as UTC times.

    Optuna hands out trial times as naive local wall-clock times: optuna 5's RDBStorage stores naive UTC
    and converts it to this machine's local time when it builds a FrozenTrial; earlier versions stored
    `datetime.now()` of the machine that ran the study; trials_dataframe() writes FrozenTrial times as
    they are. The common step takes naive times as UTC, so they are converted here: a naive time is read
    as this machine's local time, with the offset local time had on that date (daylight saving
    included). For a CSV, or a storage an older optuna wrote, that is right only when the study ran in
    this machine's time zone, which nothing in the export records. Times with an offset are only
    converted.
    """
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        return times.dt.tz_convert("UTC")
    utc = [None if pd.isna(t) else _as_utc(pd.Timestamp(t).to_pydatetime()) for t in times]
    return pd.Series(pd.to_datetime(utc, utc=True), index=times.index, name=times.name)


def _as_utc(time: datetime) -> datetime | None:
    """`astimezone` applies the local zone's rules for that instant; a time the platform cannot place
    (year 1, or before 1970 on some systems) becomes unknown rather than an error."""
    try:
        return time.astimezone(timezone.utc)
    except (OverflowError, ValueError, OSError):
        return None


# --- storage ---------------------------------------------------------------------------------------


def _snapshot(path: Path, target: Path) -> None:
    """Copy a SQLite database through the backup API from a read-only connection (consistent, no writes)."""
    source = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()


def _quiet_upgrade(storage: optuna.storages.RDBStorage) -> None:
    """Upgrade without letting Optuna's alembic env.py call `logging.config.fileConfig`, which it does
    when the root logger has no handler: that would reconfigure the host's logging and print to stderr."""
    root = logging.getLogger()
    guard = logging.NullHandler()
    root.addHandler(guard)
    try:
        storage.upgrade()
    finally:
        root.removeHandler(guard)


def _open_storage(url: str, path: Path, warn: list[str]) -> optuna.storages.RDBStorage:
    """Open the private copy; upgrade its schema when an older Optuna wrote it."""
    import optuna

    storage = optuna.storages.RDBStorage(url, skip_compatibility_check=True)
    current, head = storage.get_current_version(), storage.get_head_version()
    if current != head:
        if current not in storage.get_all_versions():
            storage.engine.dispose()
            raise InputError(
                f"storage schema {current} is newer than optuna {optuna.__version__} knows;"
                " upgrade optuna (pip install -U optuna)",
                path=path,
            )
        _quiet_upgrade(storage)
        warn.append(
            f"storage schema {current} is older than optuna {optuna.__version__}'s {head};"
            " read through an upgraded temporary copy (the file itself is unchanged)"
        )
    return storage


def _pick_study(names: list[str], wanted: str | None, path: Path) -> str:
    listing = ", ".join(sorted(names))
    if not names:
        raise InputError("the Optuna storage holds no study", path=path)
    if wanted is None:
        if len(names) > 1:
            raise InputError(
                f"the storage holds several studies; choose one with --study: {listing}", path=path
            )
        return names[0]
    if wanted not in names:
        raise InputError(f"no study named {wanted!r}; studies in the storage: {listing}", path=path)
    return wanted


def _declared(trials: list[optuna.trial.FrozenTrial], warn: list[str]) -> list[DeclaredParam]:
    """One DeclaredParam per parameter; a search space that changed across trials keeps the last one."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    seen: dict[str, Any] = {}
    for trial in trials:
        for name, dist in trial.distributions.items():
            if name in seen and seen[name] != dist:
                warn.append(
                    f"parameter {name!r} was sampled from several distributions; declared from the last"
                )
            seen[name] = dist
    out = []
    for name, dist in seen.items():
        if isinstance(dist, CategoricalDistribution):
            out.append(DeclaredParam(name, "categorical", choices=tuple(dist.choices)))
        elif isinstance(dist, (FloatDistribution, IntDistribution)):
            kind = "float" if isinstance(dist, FloatDistribution) else "int"
            out.append(DeclaredParam(name, kind, low=dist.low, high=dist.high, log=dist.log, step=dist.step))
        else:
            out.append(DeclaredParam(name, type(dist).__name__))
    return out


def _trial_history(trials: list[optuna.trial.FrozenTrial], metric: str) -> pd.DataFrame | None:
    numbers, steps, values = [], [], []
    for trial in trials:
        reported = trial.intermediate_values
        numbers.append(np.full(len(reported), trial.number, dtype=np.int64))
        steps.append(np.fromiter(reported.keys(), dtype=np.int64, count=len(reported)))
        values.append(np.fromiter(reported.values(), dtype=np.float64, count=len(reported)))
    if not trials or not sum(len(n) for n in numbers):
        return None
    history = pd.DataFrame(
        {"number": np.concatenate(numbers), "step": np.concatenate(steps), "value": np.concatenate(values)}
    ).sort_values(["number", "step"], kind="stable")
    history["run_key"] = history["number"].astype(str)
    history["metric"] = metric
    return history[RAW_HISTORY_COLUMNS].reset_index(drop=True)


def _metric_names(stored: object, n_objectives: int, warn: list[str]) -> list[str]:
    """The study's metric names (optuna >= 3.2 `set_metric_names`), else `value` / `values_<i>`."""
    default = ["value"] if n_objectives == 1 else [f"values_{i}" for i in range(n_objectives)]
    if stored is None:
        return default
    names = stored if isinstance(stored, list) else []
    if (
        len(names) != n_objectives
        or not all(isinstance(n, str) for n in names)
        or len(set(names)) < len(names)
    ):
        warn.append(
            f"the study's metric names {stored!r} do not fit its {n_objectives} objective(s);"
            f" named {', '.join(default)}"
        )
        return default
    return names


def _storage_sweep(
    trials: list[optuna.trial.FrozenTrial],
    directions: list[str],
    stored_names: object,
    path: Path,
    warn: list[str],
) -> RawSweep:
    if not directions:
        raise InputError("the study has no objective direction (study_directions is empty)", path=path)
    names = _metric_names(stored_names, len(directions), warn)
    base = ["number", "state", "datetime_start", "datetime_complete", "duration"]
    taken = set(base)
    # a metric, param or user attr named like another column keeps trials_dataframe()'s prefix
    values = unclash({f"value_{n}": n for n in names}, taken)
    params = unclash({f"params_{n}": n for t in trials for n in t.params}, taken)
    attrs = unclash({f"user_attrs_{n}": n for t in trials for n in t.user_attrs}, taken)
    value_cols = list(values.values())
    rows = []
    for trial in trials:
        row: dict[str, Any] = {"number": trial.number, "state": trial.state.name}
        row.update({params[f"params_{k}"]: v for k, v in trial.params.items()})
        trial_values = trial.values or [math.nan] * len(names)
        if len(trial_values) != len(names):
            raise InputError(
                f"trial {trial.number} has {len(trial_values)} values for {len(names)} objective(s)",
                path=path,
            )
        row.update(zip(value_cols, trial_values, strict=True))
        duration = trial.duration
        row.update(
            datetime_start=trial.datetime_start,
            datetime_complete=trial.datetime_complete,
            duration=math.nan if duration is None else duration.total_seconds(),
        )
        row.update({attrs[f"user_attrs_{k}"]: v for k, v in trial.user_attrs.items()})
        rows.append(row)
    runs = pd.DataFrame(rows, columns=[*base[:2], *params.values(), *value_cols, *base[2:], *attrs.values()])
    for column in ("datetime_start", "datetime_complete"):
        runs[column] = _local_to_utc(runs[column])
    if len(directions) > 1:
        warn.append(f"multi-objective study ({', '.join(names)}); the objective is the first of them")
    direction = DIRECTIONS.get(directions[0])
    if direction is None:
        warn.append(f"the study's direction is {directions[0]}; no objective taken from the study")
    return RawSweep(
        runs=runs,
        format="optuna",
        source=str(path),
        history=_trial_history(trials, value_cols[0]),
        id_column="number",
        state_column="state",
        runtime_column="duration",
        created_column="datetime_start",
        param_columns=list(params.values()),
        metric_columns=value_cols,
        ignore_columns=["datetime_complete"],
        objective=None if direction is None else (value_cols[0], direction),
        step_axis="step",
        declared_params=_declared(trials, warn),
        early_termination=_pruned(runs["state"]),
        warnings=warn,
    )


def read_storage(path: Path, options: LoadOptions) -> RawSweep:
    """Read one study of an Optuna SQLite storage without writing to it."""
    try:
        import optuna
        from optuna.exceptions import OptunaError
        from sqlalchemy.exc import SQLAlchemyError
    except ImportError as exc:
        raise InputError(
            "reading an Optuna storage needs optuna: pip install 'reportgen[optuna]'", path=path
        ) from exc
    if not path.is_file():
        raise InputError("no such file (expected an Optuna SQLite storage)", path=path)
    try:
        tables = _optuna_tables(path)
    except (OSError, sqlite3.Error) as exc:
        raise InputError(f"cannot read as a SQLite database ({exc})", path=path) from exc
    if not tables:
        raise InputError("not a SQLite database (expected an Optuna storage)", path=path)
    if not tables >= OPTUNA_TABLES:
        raise InputError("a SQLite database without Optuna's tables (studies, trials)", path=path)
    # What optuna raises on a database it cannot make sense of: its own errors (a foreign schema that
    # happens to have its table names), LookupError (a state or direction outside its enums), and the
    # built-in errors of its row decoding (JSON, ISO times, list/tuple indexing on corrupt rows). Only the
    # storage reads below are guarded; the rows they return are converted outside the guard.
    unreadable = (
        sqlite3.Error,
        SQLAlchemyError,
        OptunaError,
        LookupError,  # includes KeyError and IndexError
        ValueError,
        TypeError,
        AssertionError,
        RuntimeError,
    )
    warn: list[str] = []
    with tempfile.TemporaryDirectory(prefix="reportgen-optuna-") as tmp:
        copy = Path(tmp) / "storage.sqlite3"
        storage = None
        try:
            _snapshot(path, copy)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # optuna's ExperimentalWarning on metric_names
                storage = _open_storage(f"sqlite:///{copy}", path, warn)
                name = _pick_study([s.study_name for s in storage.get_all_studies()], options.study, path)
                study = optuna.load_study(study_name=name, storage=storage)
                trials = study.get_trials(deepcopy=False)
                directions = [d.name for d in study.directions]
                metric_names = getattr(study, "metric_names", None)  # optuna >= 3.2
        except unreadable as exc:
            raise InputError(f"is not a readable Optuna storage ({_reason(exc)})", path=path) from exc
        finally:
            if storage is not None:
                storage.engine.dispose()
    try:
        return _storage_sweep(trials, directions, metric_names, path, warn)
    except (ValueError, TypeError) as exc:
        # rows optuna passes on unchecked: a null trial number, a text step (the cause stays chained)
        raise InputError(f"is not a readable Optuna storage ({_reason(exc)})", path=path) from exc


def _reason(exc: BaseException) -> str:
    """The exception's type and first line (SQLAlchemy appends the SQL and a help link)."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


# --- trials_dataframe CSV --------------------------------------------------------------------------


def _value_column(name: str) -> bool:
    return name == "value" or name.startswith(("value_", "values_"))


def sniff_csv(path: Path) -> bool:
    """A CSV header as `Study.trials_dataframe()` writes it: number, state, params_* or value(s)."""
    if not path.is_file() or path.suffix.lower() not in {".csv", ".txt", ""}:
        return False
    header = set(csv_header(path))
    return {"number", "state"} <= header and any(c.startswith("params_") or _value_column(c) for c in header)


def _objective_name(column: str) -> str:
    """`value_val_loss` -> `val_loss` (metric names set); `value`, `values_0` stay as they are."""
    for prefix in ("value_", "values_"):
        rest = column.removeprefix(prefix)
        if column.startswith(prefix) and not rest.isdigit():
            return rest
    return column


def read_csv(path: Path, options: LoadOptions) -> RawSweep:
    """Read a `trials_dataframe().to_csv()` export; the objective direction is not in the file.

    `duration` is left as written (a timedelta text such as `0 days 00:00:01.5`, or a number of seconds):
    the common step reads both as seconds. `datetime_start`/`datetime_complete` are converted from local
    time to UTC here (see `_local_to_utc`), which the common step cannot know to do.
    """
    warn: list[str] = []
    frame = read_csv_table(path, warn)
    missing = [c for c in ("number", "state") if c not in frame.columns]
    if missing:
        raise InputError(
            f"not an Optuna trials CSV: missing column(s) {', '.join(missing)}"
            " (expected trials_dataframe() columns: number, value, params_*, state)",
            path=path,
        )
    taken = set(frame.columns)
    values = unclash({c: _objective_name(c) for c in frame.columns if _value_column(c)}, taken)
    params = unclash({c: c.removeprefix("params_") for c in frame.columns if c.startswith("params_")}, taken)
    attrs = unclash(
        {c: c.removeprefix("user_attrs_") for c in frame.columns if c.startswith("user_attrs_")}, taken
    )
    runs = frame.rename(columns={**values, **params, **attrs})
    for column in ("datetime_start", "datetime_complete"):
        if column in runs.columns:
            try:
                runs[column] = _local_to_utc(pd.to_datetime(runs[column], format="ISO8601"))
            except (ValueError, TypeError):  # OutOfBoundsDatetime is a ValueError
                warn.append(f"column {column!r} holds values that are not timestamps; kept as text")
    system = [c for c in runs.columns if c.startswith("system_attrs_")]
    return RawSweep(
        runs=runs,
        format="optuna-csv",
        source=str(path),
        id_column="number",
        state_column="state",
        runtime_column="duration" if "duration" in runs.columns else None,
        created_column="datetime_start" if "datetime_start" in runs.columns else None,
        param_columns=list(params.values()),
        metric_columns=list(values.values()),
        ignore_columns=[c for c in ("datetime_complete", *system) if c in runs.columns],
        declared_params=[],
        early_termination=_pruned(runs["state"]),
        warnings=warn,
    )


OPTUNA_STORAGE = LoaderSpec(
    name="optuna",
    summary="Optuna study storage (SQLite file): trials, params, values, intermediate values as history",
    sniff=sniff_storage,
    read=read_storage,
    extra="optuna",
)

OPTUNA_CSV = LoaderSpec(
    name="optuna-csv",
    summary="Optuna Study.trials_dataframe() saved as CSV (number, value, params_*, state)",
    sniff=sniff_csv,
    read=read_csv,
)
