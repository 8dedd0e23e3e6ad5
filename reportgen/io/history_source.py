"""A long Parquet history as the out-of-core reducers see it, and what they give back.

The source is one Parquet file or a folder of them (a hive-partitioned dataset such as
`history/run_id=a/part-0.parquet` included: `key=value` folders are columns). Its files are read in
sorted path order, rows in file order, and that is the "file order" in which the last of a repeated
(run, metric, step) wins, as it does when the whole file is read into memory.

Both reducers (`history_reduce` chunked with pyarrow, `history_duckdb` on DuckDB) return a
`ReducedHistory`: the exact per-curve statistics, the exact per-run facts the Sweep needs (distinct steps,
repeated rows, metrics that vary within a run), and a decimated long history of real logged rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote

import numpy as np
import pandas as pd

from reportgen.errors import InputError
from reportgen.io.history import LONG_METRIC_COLUMNS, LONG_VALUE_COLUMNS
from reportgen.io.infer import STEP_AXES, pick_step_axis
from reportgen.io.tables import unreadable_parquet
from reportgen.sweep_history import STAT_COLUMNS

HistoryEngine = Literal["memory", "chunked", "duckdb"]


@dataclass(frozen=True)
class HistorySource:
    """The files of a long Parquet history (sorted), the hive partition values of each, and the four
    columns that hold the run key, step, metric name and value."""

    path: Path
    files: tuple[Path, ...]
    partitions: tuple[dict[str, str], ...]
    key: str
    step: str
    metric: str
    value: str
    key_is_partition: bool
    metric_is_partition: bool

    @property
    def hive(self) -> bool:
        return any(self.partitions)


@dataclass(frozen=True)
class ReducedHistory:
    """What a reducer gives back; every frame is in one canonical order, so engines compare equal.

    `keys`: every run key seen (rows with a key), in order of first appearance in file order.
    `stats`: one row per curve, index (run_key, metric) over `keys` and the sorted metric names, the
    columns of `curve_stats` (exact: over every row with a step, repeats resolved).
    `history`: the decimated raw long history (run_key categorical over `keys`, step, metric, value),
    sorted by key, metric, step: every row a real logged row, at most `max_points` per curve, all of a
    curve's rows when it has that many or fewer.
    `steps`: distinct steps per key over all its metrics (float64, index `keys`, NaN without rows).
    `repeats`: rows dropped per key as repeats of a (run, metric, step) (int64, index `keys`).
    `varying`: metrics whose values change within some curve, repeats included (as
    `roles.varying_history_metrics` counts them).
    """

    keys: pd.Index
    stats: pd.DataFrame
    history: pd.DataFrame
    steps: pd.Series
    repeats: pd.Series
    varying: frozenset[str]
    rows_read: int
    max_points: int
    engine: str

    @property
    def rows_kept(self) -> int:
        return len(self.history)

    def note(self) -> str:
        """The warning a Sweep built from this history carries."""
        return (
            f"history reduced out of core ({self.engine} engine): {self.rows_read:,} rows read, "
            f"{self.rows_kept:,} kept (at most {self.max_points:,} per curve); curve statistics "
            "(counts, first/last, min/max, NaN/inf onsets) are exact, other curve checks see the kept rows"
        )


def history_source(
    path: Path, key_columns: Sequence[str] | None, candidates: Sequence[str], step: str | None
) -> HistorySource:
    """The long Parquet history at `path` (a file, or a folder of `*.parquet` files), with its columns
    resolved as `io.history` resolves a long table's; InputError naming the file or column otherwise."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.exists():
        raise InputError("no such history file or folder", path=path)
    if path.is_dir():
        files = tuple(sorted((p for p in path.rglob("*.parquet") if p.is_file()), key=str))
        if not files:
            raise InputError("history folder holds no *.parquet files", path=path)
    else:
        files = (path,)
    partitions = tuple(_hive_values(f, path) for f in files)
    try:
        schema = pq.read_schema(files[0])
    except (pa.ArrowException, OSError) as exc:
        raise unreadable_parquet(exc, files[0]) from None
    names = list(schema.names) + [k for k in partitions[0] if k not in schema.names]
    if key_columns is not None and len(key_columns) != 1:
        raise InputError("an out-of-core history needs a single run key column, not --run-key", path=path)
    key = key_columns[0] if key_columns else next((c for c in candidates if c in names), None)
    if key is None or key not in names:
        wanted = key or ", ".join(candidates[:6])
        raise InputError(f"history has no run id column ({wanted}); columns are {_preview(names)}", path=path)
    step_col = pick_step_axis(names, step)
    if step_col is None:
        wanted = step or "one of " + ", ".join(STEP_AXES[:6])
        raise InputError(f"history has no step column ({wanted}); columns are {_preview(names)}", path=path)
    metric = next((c for c in LONG_METRIC_COLUMNS if c in names), None)
    value = next((c for c in LONG_VALUE_COLUMNS if c in names), None)
    if metric is None or value is None:
        raise InputError(
            "an out-of-core history (--history-engine chunked or duckdb) must be long: run id, step, "
            f"metric, value columns; columns are {_preview(names)}",
            path=path,
        )
    for col in (step_col, value):
        if col in schema.names and not _numeric(schema.field(col).type):
            raise InputError(f"expected numbers, found {schema.field(col).type}", path=files[0], column=col)
    return HistorySource(
        path=path,
        files=files,
        partitions=partitions,
        key=key,
        step=step_col,
        metric=metric,
        value=value,
        key_is_partition=key not in schema.names,
        metric_is_partition=metric not in schema.names,
    )


def _hive_values(file: Path, root: Path) -> dict[str, str]:
    """The `key=value` folders between `root` and `file`, as strings (values URL-decoded)."""
    if file == root:
        return {}
    out = {}
    for part in file.relative_to(root).parts[:-1]:
        name, sep, value = part.partition("=")
        if sep and name:
            out[name] = unquote(value)
    return out


def _numeric(kind: object) -> bool:
    import pyarrow as pa

    return bool(
        pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind)  # type: ignore[arg-type]
    )


def _preview(names: Sequence[str], limit: int = 8) -> str:
    more = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return ", ".join(map(str, names[:limit])) + more


def decimated_positions(position: np.ndarray, size: np.ndarray, max_points: int) -> np.ndarray:
    """Which rows a curve keeps: row `position` (0-based, in step order) of a curve of `size` rows is
    kept when the curve has at most `max_points` rows, or when it is one of the `max_points` rows at
    evenly spaced positions floor(k * (size - 1) / (max_points - 1)), k = 0..max_points-1 (the first and
    the last row among them). Integer arithmetic only, so DuckDB's SQL gives the same rows."""
    m = np.int64(max_points - 1)
    n1 = np.maximum(size.astype(np.int64) - 1, 1)
    k = (position.astype(np.int64) * m + n1 - 1) // n1  # the smallest k whose row is at or after it
    return np.asarray((size <= max_points) | ((k * n1) // m == position))


def decimated_sql(position: str, size: str, max_points: int) -> str:
    """`decimated_positions` as a SQL condition over integer columns."""
    m = max_points - 1
    n1 = f"greatest(({size}) - 1, 1)"
    k = f"(({position}) * {m} + {n1} - 1) // {n1}"
    return f"(({size}) <= {max_points} OR ({k} * {n1}) // {m} = ({position}))"


def canonical(
    engine: str,
    keys: pd.Index,
    curve_key: np.ndarray,
    curve_metric: np.ndarray,
    metric_names: Sequence[str],
    columns: dict[str, np.ndarray],
    rows: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    steps: np.ndarray,
    repeats: np.ndarray,
    varying: frozenset[str],
    rows_read: int,
    max_points: int,
) -> ReducedHistory:
    """A ReducedHistory in canonical order from per-curve arrays (`curve_key` codes into `keys`,
    `curve_metric` codes into `metric_names`), the kept rows (key code, metric code, step, value) and
    per-key arrays: curves and rows sorted by key code, metric name (and step)."""
    keys = pd.Index(np.asarray(keys, dtype=object), dtype="str")
    names = sorted(set(metric_names))
    rank = np.array([names.index(m) for m in metric_names] + [-1], dtype=np.int64)
    c_metric = rank[curve_metric]
    order = np.lexsort((c_metric, curve_key))
    index = pd.MultiIndex(
        levels=[keys, pd.Index(names, dtype="str")],
        codes=[curve_key[order], c_metric[order]],
        names=["run_key", "metric"],
    )
    stats = pd.DataFrame(
        {
            c: np.asarray(columns[c])[order].astype("int64" if c in ("n", "finite_n") else "float64")
            for c in STAT_COLUMNS
        },
        index=index,
    )
    r_key, r_metric, r_step, r_value = rows
    r_metric = rank[r_metric]
    row_order = np.lexsort((r_step, r_metric, r_key))
    history = pd.DataFrame(
        {
            "run_key": pd.Categorical.from_codes(r_key[row_order], categories=keys),
            "step": r_step[row_order].astype("float64"),
            "metric": pd.Categorical.from_codes(r_metric[row_order], categories=names),
            "value": r_value[row_order].astype("float64"),
        }
    )
    steps = np.where(steps > 0, steps, np.nan).astype("float64")
    return ReducedHistory(
        keys=keys,
        stats=stats,
        history=history,
        steps=pd.Series(steps, index=keys, name="steps"),
        repeats=pd.Series(repeats.astype("int64"), index=keys, name="repeats"),
        varying=varying,
        rows_read=rows_read,
        max_points=max_points,
        engine=engine,
    )
