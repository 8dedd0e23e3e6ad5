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
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from reportgen.errors import InputError
from reportgen.io.options import LoadOptions
from reportgen.io.raw import DeclaredParam, Direction, RawSweep
from reportgen.io.registry import LoaderSpec

if TYPE_CHECKING:
    import optuna

SQLITE_MAGIC = b"SQLite format 3\x00"
OPTUNA_TABLES = {"studies", "trials", "trial_params"}
# Optuna cannot say which pruner ran (it is not stored); PRUNED trials only prove that one did.
PRUNER_UNKNOWN = "pruner"
HISTORY_COLUMNS = ["run_key", "step", "metric", "value"]


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


def _unclash(names: list[str], taken: set[str], prefix: str) -> dict[str, str]:
    """Map each name to itself, or to `prefix + name` where it would collide with a taken column."""
    return {name: name if name not in taken else prefix + name for name in names}


def _pruned(states: pd.Series) -> str | None:
    return PRUNER_UNKNOWN if states.astype(str).eq("PRUNED").any() else None


def _options_objective(options: LoadOptions) -> tuple[str, Direction] | None:
    if options.objective is None:
        return None
    metric, direction = options.objective
    if direction not in ("min", "max"):
        raise InputError(f"objective direction {direction!r} is not one of: min, max")
    return (metric, "min") if direction == "min" else (metric, "max")


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
    return history[HISTORY_COLUMNS].reset_index(drop=True)


def _storage_sweep(study: optuna.Study, path: Path, warn: list[str]) -> RawSweep:
    trials = study.get_trials(deepcopy=False)
    directions: list[Direction] = ["min" if d.name == "MINIMIZE" else "max" for d in study.directions]
    names = getattr(study, "metric_names", None)  # optuna >= 3.2
    if names is None:
        names = ["value"] if len(directions) == 1 else [f"values_{i}" for i in range(len(directions))]
    param_names = list(dict.fromkeys(name for trial in trials for name in trial.params))
    fixed = ["number", "state", *names, "datetime_start", "datetime_complete", "duration"]
    params = _unclash(param_names, set(fixed), "params_")
    attr_names = list(dict.fromkeys(name for trial in trials for name in trial.user_attrs))
    attrs = _unclash(attr_names, set(fixed) | set(params.values()), "user_attrs_")
    rows = []
    for trial in trials:
        row: dict[str, Any] = {"number": trial.number, "state": trial.state.name}
        row.update({params[k]: v for k, v in trial.params.items()})
        values = trial.values or [math.nan] * len(names)
        row.update(zip(names, values, strict=True))
        duration = trial.duration
        row.update(
            datetime_start=trial.datetime_start,
            datetime_complete=trial.datetime_complete,
            duration=math.nan if duration is None else duration.total_seconds(),
        )
        row.update({attrs[k]: v for k, v in trial.user_attrs.items()})
        rows.append(row)
    runs = pd.DataFrame(rows, columns=[*fixed[:2], *params.values(), *fixed[2:], *attrs.values()])
    if len(directions) > 1:
        warn.append(f"multi-objective study ({', '.join(names)}); the objective is the first of them")
    return RawSweep(
        runs=runs,
        format="optuna",
        source=str(path),
        history=_trial_history(trials, names[0]),
        id_column="number",
        state_column="state",
        runtime_column="duration",
        created_column="datetime_start",
        param_columns=list(params.values()),
        metric_columns=list(names),
        ignore_columns=["datetime_complete"],
        objective=(names[0], directions[0]),
        step_axis="step",
        declared_params=_declared(trials, warn),
        early_termination=_pruned(runs["state"]),
        warnings=warn,
    )


def read_storage(path: Path, options: LoadOptions) -> RawSweep:
    """Read one study of an Optuna SQLite storage without writing to it."""
    try:
        import optuna
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
                sweep = _storage_sweep(study, path, warn)
        except (sqlite3.Error, SQLAlchemyError, RuntimeError, ValueError, KeyError) as exc:
            raise InputError(
                f"cannot read the Optuna storage ({type(exc).__name__}: {exc})", path=path
            ) from exc
        finally:
            if storage is not None:
                storage.engine.dispose()
    return sweep


# --- trials_dataframe CSV --------------------------------------------------------------------------


def _csv_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        return pd.read_csv(handle, nrows=0).columns.astype(str).tolist()


def _value_column(name: str) -> bool:
    return name == "value" or name.startswith(("value_", "values_"))


def sniff_csv(path: Path) -> bool:
    """A CSV header as `Study.trials_dataframe()` writes it: number, state, params_* or value(s)."""
    try:
        if not path.is_file() or path.suffix.lower() not in {".csv", ".txt", ""}:
            return False
        header = set(_csv_header(path))
    except (OSError, ValueError, UnicodeError, pd.errors.ParserError):
        return False
    return {"number", "state"} <= header and any(c.startswith("params_") or _value_column(c) for c in header)


def _objective_name(column: str) -> str:
    """`value_val_loss` -> `val_loss` (metric names set); `value`, `values_0` stay as they are."""
    for prefix in ("value_", "values_"):
        rest = column.removeprefix(prefix)
        if column.startswith(prefix) and not rest.isdigit():
            return rest
    return column


def read_csv(path: Path, options: LoadOptions) -> RawSweep:
    """Read a `trials_dataframe().to_csv()` export; the objective direction is not in the file."""
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError, UnicodeError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read as CSV ({exc})", path=path) from exc
    frame.columns = frame.columns.astype(str)
    missing = [c for c in ("number", "state") if c not in frame.columns]
    if missing:
        raise InputError(
            f"not an Optuna trials CSV: missing column(s) {', '.join(missing)}"
            " (expected trials_dataframe() columns: number, value, params_*, state)",
            path=path,
        )
    values = {c: _objective_name(c) for c in frame.columns if _value_column(c)}
    params = {c: c.removeprefix("params_") for c in frame.columns if c.startswith("params_")}
    attrs = {c: c.removeprefix("user_attrs_") for c in frame.columns if c.startswith("user_attrs_")}
    taken = set(frame.columns) - set(values) - set(params) - set(attrs)
    values = {c: n if n not in taken else c for c, n in values.items()}
    taken |= set(values.values())
    params = {c: n if n not in taken else c for c, n in params.items()}
    taken |= set(params.values())
    attrs = {c: n if n not in taken else c for c, n in attrs.items()}
    runs = frame.rename(columns={**values, **params, **attrs})
    warn: list[str] = []
    if "duration" in runs.columns:
        try:
            runs["duration"] = pd.to_timedelta(runs["duration"]).dt.total_seconds()
        except (ValueError, TypeError):
            warn.append("column 'duration' is not a time span (e.g. '0 days 00:00:01.5'); runtime left unset")
    for column in ("datetime_start", "datetime_complete"):
        if column in runs.columns:
            try:
                runs[column] = pd.to_datetime(runs[column], format="ISO8601")
            except (ValueError, TypeError):
                warn.append(f"column {column!r} holds values that are not timestamps; kept as text")
    system = [c for c in runs.columns if c.startswith("system_attrs_")]
    return RawSweep(
        runs=runs,
        format="optuna-csv",
        source=str(path),
        id_column="number",
        state_column="state",
        runtime_column="duration"
        if "duration" in runs.columns and runs["duration"].dtype.kind == "f"
        else None,
        created_column="datetime_start" if "datetime_start" in runs.columns else None,
        param_columns=list(params.values()),
        metric_columns=list(values.values()),
        ignore_columns=[c for c in ("datetime_complete", *system) if c in runs.columns],
        objective=_options_objective(options),
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
