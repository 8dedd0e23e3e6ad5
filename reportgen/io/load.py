"""`load_sweep`: pick the loader (sniffed or `--input-format`), read, attach a separate history and the
declared sweep config, and assemble the Sweep. The only entry point later stages need."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from reportgen.errors import InputError, UsageError
from reportgen.io.assemble import assemble
from reportgen.io.hashing import sha256_path
from reportgen.io.history import read_history_file
from reportgen.io.history_source import HistorySource, ReducedHistory, history_source
from reportgen.io.infer import ID_CANDIDATES
from reportgen.io.options import LoadOptions
from reportgen.io.raw import RawSweep
from reportgen.io.registry import LoaderSpec
from reportgen.io.sweep_config import read_sweep_config
from reportgen.io.tables import table_kind
from reportgen.sweep import SourceInfo, Sweep


def loaders() -> list[LoaderSpec]:
    """Every registered loader, most specific first (see `reportgen.io.formats`)."""
    from reportgen.io.formats import LOADERS

    return LOADERS


def pick_loader(path: Path, input_format: str | None) -> LoaderSpec:
    """The loader named by `input_format`, else the first whose sniff accepts the path."""
    table = loaders()
    if input_format is not None:
        for spec in table:
            if spec.name == input_format:
                return spec
        names = ", ".join(s.name for s in table)
        raise UsageError(f"unknown --input-format {input_format!r}; choose one of {names}")
    if not path.exists():
        raise InputError("no such file or folder", path=path)
    for spec in table:
        if spec.sniff(path):
            return spec
    if path.is_dir():
        raise InputError(
            "folder holds no export reportgen recognises (W&B run folders, a Ray Tune experiment, an "
            "mlruns store); pass a runs table file, or --input-format",
            path=path,
        )
    raise InputError(
        "not a sweep export reportgen can read (expected CSV, JSON, JSONL, Parquet or an "
        "Optuna SQLite storage)",
        path=path,
    )


def storage_url_path(export: str | Path) -> Path | None:
    """The file behind an Optuna-style `sqlite:///path` storage URL, None for a plain path.

    Server URLs (postgresql://, mysql://) are refused: reportgen reads a storage from a private copy so
    that the user's storage is never written, which a database server does not allow.
    """
    text = str(export)
    if "://" not in text:
        return None
    scheme, _, rest = text.partition("://")
    if scheme != "sqlite":
        raise UsageError(
            f"storage URL {text!r}: only sqlite:/// URLs are read; export the study to SQLite first "
            "(optuna.copy_study(..., to_storage='sqlite:///study.db')) or pass a trials_dataframe() CSV"
        )
    return Path(rest[1:] if rest.startswith("/") else rest)


def load_sweep(export: str | Path, options: LoadOptions | None = None) -> Sweep:
    """Read an export (a path, or a `sqlite:///` storage URL) into a Sweep.

    Raises InputError (one line, naming the file) on bad input.
    """
    options = options or LoadOptions()
    url_path = storage_url_path(export)
    if url_path is not None and options.input_format is None:
        options = options.model_copy(update={"input_format": "optuna"})
    path = url_path or Path(export)
    spec = pick_loader(path, options.input_format)
    raw = spec.read(path, options)
    warnings = list(raw.warnings)
    history = None
    reduced = None
    if options.history_engine != "memory":
        source_files = _history_source(options.history, raw, options)
        reduced = _reduce_history(source_files, options)
        history = reduced.history
        raw = replace(raw, step_axis=source_files.step)
        warnings.append(reduced.note())
    elif options.history is not None:
        history, axis = _read_history(options.history, raw, options, warnings)
        raw = replace(raw, step_axis=axis)
    if options.sweep_config is not None:
        raw = _with_sweep_config(raw, options.sweep_config)
    source = SourceInfo(
        path=str(path),
        format=raw.format,
        sha256=sha256_path(path),
        history_path=None if options.history is None else str(options.history),
        history_sha256=None if options.history is None else sha256_path(options.history),
        sweep_config_path=None if options.sweep_config is None else str(options.sweep_config),
    )
    return assemble(replace(raw, warnings=warnings), options, source, history, reduced)


def _read_history(
    path: Path, raw: RawSweep, options: LoadOptions, warnings: list[str]
) -> tuple[pd.DataFrame, str | None]:
    if not path.exists():
        raise InputError("no such history file or folder", path=path)
    if path.is_dir():
        from reportgen.io.history_folder import read_history_folder

        id_col = raw.id_column or _first_present(raw.runs, ("run_id", "id", "trial_id", "number"))
        name_col = raw.name_column or _first_present(raw.runs, ("name", "Name", "run_name"))
        key_col = id_col or name_col
        if key_col is None:
            raise InputError(
                "a history folder needs run ids or names in the runs table to match files to runs", path=path
            )
        keys = raw.runs[key_col].astype(str).tolist()
        names = raw.runs[name_col].astype(str).tolist() if name_col and name_col != key_col else None
        history, axis, folder_warnings = read_history_folder(path, keys, names, options.step)
        warnings.extend(folder_warnings)
        return history, axis
    preferred = list(options.run_key) if options.run_key else None
    candidates = ((raw.id_column,) if raw.id_column else ()) + ID_CANDIDATES
    history, axis = read_history_file(path, preferred, candidates, options.step, warnings)
    return history, axis


def _history_source(path: Path | None, raw: RawSweep, options: LoadOptions) -> HistorySource:
    """The long Parquet history an out-of-core engine reads; UsageError for any other history."""
    engine = options.history_engine
    if path is None:
        raise UsageError(f"--history-engine {engine} reduces a --history; none was given")
    if not path.exists():
        raise InputError("no such history file or folder", path=path)
    parquet = any(path.rglob("*.parquet")) if path.is_dir() else table_kind(path) == "parquet"
    if not parquet:
        raise UsageError(
            f"--history-engine {engine} reads a long Parquet history (a file, or a folder of *.parquet "
            f"files); {path} is not one: use --history-engine memory"
        )
    candidates = ((raw.id_column,) if raw.id_column else ()) + ID_CANDIDATES
    return history_source(path, options.run_key, candidates, options.step)


def _reduce_history(source: HistorySource, options: LoadOptions) -> ReducedHistory:
    """The history reduced out of core by the engine `options` name (see `history_reduce`)."""
    if options.history_engine == "duckdb":
        from reportgen.io.history_duckdb import reduce_duckdb

        return reduce_duckdb(source, options.max_points, memory_limit=options.duckdb_memory_limit)
    from reportgen.io.history_reduce import reduce_chunked

    return reduce_chunked(source, options.max_points)


def _first_present(df: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    return next((c for c in names if c in df.columns), None)


def _with_sweep_config(raw: RawSweep, path: Path) -> RawSweep:
    config = read_sweep_config(path)
    declared = {d.name: d for d in raw.declared_params}
    declared.update({d.name: d for d in config.params})
    return replace(
        raw,
        declared_params=list(declared.values()),
        objective=config.objective or raw.objective,
        early_termination=config.early_termination or raw.early_termination,
    )
