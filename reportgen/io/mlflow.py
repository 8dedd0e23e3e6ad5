"""MLflow loaders: a `mlflow.search_runs()` DataFrame saved as CSV, and a local `mlruns` file store.

Neither imports mlflow: the CSV is a plain table and the file store is plain files plus YAML, so both
work without MLflow installed. Params are strings in MLflow; a param column becomes numeric only when every
non-empty value parses, so `adam`/`sgd` stay text while `0.01` becomes a number.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from reportgen.errors import InputError
from reportgen.io.options import LoadOptions
from reportgen.io.raw import Direction, RawSweep
from reportgen.io.registry import LoaderSpec

# mlflow/entities/run_status.py (mlflow 3.17): the file store's meta.yaml keeps the int enum.
STATUS_NAMES = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
RUN_NAME_TAG = "mlflow.runName"
TRASH = ".trash"
HISTORY_COLUMNS = ["run_key", "step", "metric", "value"]


def _numeric_params(runs: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Turn param columns numeric where every non-empty value parses as a number (NaN where empty)."""
    for column in columns:
        text = runs[column].astype("str").str.strip()
        present = runs[column].notna() & text.ne("")
        # via object arrays so the result is plain int64/float64 with NaN, not nullable Int64/Float64 with NA
        parsed = pd.to_numeric(pd.Series(text.where(present, None).to_numpy(dtype=object)), errors="coerce")
        if present.any() and parsed[present.to_numpy()].notna().all():
            runs[column] = parsed.to_numpy()
    return runs


def _plain_names(columns: list[str], prefix: str, taken: set[str]) -> dict[str, str]:
    """`params.lr` -> `lr` unless `lr` is taken by another column (then the prefixed name is kept)."""
    return {c: c.removeprefix(prefix) if c.removeprefix(prefix) not in taken else c for c in columns}


# --- search_runs CSV -------------------------------------------------------------------------------


def sniff_csv(path: Path) -> bool:
    """A CSV whose header has run_id, status and metrics./params. columns."""
    try:
        if not path.is_file() or path.suffix.lower() not in {".csv", ".txt", ""}:
            return False
        header = pd.read_csv(path, nrows=0).columns.astype(str)
    except (OSError, ValueError, UnicodeError, pd.errors.ParserError):
        return False
    return {"run_id", "status"} <= set(header) and any(c.startswith(("metrics.", "params.")) for c in header)


def read_csv(path: Path, options: LoadOptions) -> RawSweep:
    """Read a `search_runs()` export: params (text in MLflow) made numeric where they all parse."""
    try:
        header = pd.read_csv(path, nrows=0).columns.astype(str).tolist()
        missing = [c for c in ("run_id", "status") if c not in header]
        if missing:
            raise InputError(
                f"not an MLflow search_runs CSV: missing column(s) {', '.join(missing)}"
                " (expected run_id, status, start_time, metrics.*, params.*)",
                path=path,
            )
        param_cols = [c for c in header if c.startswith("params.")]
        text_cols = [*param_cols, *(c for c in ("run_id", "experiment_id") if c in header)]
        frame = pd.read_csv(path, dtype=dict.fromkeys(text_cols, "str"))
    except (OSError, ValueError, UnicodeError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read as CSV ({exc})", path=path) from exc
    metric_cols = [c for c in header if c.startswith("metrics.")]
    tags = [c for c in header if c.startswith("tags.")]
    runs = frame.drop(columns=tags)
    if f"tags.{RUN_NAME_TAG}" in frame.columns:
        runs.insert(1, "run_name", frame[f"tags.{RUN_NAME_TAG}"])
    warn: list[str] = []
    for column in ("start_time", "end_time"):
        if column in runs.columns:
            try:
                runs[column] = pd.to_datetime(runs[column], utc=True, format="ISO8601")
            except (ValueError, TypeError):
                warn.append(f"column {column!r} holds values that are not timestamps; kept as text")
    if {"start_time", "end_time"} <= set(runs.columns) and runs["start_time"].dtype.kind == "M":
        runs["runtime_s"] = (runs["end_time"] - runs["start_time"]).dt.total_seconds()
    if "experiment_id" in runs.columns and runs["experiment_id"].nunique() > 1:
        warn.append(f"runs from {runs['experiment_id'].nunique()} experiments (see column experiment_id)")
    fixed = set(runs.columns) - set(param_cols) - set(metric_cols)
    params = _plain_names(param_cols, "params.", fixed)
    metrics = _plain_names(metric_cols, "metrics.", fixed | set(params.values()))
    runs = _numeric_params(runs.rename(columns={**params, **metrics}), list(params.values()))
    return RawSweep(
        runs=runs,
        format="mlflow-csv",
        source=str(path),
        id_column="run_id",
        name_column="run_name" if "run_name" in runs.columns else None,
        state_column="status",
        runtime_column="runtime_s" if "runtime_s" in runs.columns else None,
        created_column="start_time" if "start_time" in runs.columns else None,
        param_columns=list(params.values()),
        metric_columns=list(metrics.values()),
        ignore_columns=[c for c in ("experiment_id", "artifact_uri", "end_time") if c in runs.columns],
        objective=_objective(options),
        warnings=warn,
    )


def _objective(options: LoadOptions) -> tuple[str, Direction] | None:
    # MLflow records no objective; only an explicit option sets it (the core infers otherwise).
    if options.objective is None:
        return None
    metric, direction = options.objective
    if direction not in ("min", "max"):
        raise InputError(f"objective direction {direction!r} is not one of: min, max")
    return (metric, "min") if direction == "min" else (metric, "max")


# --- mlruns file store -----------------------------------------------------------------------------


def _store_root(path: Path) -> Path:
    return path / "mlruns" if (path / "mlruns").is_dir() else path


def _looks_like_experiment(folder: Path) -> bool:
    meta = folder / "meta.yaml"
    if folder.name == TRASH or not meta.is_file():
        return False
    head = meta.read_text(encoding="utf-8", errors="replace")[:4096]
    return "experiment_id:" in head and "run_id:" not in head


def sniff_store(path: Path) -> bool:
    """A folder (or a folder's `mlruns` child) holding `<experiment_id>/meta.yaml` experiment files."""
    try:
        root = _store_root(path)
        return root.is_dir() and any(
            _looks_like_experiment(child) for child in root.iterdir() if child.is_dir()
        )
    except OSError:
        return False


def _yaml(path: Path) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, UnicodeError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read MLflow meta file ({exc})", path=path) from exc
    if not isinstance(data, dict):
        raise InputError("MLflow meta file is not a YAML mapping", path=path)
    return data


def _files(folder: Path) -> dict[str, Path]:
    """Key -> file under a params/, metrics/ or tags/ folder; keys with '/' are nested folders."""
    if not folder.is_dir():
        return {}
    return {f.relative_to(folder).as_posix(): f for f in sorted(folder.rglob("*")) if f.is_file()}


def _ms_to_time(values: pd.Series) -> pd.Series:
    return pd.to_datetime(pd.to_numeric(values, errors="coerce"), unit="ms", utc=True)


def _parse_metrics(files: list[tuple[str, str, Path]], root: Path) -> pd.DataFrame:
    """All metric files in one parse: each line `timestamp value step [dataset digest]` gets its file's
    index prepended (a C-level str.replace), so no Python loop runs per line."""
    chunks = []
    for index, (_, _, file) in enumerate(files):
        try:
            text = file.read_text(encoding="utf-8").replace("\r", "").strip()
        except (OSError, UnicodeError) as exc:
            raise InputError(f"cannot read MLflow metric file ({exc})", path=file) from exc
        if text:
            chunks.append(f"{index} " + text.replace("\n", f"\n{index} "))
    names = ["file", "timestamp", "value", "step", "dataset", "digest"]
    if not chunks:
        return pd.DataFrame(columns=["run_key", "metric", "timestamp", "step", "value"])
    try:
        raw = pd.read_csv(
            io.StringIO("\n".join(chunks)),
            sep=" ",
            header=None,
            names=names,
            dtype=str,
            keep_default_na=False,
        )
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(
            f"malformed MLflow metric file(s): expected 'timestamp value step' lines ({exc})", path=root
        ) from exc
    file = raw["file"].astype(int)
    value = pd.to_numeric(raw["value"], errors="coerce")
    timestamp = pd.to_numeric(raw["timestamp"], errors="coerce")
    step = pd.to_numeric(raw["step"].replace("", "0"), errors="coerce")  # 2-field lines: step 0, as mlflow
    bad = timestamp.isna() | step.isna() | (value.isna() & raw["value"].str.lower().ne("nan"))
    if bad.any():
        first = int(bad.to_numpy().nonzero()[0][0])
        line = int(raw.groupby("file").cumcount().iloc[first]) + 1
        raise InputError(
            "expected lines of 'timestamp value step' numbers", path=files[file.iloc[first]][2], row=line
        )
    keys = pd.DataFrame([(run, metric) for run, metric, _ in files], columns=["run_key", "metric"])
    parsed = keys.iloc[file.to_numpy()].reset_index(drop=True)
    return parsed.assign(timestamp=timestamp.to_numpy(), step=step.to_numpy(), value=value.to_numpy())


def _run_row(run_dir: Path, meta: dict[str, Any], experiment: str) -> dict[str, Any]:
    tags = _files(run_dir / "tags")
    name = tags[RUN_NAME_TAG].read_text(encoding="utf-8") if RUN_NAME_TAG in tags else meta.get("run_name")
    status = meta.get("status")
    params = {k: f.read_text(encoding="utf-8") for k, f in _files(run_dir / "params").items()}
    return {
        "run_id": str(meta.get("run_id") or meta.get("run_uuid") or run_dir.name),
        "experiment": experiment,
        "run_name": name,
        "status": STATUS_NAMES.get(status, str(status)) if isinstance(status, int) else status,
        "start_time": meta.get("start_time"),
        "end_time": meta.get("end_time"),
        "params": params,
    }


def read_store(path: Path, options: LoadOptions) -> RawSweep:
    """Read every live run of a local `mlruns` folder; deleted experiments and runs are skipped."""
    root = _store_root(path)
    if not root.is_dir():
        raise InputError("expected an MLflow mlruns folder (<experiment_id>/meta.yaml)", path=path)
    warn: list[str] = []
    rows: list[dict[str, Any]] = []
    metric_files: list[tuple[str, str, Path]] = []
    deleted_runs = 0
    experiments = [d for d in sorted(root.iterdir()) if d.is_dir() and _looks_like_experiment(d)]
    if not experiments:
        raise InputError("no MLflow experiment folders (<experiment_id>/meta.yaml) found", path=path)
    trash = root / TRASH
    if trash.is_dir() and any(trash.iterdir()):
        warn.append(f"skipped deleted experiment(s) in {TRASH}")
    for exp_dir in experiments:
        exp_meta = _yaml(exp_dir / "meta.yaml")
        if exp_meta.get("lifecycle_stage") == "deleted":
            warn.append(f"skipped deleted experiment {exp_meta.get('name', exp_dir.name)!r}")
            continue
        for run_dir in sorted(d for d in exp_dir.iterdir() if (d / "meta.yaml").is_file()):
            meta = _yaml(run_dir / "meta.yaml")
            if "run_id" not in meta and "run_uuid" not in meta:
                continue  # not a run folder (e.g. a logged model's)
            if meta.get("lifecycle_stage") == "deleted":
                deleted_runs += 1
                continue
            row = _run_row(run_dir, meta, str(exp_meta.get("name", exp_dir.name)))
            rows.append(row)
            metric_files += [(row["run_id"], k, f) for k, f in _files(run_dir / "metrics").items()]
    if deleted_runs:
        warn.append(f"skipped {deleted_runs} deleted run(s)")
    history = _parse_metrics(metric_files, root).sort_values(
        ["run_key", "metric", "step", "timestamp", "value"], kind="stable"
    )
    # mlflow's own "latest" value: the greatest (step, timestamp, value)
    summary = history.drop_duplicates(["run_key", "metric"], keep="last").pivot(
        index="run_key", columns="metric", values="value"
    )
    return _store_sweep(path, rows, history, summary, warn, options)


def _store_sweep(
    path: Path,
    rows: list[dict[str, Any]],
    history: pd.DataFrame,
    summary: pd.DataFrame,
    warn: list[str],
    options: LoadOptions,
) -> RawSweep:
    params_wide = pd.DataFrame([r.pop("params") for r in rows], dtype="str")
    base = pd.DataFrame(
        rows, columns=["run_id", "experiment", "run_name", "status", "start_time", "end_time"]
    )
    base["start_time"], base["end_time"] = _ms_to_time(base["start_time"]), _ms_to_time(base["end_time"])
    base["runtime_s"] = (base["end_time"] - base["start_time"]).dt.total_seconds()
    if base["experiment"].nunique() > 1:
        warn.append(f"runs from {base['experiment'].nunique()} experiments (see column experiment)")
    else:
        base = base.drop(columns="experiment")
    params = {k: k if k not in set(base.columns) else f"params.{k}" for k in params_wide.columns}
    metrics = {
        m: m if m not in set(base.columns) | set(params.values()) else f"metrics.{m}" for m in summary.columns
    }
    runs = pd.concat([base, params_wide.rename(columns=params)], axis=1)
    runs = _numeric_params(runs, list(params.values()))
    runs = runs.join(summary.rename(columns=metrics), on="run_id")
    runs = runs.sort_values(["start_time", "run_id"], kind="stable").reset_index(drop=True)
    return RawSweep(
        runs=runs,
        format="mlflow",
        source=str(path),
        history=history[HISTORY_COLUMNS].reset_index(drop=True) if len(history) else None,
        id_column="run_id",
        name_column="run_name",
        state_column="status",
        runtime_column="runtime_s",
        created_column="start_time",
        param_columns=list(params.values()),
        metric_columns=list(metrics.values()),
        ignore_columns=["end_time"],
        objective=_objective(options),
        step_axis="step",
        warnings=warn,
    )


MLFLOW_CSV = LoaderSpec(
    name="mlflow-csv",
    summary="MLflow search_runs() saved as CSV (run_id, status, metrics.*, params.*)",
    sniff=sniff_csv,
    read=read_csv,
)

MLFLOW_STORE = LoaderSpec(
    name="mlflow",
    summary="MLflow local file store (mlruns folder): runs, params, metric histories",
    sniff=sniff_store,
    read=read_store,
)
