"""The out-of-core history reduction on DuckDB, for histories that outgrow one machine's memory.

The same reduction as `history_reduce` (the same `ReducedHistory`, equal frame for frame), written as SQL
GROUP BYs over `read_parquet` of the history's files: DuckDB streams the Parquet files, runs its hash
aggregates and window under `memory_limit`, and spills to `temp_dir` what does not fit. "File order" is
the files' sorted order and `file_row_number` within each, so the last of a repeated (run, metric, step)
wins as it does in memory (`arg_max(value, ord)`).

DuckDB is an optional extra (`pip install 'reportgen[duckdb]'`), imported only when this engine runs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reportgen.errors import InputError, UsageError
from reportgen.io.history_source import (
    HistorySource,
    ReducedHistory,
    canonical,
    decimated_sql,
)
from reportgen.sweep_history import STAT_COLUMNS

_FILE_SHIFT = 1 << 40  # ord = file index * 2**40 + row in file: file order as one BIGINT


def connect(memory_limit: str, temp_dir: Path, threads: int | None) -> Any:
    """A DuckDB connection that spills to `temp_dir` beyond `memory_limit`; UsageError without duckdb."""
    try:
        import duckdb
    except ImportError:
        raise UsageError("--history-engine duckdb needs DuckDB: pip install 'reportgen[duckdb]'") from None
    config: dict[str, Any] = {
        "memory_limit": memory_limit,
        "temp_directory": str(temp_dir),
        "preserve_insertion_order": False,
    }
    if threads is not None:
        config["threads"] = threads
    try:
        return duckdb.connect(":memory:", config=config)
    except duckdb.Error as exc:  # a memory limit DuckDB cannot parse ("abc", "1 parsec")
        first = str(exc).splitlines()[0]
        raise UsageError(f"--duckdb-memory-limit {memory_limit!r}: {first}") from None


def reduce_duckdb(
    source: HistorySource,
    max_points: int = 1000,
    *,
    memory_limit: str = "1GB",
    temp_dir: Path | None = None,
    threads: int | None = None,
) -> ReducedHistory:
    """The ReducedHistory of `source`, computed by DuckDB within `memory_limit` (e.g. "512MB")."""
    if max_points < 2:
        raise InputError(f"--max-points must be at least 2, not {max_points}")
    with tempfile.TemporaryDirectory(prefix="reportgen-duckdb-", dir=temp_dir) as tmp:
        con = connect(memory_limit, Path(tmp), threads)
        try:
            return _reduce(con, source, max_points)
        except Exception as exc:
            if type(exc).__module__.startswith("duckdb") or type(exc).__module__ == "_duckdb":
                first = " ".join(str(exc).split())[:200]
                raise InputError(f"DuckDB could not read the history ({first})", path=source.path) from None
            raise
        finally:
            con.close()


def _reduce(con: Any, source: HistorySource, max_points: int) -> ReducedHistory:
    files = [str(f) for f in source.files]
    listed = "[" + ", ".join(_quote(f) for f in files) + "]"
    hive = "true" if source.hive else "false"
    scan = (
        f"read_parquet({listed}, hive_partitioning = {hive}, hive_types_autocast = false, "
        "filename = true, file_row_number = true, union_by_name = true)"
    )
    if len(files) == 1:
        ordinal, joined = "r.file_row_number", ""
    else:  # file order: the files' sorted order (a join against a table of a few rows)
        con.execute("CREATE TEMP TABLE files (filename VARCHAR, idx BIGINT)")
        con.executemany("INSERT INTO files VALUES (?, ?)", [(f, i) for i, f in enumerate(files)])
        ordinal, joined = f"f.idx * {_FILE_SHIFT} + r.file_row_number", "JOIN files AS f USING (filename)"
    con.execute(
        f"""CREATE TEMP VIEW src_all AS
        SELECT CAST({_ident(source.key)} AS VARCHAR) AS run_key,
               CAST({_ident(source.metric)} AS VARCHAR) AS metric,
               CAST({_ident(source.step)} AS DOUBLE) AS step,
               coalesce(CAST({_ident(source.value)} AS DOUBLE), 'NaN'::DOUBLE) AS value,
               {ordinal} AS ord
        FROM {scan} AS r {joined}"""
    )
    rows_read = int(con.execute(f"SELECT count(*) FROM {scan}").fetchone()[0])
    # run keys numbered in order of first appearance in file order, as the chunked reader numbers them
    # per (key, metric), rows without a step included: first appearance, and whether values vary
    # (repeats included, NaN equal to NaN, as `roles.varying_history_metrics` decides it)
    con.execute(
        """CREATE TEMP TABLE seen AS
        SELECT run_key, metric, min(ord) AS first,
               count(*) FILTER (WHERE stepped AND isnan(value)) AS nans,
               count(*) FILTER (WHERE stepped) AS rows,
               min(value) FILTER (WHERE stepped AND NOT isnan(value)) AS low,
               max(value) FILTER (WHERE stepped AND NOT isnan(value)) AS high
        FROM (SELECT *, step IS NOT NULL AND NOT isnan(step) AS stepped FROM src_all)
        GROUP BY run_key, metric"""
    )
    con.execute(
        """CREATE TEMP TABLE keys AS
        SELECT run_key, row_number() OVER (ORDER BY min(first)) - 1 AS code
        FROM seen WHERE run_key IS NOT NULL GROUP BY run_key"""
    )
    con.execute(
        """CREATE TEMP TABLE metrics AS
        SELECT metric, row_number() OVER (ORDER BY metric) - 1 AS code
        FROM (SELECT DISTINCT metric FROM seen WHERE metric IS NOT NULL)"""
    )
    key_names = [r[0] for r in con.execute("SELECT run_key FROM keys ORDER BY code").fetchall()]
    metric_names = [r[0] for r in con.execute("SELECT metric FROM metrics ORDER BY code").fetchall()]
    # one row per (run, metric, step): the last logged value in file order, and the rows it stands for
    con.execute(
        """CREATE TEMP TABLE dedup AS
        SELECT run_key, metric, step, arg_max(value, ord) AS value, count(*) - 1 AS repeats
        FROM src_all
        WHERE run_key IS NOT NULL AND metric IS NOT NULL AND step IS NOT NULL AND NOT isnan(step)
        GROUP BY run_key, metric, step"""
    )
    codes = "JOIN keys AS k USING (run_key) JOIN metrics AS m USING (metric)"
    finite = "isfinite(value)"
    both = "isfinite(value) AND isfinite(step)"
    stats = _numpy(
        con,
        f"""SELECT k.code AS key, m.code AS metric, c.* EXCLUDE (run_key, metric) FROM (
        SELECT run_key, metric,
            count(*) AS n, min(step) AS first_step, arg_min(value, step) AS first,
            max(step) AS last_step, arg_max(value, step) AS last,
            count(*) FILTER (WHERE {finite}) AS finite_n,
            min(value) FILTER (WHERE {finite}) AS min, max(value) FILTER (WHERE {finite}) AS max,
            arg_min(step, (value, step)) FILTER (WHERE {finite}) AS min_step,
            arg_max(step, (value, -step)) FILTER (WHERE {finite}) AS max_step,
            min(step) FILTER (WHERE {both}) AS finite_first_step,
            arg_min(value, step) FILTER (WHERE {both}) AS finite_first,
            max(step) FILTER (WHERE {both}) AS finite_last_step,
            arg_max(value, step) FILTER (WHERE {both}) AS finite_last,
            min(step) FILTER (WHERE isnan(value)) AS nan_step,
            min(step) FILTER (WHERE isinf(value) AND value > 0) AS posinf_step,
            min(step) FILTER (WHERE isinf(value) AND value < 0) AS neginf_step
        FROM dedup GROUP BY run_key, metric) AS c {codes}""",
    )
    kept = _numpy(
        con,
        f"""SELECT k.code AS key, m.code AS metric, step, value FROM (
            SELECT run_key, metric, step, value,
                   row_number() OVER (PARTITION BY run_key, metric ORDER BY step) - 1 AS position,
                   count(*) OVER (PARTITION BY run_key, metric) AS size
            FROM dedup) AS d {codes}
        WHERE {decimated_sql("position", "size", max_points)}""",
    )
    per_key = _numpy(
        con,
        """SELECT k.code AS key, steps, repeats FROM (
            SELECT run_key, count(DISTINCT step) AS steps, sum(repeats) AS repeats FROM dedup GROUP BY run_key
        ) AS p JOIN keys AS k USING (run_key)""",
    )
    steps = np.zeros(len(key_names), dtype="float64")
    repeats = np.zeros(len(key_names), dtype=np.int64)
    steps[per_key["key"]] = per_key["steps"]
    repeats[per_key["key"]] = per_key["repeats"]
    varying = frozenset(
        r[0]
        for r in con.execute(
            """SELECT DISTINCT metric FROM seen
            WHERE run_key IS NOT NULL AND metric IS NOT NULL
              AND ((nans > 0 AND nans < rows) OR (nans < rows AND low <> high))"""
        ).fetchall()
    )
    return canonical(
        "duckdb",
        pd.Index(key_names, dtype="object"),
        stats["key"],
        stats["metric"],
        metric_names,
        {c: stats[c] for c in STAT_COLUMNS},
        (kept["key"], kept["metric"], kept["step"], kept["value"]),
        steps,
        repeats,
        varying,
        rows_read,
        max_points,
    )


def _numpy(con: Any, sql: str) -> dict[str, np.ndarray]:
    """A query's columns as numpy arrays (SQL NULL as NaN in float columns; integer codes as int64)."""
    table = con.sql(sql).to_arrow_table()
    out = {}
    for name in table.column_names:
        column = table.column(name)
        array = np.asarray(column.to_numpy(), dtype=None)
        if name in ("key", "metric"):
            array = array.astype(np.int64)
        elif array.dtype == object:  # a float column with NULLs
            array = np.asarray(column.to_pandas(), dtype="float64")
        out[name] = array
    return out


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
