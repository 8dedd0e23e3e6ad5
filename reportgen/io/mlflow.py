"""MLflow loaders: a `mlflow.search_runs()` DataFrame saved as CSV, and a local `mlruns` file store.

Neither imports mlflow: the CSV is a plain table and the file store is plain files plus YAML, so both
work without MLflow installed.

What this module leaves to the common assembly step (`assemble.py`), as for every format:
- Param types. MLflow stores params as text; they are typed by `values.coerce_column`: a param column
  becomes numeric when at least 90% of its non-empty values parse as numbers (the others are read as
  missing, with a warning naming the column and the first such cell), else it stays text. So `adam`/`sgd`
  stay text, `0.01` becomes a number, and a `1`/`cosine` column (half numbers) stays text. No stricter
  MLflow rule is applied, so a param column types the same way whichever format it came in.
- The file store's metric summaries. search_runs() exports each run's latest value as `metrics.<key>`;
  the file store keeps only the per-step metric files, so its runs table has no metric columns and the
  common step takes each run's last logged value from the history. The history is sorted by step, then
  timestamp, then value, which makes that value MLflow's own "latest" (the greatest of the three).

MLflow times are epoch milliseconds (meta.yaml, and search_runs() CSVs written from numbers); they are
converted here, because the common step reads a number in a created column as seconds.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from reportgen.errors import InputError
from reportgen.io.history import RAW_HISTORY_COLUMNS
from reportgen.io.options import LoadOptions
from reportgen.io.raw import RawSweep
from reportgen.io.registry import LoaderSpec
from reportgen.io.tables import decode_text, head_bytes, read_csv_table, sniff_delimiter
from reportgen.sweep import RUN_COLUMNS

# mlflow/entities/run_status.py (mlflow 3.17): the file store's meta.yaml keeps the int enum.
STATUS_NAMES = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
RUN_NAME_TAG = "mlflow.runName"
TRASH = ".trash"
# mlflow/store/tracking/file_store.py `_get_metric_from_line`: "timestamp value", "timestamp value step"
# or "timestamp value step dataset_name dataset_digest"; any other count is a corrupt line.
METRIC_FIELD_COUNTS = (2, 3, 5)
# Ids stay text: a numeric-looking id must not become a number (experiment ids overflow int64).
CSV_ID_COLUMNS = ("run_id", "experiment_id")


def unclash(wanted: Mapping[str, str], taken: set[str]) -> dict[str, str]:
    """Each column -> its wanted (short) name, or the column's own name where the short name is taken.

    Every name handed out is added to `taken`, so groups renamed one after another (values, params, user
    attrs) never produce the same name twice. `taken` should hold every other column of the table.
    """
    out: dict[str, str] = {}
    for column, name in wanted.items():
        out[column] = name if name not in taken else column
        taken.add(out[column])
    return out


def csv_header(path: Path) -> list[str]:
    """The header row of a CSV file (UTF-8 or cp1252; `,`, `;`, tab or `|` delimited) read from the
    file's first bytes, or [] when it is not readable text. Sniffers call this: it never raises."""
    head = head_bytes(path)
    if not head or b"\x00" in head:
        return []
    text = decode_text(path, head, [])  # cp1252/latin-1 fallback: a sniff only needs the names
    try:
        row = next(csv.reader(io.StringIO(text), delimiter=sniff_delimiter(text)), [])
    except csv.Error:
        return []
    return [name.strip() for name in row]


def _is_csv_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in {".csv", ".txt", ""}


def _unset_times(column: str, values: pd.Series, times: pd.Series, warn: list[str]) -> None:
    bad = int((values.notna() & times.isna()).sum())
    if bad:
        warn.append(f"{bad} run(s) have a {column} that is not a readable time; left unset")


# --- search_runs CSV -------------------------------------------------------------------------------


def sniff_csv(path: Path) -> bool:
    """A CSV whose header has run_id, status and metrics./params. columns."""
    if not _is_csv_file(path):
        return False
    header = csv_header(path)
    return {"run_id", "status"} <= set(header) and any(c.startswith(("metrics.", "params.")) for c in header)


def _csv_times(runs: pd.DataFrame, column: str, warn: list[str]) -> None:
    """Epoch milliseconds (numbers) or ISO text to UTC times, in place; other text stays text."""
    values = runs[column]
    if pd.api.types.is_numeric_dtype(values.dtype):
        times = pd.to_datetime(values, unit="ms", utc=True, errors="coerce")
        _unset_times(column, values, times, warn)
        runs[column] = times
        return
    try:
        runs[column] = pd.to_datetime(values, utc=True, format="ISO8601")
    except (ValueError, TypeError):  # OutOfBoundsDatetime is a ValueError
        warn.append(f"column {column!r} holds values that are not timestamps; kept as text")


def read_csv(path: Path, options: LoadOptions) -> RawSweep:
    """Read a `search_runs()` export (any encoding and delimiter the core's CSV reader handles)."""
    warn: list[str] = []
    frame = read_csv_table(path, warn, dtype=dict.fromkeys(CSV_ID_COLUMNS, "str"))
    missing = [c for c in ("run_id", "status") if c not in frame.columns]
    if missing:
        raise InputError(
            f"not an MLflow search_runs CSV: missing column(s) {', '.join(missing)}"
            " (expected run_id, status, start_time, metrics.*, params.*)",
            path=path,
        )
    param_cols = [c for c in frame.columns if c.startswith("params.")]
    metric_cols = [c for c in frame.columns if c.startswith("metrics.")]
    runs = frame.drop(columns=[c for c in frame.columns if c.startswith("tags.")])
    if f"tags.{RUN_NAME_TAG}" in frame.columns and "run_name" not in runs.columns:
        runs.insert(1, "run_name", frame[f"tags.{RUN_NAME_TAG}"])
    for column in ("start_time", "end_time"):
        if column in runs.columns:
            _csv_times(runs, column, warn)
    if {"start_time", "end_time"} <= set(runs.columns) and all(
        runs[c].dtype.kind == "M" for c in ("start_time", "end_time")
    ):
        runs["runtime_s"] = (runs["end_time"] - runs["start_time"]).dt.total_seconds()
    if "experiment_id" in runs.columns and runs["experiment_id"].nunique() > 1:
        warn.append(f"runs from {runs['experiment_id'].nunique()} experiments (see column experiment_id)")
    taken = set(runs.columns)
    params = unclash({c: c.removeprefix("params.") for c in param_cols}, taken)
    # as in the file store (whose metrics the common step adds from the history), a metric named like one
    # of reportgen's run columns keeps its prefix, so one metric has one name in both MLflow formats
    metrics = unclash({c: c.removeprefix("metrics.") for c in metric_cols}, taken | set(RUN_COLUMNS))
    runs = runs.rename(columns={**params, **metrics})
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
        warnings=warn,
    )


# --- mlruns file store -----------------------------------------------------------------------------


def _store_root(path: Path) -> Path:
    return path / "mlruns" if (path / "mlruns").is_dir() else path


def _looks_like_experiment(folder: Path) -> bool:
    meta = folder / "meta.yaml"
    if folder.name == TRASH or not meta.is_file():
        return False
    head = head_bytes(meta, 4096).decode("utf-8", errors="replace")
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


def _text(path: Path, warn: list[str]) -> str:
    """A param or tag file's value; non-UTF-8 bytes are decoded as cp1252/latin-1 with a warning."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read MLflow file ({exc.strerror or type(exc).__name__})", path=path
        ) from None
    return decode_text(path, data, warn)


def _files(folder: Path) -> dict[str, Path]:
    """Key -> file under a params/, metrics/ or tags/ folder; keys with '/' are nested folders."""
    if not folder.is_dir():
        return {}
    return {f.relative_to(folder).as_posix(): f for f in sorted(folder.rglob("*")) if f.is_file()}


def _ms_to_time(column: str, values: pd.Series, warn: list[str]) -> pd.Series:
    """Epoch milliseconds to UTC times; a value that is no time (text, out of range) becomes NaT."""
    times = pd.to_datetime(pd.to_numeric(values, errors="coerce"), unit="ms", utc=True, errors="coerce")
    _unset_times(column, values, times, warn)
    return times


def _bad_field_count(joined: str) -> int | None:
    """The 0-based number of the first joined metric line whose field count MLflow rejects, or None.

    Lines are counted by their spaces, vectorized over the bytes (a per-line Series would cost more than
    the parse itself); the prepended file index adds one space, so a line's spaces are its fields.
    """
    data = np.frombuffer(joined.encode(), dtype=np.uint8)
    newlines = np.flatnonzero(data == ord("\n"))
    line_of_space = np.searchsorted(newlines, np.flatnonzero(data == ord(" ")))
    fields = np.bincount(line_of_space, minlength=len(newlines) + 1)
    bad = np.flatnonzero(~np.isin(fields, METRIC_FIELD_COUNTS))
    return int(bad[0]) if bad.size else None


def _parse_metrics(files: list[tuple[str, str, Path]], root: Path) -> pd.DataFrame:
    """All metric files in one parse: each line `timestamp value step [dataset digest]` gets its file's
    index prepended (a C-level str.replace), so no Python loop runs per line."""
    chunks = []
    starts = []  # position of each chunk's first line among all lines, to name a bad line's row
    n_lines = 0
    for index, (_, _, file) in enumerate(files):
        try:
            text = file.read_text(encoding="utf-8").replace("\r", "").strip()
        except (OSError, UnicodeError) as exc:
            raise InputError(f"cannot read MLflow metric file ({exc})", path=file) from exc
        if text:
            chunks.append(f"{index} " + text.replace("\n", f"\n{index} "))
            starts.append((n_lines, index))
            n_lines += text.count("\n") + 1
    if not chunks:
        return pd.DataFrame(columns=["run_key", "metric", "timestamp", "step", "value"])
    joined = "\n".join(chunks)
    first_bad = _bad_field_count(joined)
    if first_bad is not None:
        start, index = max(s for s in starts if s[0] <= first_bad)
        raise InputError(
            "expected lines of 2, 3 or 5 fields ('timestamp value step [dataset digest]')",
            path=files[index][2],
            row=first_bad - start + 1,
        )
    names = ["file", "timestamp", "value", "step", "dataset", "digest"]
    try:
        raw = pd.read_csv(
            io.StringIO(joined),
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


def _run_row(run_dir: Path, meta: dict[str, Any], experiment: str, warn: list[str]) -> dict[str, Any]:
    tags = _files(run_dir / "tags")
    name = _text(tags[RUN_NAME_TAG], warn) if RUN_NAME_TAG in tags else meta.get("run_name")
    status = meta.get("status")
    params = {k: _text(f, warn) for k, f in _files(run_dir / "params").items()}
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
    try:
        rows, metric_files = _walk_store(root, path, warn)
    except OSError as exc:  # a folder that cannot be listed
        where = exc.filename or path
        raise InputError(f"cannot read ({exc.strerror or type(exc).__name__})", path=where) from None
    # sorted so that, per (run, metric), the last row is MLflow's "latest": greatest step, then timestamp,
    # then value; the common step keeps that order when it picks the last logged value as the summary
    history = _parse_metrics(metric_files, root).sort_values(
        ["run_key", "metric", "step", "timestamp", "value"], kind="stable"
    )
    return _store_sweep(path, rows, history, warn)


def _walk_store(
    root: Path, path: Path, warn: list[str]
) -> tuple[list[dict[str, Any]], list[tuple[str, str, Path]]]:
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
            row = _run_row(run_dir, meta, str(exp_meta.get("name", exp_dir.name)), warn)
            rows.append(row)
            metric_files += [(row["run_id"], k, f) for k, f in _files(run_dir / "metrics").items()]
    if deleted_runs:
        warn.append(f"skipped {deleted_runs} deleted run(s)")
    return rows, metric_files


def _store_sweep(path: Path, rows: list[dict[str, Any]], history: pd.DataFrame, warn: list[str]) -> RawSweep:
    params_wide = pd.DataFrame([r.pop("params") for r in rows], dtype="str")
    base = pd.DataFrame(
        rows, columns=["run_id", "experiment", "run_name", "status", "start_time", "end_time"]
    )
    for column in ("start_time", "end_time"):
        base[column] = _ms_to_time(column, base[column], warn)
    base["runtime_s"] = (base["end_time"] - base["start_time"]).dt.total_seconds()
    if base["experiment"].nunique() > 1:
        warn.append(f"runs from {base['experiment'].nunique()} experiments (see column experiment)")
    else:
        base = base.drop(columns="experiment")
    taken = set(base.columns)
    params = unclash({f"params.{k}": k for k in params_wide.columns}, taken)
    params_wide.columns = [params[f"params.{k}"] for k in params_wide.columns]
    # Metrics exist only in the history here; the common step adds their summary columns under these
    # names. It skips names of its own run columns (`state`, `created`, ...), so those keep the prefix.
    keys = sorted(pd.unique(history["metric"])) if len(history) else []
    prefixed = unclash({f"metrics.{k}": k for k in keys}, taken | set(RUN_COLUMNS))
    metrics = {k: prefixed[f"metrics.{k}"] for k in keys}
    runs = pd.concat([base, params_wide], axis=1)
    runs = runs.sort_values(["start_time", "run_id"], kind="stable").reset_index(drop=True)
    history = history.assign(metric=history["metric"].map(metrics))
    return RawSweep(
        runs=runs,
        format="mlflow",
        source=str(path),
        history=history[RAW_HISTORY_COLUMNS].reset_index(drop=True) if len(history) else None,
        id_column="run_id",
        name_column="run_name",
        state_column="status",
        runtime_column="runtime_s",
        created_column="start_time",
        param_columns=list(params.values()),
        metric_columns=list(metrics.values()),  # history-only: their summaries come from the common step
        ignore_columns=["end_time"],
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
