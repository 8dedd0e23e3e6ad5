"""A long Parquet history larger than memory, reduced per curve in chunks with pyarrow and numpy.

Pass 1 reads the files in batches of `batch_rows` rows (run keys and metric names as dictionaries, so no
Python string per row), numbers keys and metrics globally, drops rows without a key, metric or step, and
appends each batch's rows (key code, metric code, step, value; 24 bytes a row) to one of P spill files
chosen by run key, P = rows / `partition_rows`. Rows reach their spill file in file order, so a stable
sort there keeps the last of a repeated (run, metric, step) last, as the in-memory path does. Pass 2
reads one spill file at a time, which holds every row of its runs, and reduces it exactly with numpy:
the `curve_stats` columns, distinct steps and repeats per run, metrics that vary, and the decimated rows.

Memory is bounded by one batch in pass 1 and one spill file in pass 2 (a few times `partition_rows`
rows; more only when a single run holds more rows than that), plus the output: the per-curve statistics
and at most `max_points` rows per curve. Disk holds one compact copy of the history while it runs.
"""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reportgen.detectors.curves import curve_columns
from reportgen.errors import InputError
from reportgen.io.history_source import (
    HistorySource,
    ReducedHistory,
    canonical,
    decimated_positions,
)
from reportgen.io.tables import unreadable_parquet
from reportgen.sweep_history import Segments

BATCH_ROWS = 1 << 18
_RECORD = np.dtype([("key", "<i4"), ("metric", "<i4"), ("step", "<f8"), ("value", "<f8")])


class _Codes:
    """Global codes for a text column read in batches: one Python string per distinct value, numbered
    in order of first appearance."""

    def __init__(self) -> None:
        self.names = pd.Index([], dtype="object")

    def add(self, array: Any) -> np.ndarray:
        """The global code of every row of an arrow array (-1 for null)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if not pa.types.is_dictionary(array.type):
            if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
                array = pc.cast(array, pa.string())
            array = pc.dictionary_encode(array)
        found = np.asarray(pc.fill_null(array.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
        words = np.asarray(array.dictionary.to_numpy(zero_copy_only=False), dtype=object)
        present = pd.unique(found[found >= 0])
        fresh = pd.Index(words[present], dtype="object")
        fresh = fresh[self.names.get_indexer(fresh) < 0].drop_duplicates()
        if len(fresh):
            self.names = self.names.append(fresh)
        to_global = np.append(self.names.get_indexer(words), -1).astype(np.int64)
        return np.asarray(to_global[found])

    def constant(self, word: str, rows: int) -> np.ndarray:
        """The code of a value every row shares (a hive partition value)."""
        if self.names.get_indexer([word])[0] < 0:
            self.names = self.names.append(pd.Index([word], dtype="object"))
        return np.full(rows, int(self.names.get_indexer([word])[0]), dtype=np.int64)


def reduce_chunked(
    source: HistorySource,
    max_points: int = 1000,
    *,
    batch_rows: int = BATCH_ROWS,
    partition_rows: int | None = None,
    temp_dir: Path | None = None,
) -> ReducedHistory:
    """The ReducedHistory of `source`, reading at most `batch_rows` rows at a time; spill files of about
    `partition_rows` rows (default `batch_rows`) go to `temp_dir` (default: the system's temp folder)."""
    if max_points < 2:
        raise InputError(f"--max-points must be at least 2, not {max_points}")
    import pyarrow as pa
    import pyarrow.parquet as pq

    partition_rows = partition_rows or batch_rows
    keys, metrics = _Codes(), _Codes()
    try:
        total = sum(pq.read_metadata(f).num_rows for f in source.files)
    except (pa.ArrowException, OSError) as exc:
        raise unreadable_parquet(exc, source.path) from None
    parts = max(1, -(-total // partition_rows))
    rows_read = 0
    with tempfile.TemporaryDirectory(prefix="reportgen-reduce-", dir=temp_dir) as tmp:
        spill = [Path(tmp) / f"part-{p:05d}.bin" for p in range(parts)]
        with ExitStack() as stack:
            outs = [stack.enter_context(open(s, "wb")) for s in spill]
            for file, values in zip(source.files, source.partitions, strict=True):
                for batch in _batches(source, file, values, batch_rows):
                    rows_read += batch.num_rows
                    _spill(source, batch, values, keys, metrics, outs)
        pieces = [_reduce_part(np.fromfile(s, dtype=_RECORD), max_points) for s in spill]
    return _combine(pieces, keys.names, [str(m) for m in metrics.names], rows_read, max_points)


def _batches(source: HistorySource, file: Path, values: dict[str, str], batch_rows: int) -> Any:
    """The file's record batches holding the columns it stores (partition columns come from its path),
    run keys and metric names read as dictionaries."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        with pq.ParquetFile(file, pre_buffer=False) as probe:
            schema = probe.schema_arrow
        for col in (source.key, source.metric, source.step, source.value):
            if col not in schema.names and col not in values:
                raise InputError("history file has no such column", path=file, column=col)
        for col in (source.step, source.value):
            if col in schema.names and not _numeric(schema.field(col).type):
                raise InputError(f"expected numbers, found {schema.field(col).type}", path=file, column=col)
        text = [
            c
            for c in (source.key, source.metric)
            if c in schema.names
            and (pa.types.is_string(schema.field(c).type) or pa.types.is_large_string(schema.field(c).type))
        ]
        columns = [c for c in (source.key, source.metric, source.step, source.value) if c in schema.names]
        with pq.ParquetFile(file, read_dictionary=text, pre_buffer=False) as handle:
            yield from handle.iter_batches(batch_size=batch_rows, columns=columns)
    except (pa.ArrowException, OSError) as exc:
        raise unreadable_parquet(exc, file) from None


def _spill(
    source: HistorySource, batch: Any, values: dict[str, str], keys: _Codes, metrics: _Codes, outs: list[Any]
) -> None:
    """Number one batch's rows and append those with a key, metric and step to their run's spill file."""
    n = batch.num_rows
    names = batch.schema.names
    key = keys.add(batch.column(source.key)) if source.key in names else keys.constant(values[source.key], n)
    metric = (
        metrics.add(batch.column(source.metric))
        if source.metric in names
        else metrics.constant(values[source.metric], n)
    )
    step = _floats(batch, source.step, values, n)
    keep = (key >= 0) & (metric >= 0) & ~np.isnan(step)
    records = np.empty(int(keep.sum()), dtype=_RECORD)
    records["key"], records["metric"], records["step"] = key[keep], metric[keep], step[keep]
    records["value"] = _floats(batch, source.value, values, n)[keep]
    if len(outs) == 1:
        records.tofile(outs[0])
        return
    part = records["key"] % len(outs)
    order = np.argsort(part, kind="stable")  # stable: each spill file gets its rows in file order
    records, part = records[order], part[order]
    bounds = np.searchsorted(part, np.arange(len(outs) + 1))
    for p in np.flatnonzero(np.diff(bounds)):
        records[bounds[p] : bounds[p + 1]].tofile(outs[p])


def _floats(batch: Any, column: str, values: dict[str, str], n: int) -> np.ndarray:
    """A numeric column as float64 (null: NaN, as pandas reads it); a partition value parsed once."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if column not in batch.schema.names:
        return np.full(n, float(pd.to_numeric(values[column], errors="coerce")))
    array = pc.cast(batch.column(column), pa.float64())
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype="float64")


def _numeric(kind: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind))


def _reduce_part(records: np.ndarray, max_points: int) -> dict[str, np.ndarray]:
    """Every reduction of the runs in one spill file (all rows of each of its runs, in file order)."""
    order = np.lexsort((records["step"], records["metric"], records["key"]))  # stable: file order kept
    key, metric = records["key"][order], records["metric"][order]
    step, value = records["step"][order], records["value"][order]
    del records, order
    n = len(step)
    if n == 0:
        return {}
    new_curve = np.ones(n, dtype=bool)
    new_curve[1:] = (key[1:] != key[:-1]) | (metric[1:] != metric[:-1])
    starts = np.flatnonzero(new_curve)
    varying = _varying(starts, value, n)
    # a row followed by one of the same (run, metric, step) is a repeat: the last in file order stays
    repeat = np.zeros(n, dtype=bool)
    repeat[:-1] = ~new_curve[1:] & (step[1:] == step[:-1])
    repeats = np.bincount(key[repeat], minlength=int(key.max()) + 1)
    if repeat.any():
        keep = ~repeat
        key, metric, step, value = key[keep], metric[keep], step[keep], value[keep]
        # a curve's first row may have been a repeat: its flag went with it, so flag again
        new_curve = np.ones(len(step), dtype=bool)
        new_curve[1:] = (key[1:] != key[:-1]) | (metric[1:] != metric[:-1])
        starts = np.flatnonzero(new_curve)
    stops = np.append(starts[1:], len(step))
    sizes = stops - starts
    position = np.arange(len(step)) - np.repeat(starts, sizes)
    kept = decimated_positions(position, np.repeat(sizes, sizes), max_points)
    by_step = np.lexsort((key, step))  # distinct (run, step) pairs over all metrics of a run
    first_pair = np.ones(len(step), dtype=bool)
    first_pair[1:] = (key[by_step][1:] != key[by_step][:-1]) | (step[by_step][1:] != step[by_step][:-1])
    return {
        "curve_key": key[starts],
        "curve_metric": metric[starts],
        "varying": varying,
        **curve_columns(Segments(starts, stops), step, value),
        "row_key": key[kept],
        "row_metric": metric[kept],
        "row_step": step[kept],
        "row_value": value[kept],
        "steps": np.bincount(key[by_step][first_pair], minlength=len(repeats)),
        "repeats": repeats,
    }


def _varying(starts: np.ndarray, value: np.ndarray, n: int) -> np.ndarray:
    """Per curve (repeats included): does a value differ from another (NaN equal to NaN)?"""
    nan = np.isnan(value)
    nans = np.add.reduceat(nan.astype(np.int64), starts)
    sizes = np.diff(np.append(starts, n))
    low, high = np.fmin.reduceat(value, starts), np.fmax.reduceat(value, starts)
    return np.asarray(((nans > 0) & (nans < sizes)) | ((nans < sizes) & (low != high)))


def _combine(
    pieces: list[dict[str, np.ndarray]],
    keys: pd.Index,
    metric_names: list[str],
    rows_read: int,
    max_points: int,
) -> ReducedHistory:
    """The spill files' reductions joined (each run lives in one file) into the canonical result."""
    pieces = [p for p in pieces if p]

    def joined(name: str, dtype: str) -> np.ndarray:
        return np.concatenate([p[name] for p in pieces]) if pieces else np.array([], dtype=dtype)

    def per_key(name: str) -> np.ndarray:
        out = np.zeros(len(keys), dtype=np.int64)
        for p in pieces:
            out[: len(p[name])] += p[name]
        return out

    varying = np.zeros(len(metric_names), dtype=bool)
    varying[joined("curve_metric", "int32")[joined("varying", "bool")]] = True
    from reportgen.sweep_history import STAT_COLUMNS

    return canonical(
        "chunked",
        keys,
        joined("curve_key", "int32").astype(np.int64),
        joined("curve_metric", "int32").astype(np.int64),
        metric_names,
        {c: joined(c, "float64") for c in STAT_COLUMNS},
        (
            joined("row_key", "int32").astype(np.int64),
            joined("row_metric", "int32").astype(np.int64),
            joined("row_step", "float64"),
            joined("row_value", "float64"),
        ),
        per_key("steps").astype("float64"),
        per_key("repeats"),
        frozenset(metric_names[m] for m in np.flatnonzero(varying)),
        rows_read,
        max_points,
    )
