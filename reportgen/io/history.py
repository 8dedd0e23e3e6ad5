"""Per-step histories: every layout turned into one long table (run_key, step, metric, value).

A *missing* cell and a *logged NaN* are different facts: W&B histories are sparse (each metric logged on
its own steps, the rest of the row empty), while a diverged run logs `nan`. Only the format can tell them
apart, so callers pass a `logged` mask: in CSV an empty cell is a hole and the literal `nan`/`NaN` token a
logged NaN; in Parquet a null is a hole and a float NaN a logged NaN; in JSON an absent key is a hole and
the bare `NaN` token a logged NaN. In a long table every row was logged, so a NaN value is kept.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reportgen.errors import InputError
from reportgen.io.infer import STEP_AXES, is_meta, pick_step_axis
from reportgen.io.run_history import DEDUP_ATTR, block_order, repeated_rows, row_order, sorted_subset
from reportgen.io.tables import (
    parse_csv_text,
    read_csv_table,
    read_table,
    read_text,
    sniff_delimiter,
    table_kind,
    unreadable_parquet,
)
from reportgen.sweep_history import Segments

RAW_HISTORY_COLUMNS = ["run_key", "step", "metric", "value"]
LONG_METRIC_COLUMNS = ("metric", "key", "metric_name")
LONG_VALUE_COLUMNS = ("value", "metric_value")
NAN_TOKENS = ("nan", "+nan", "-nan")


def empty_raw_history() -> pd.DataFrame:
    """A long history with no rows but the right columns and dtypes."""
    dtypes = {"run_key": "str", "step": "float64", "metric": "str", "value": "float64"}
    return pd.DataFrame({c: pd.Series(dtype=dtypes[c]) for c in RAW_HISTORY_COLUMNS})


def metric_candidates(columns: Sequence[str], step_axis: str | None) -> list[str]:
    """Columns that may hold metrics: not `_`-prefixed tracker internals (`_timestamp`, `_runtime`), not
    a step axis, not run metadata."""
    return [
        c
        for c in columns
        if not str(c).startswith("_") and c != step_axis and c not in STEP_AXES and not is_meta(str(c))
    ]


def long_from_cells(
    cells: pd.DataFrame,
    steps: pd.Series,
    logged: pd.DataFrame,
    nan_token: pd.DataFrame | None,
    run_keys: str | Sequence[str] | pd.Series,
    *,
    row_keys: pd.Series | None = None,
    warnings: list[str] | None = None,
    source: str = "history",
) -> pd.DataFrame:
    """Melt wide raw cells (one column per metric) into the long history, keeping only logged cells.

    `logged` and `nan_token` are masks shaped like `cells`; with `nan_token=None`, logged cells that do not
    parse as numbers are checked for the NaN spellings. A column with a logged cell that is neither a
    number nor a NaN token (a media dict, a caption) is not a metric and is dropped whole. The run is
    `run_keys` (one key, or one per column, as a chart export holds many runs) unless `row_keys` gives
    one per row (a wide table of many runs). Rows come out column by column in file order. Each dropped
    column is reported in `warnings` (naming `source`) when a list is given.
    """
    values = cells.apply(pd.to_numeric, errors="coerce").astype("float64")
    # positional from here on: a chart export repeats a metric name once per run
    unparsed = logged.to_numpy(dtype=bool) & np.isnan(values.to_numpy(dtype="float64"))
    if nan_token is None:
        tokens = np.zeros(unparsed.shape, dtype=bool)
        rows, cols = np.nonzero(unparsed)
        if rows.size:
            text = pd.Series(cells.to_numpy(dtype=object)[rows, cols]).astype("str").str.strip().str.lower()
            tokens[rows, cols] = text.isin(NAN_TOKENS).to_numpy()
    else:
        tokens = nan_token.to_numpy(dtype=bool)
    textual = (unparsed & ~tokens).any(axis=0)
    if warnings is not None:
        for col in np.flatnonzero(textual):
            row = int(np.flatnonzero(unparsed[:, col] & ~tokens[:, col])[0])
            name, example = str(cells.columns[col]), str(cells.iat[row, col])[:40]
            warnings.append(
                f"{source}: column {name!r} holds text ({example!r}, data row {row + 1}); "
                "not a metric, left out of the history"
            )
    keep_cols = [i for i, bad in enumerate(textual) if not bad]
    if not keep_cols:
        return empty_raw_history()
    values = values.iloc[:, keep_cols]
    keep = logged.iloc[:, keep_cols].to_numpy(dtype=bool)
    names = np.asarray([str(c) for c in values.columns], dtype=object)
    n_rows, n_cols = len(values), len(names)
    # keys and metric names as categorical codes: one Python object per distinct key, not per row
    if row_keys is not None:
        row_codes, key_values = pd.factorize(row_keys)
        key_codes = np.tile(row_codes, n_cols)
    else:
        per_column = (
            [run_keys] * n_cols if isinstance(run_keys, str) else list(np.asarray(run_keys)[keep_cols])
        )
        column_codes, key_values = pd.factorize(pd.Series(per_column, dtype="object"))
        key_codes = np.repeat(column_codes, n_rows)
    metric_codes, metric_values = pd.factorize(pd.Series(names, dtype="object"))
    step_values = pd.to_numeric(steps, errors="coerce").to_numpy(dtype="float64")
    # column-major ravel: all rows of the first column, then the next, as np.repeat/np.tile lay them out
    flat_keep = keep.ravel(order="F") & np.tile(~np.isnan(step_values), n_cols)
    return pd.DataFrame(
        {
            "run_key": pd.Categorical.from_codes(key_codes[flat_keep], categories=_str_index(key_values)),
            "step": np.tile(step_values, n_cols)[flat_keep],
            "metric": pd.Categorical.from_codes(
                np.repeat(metric_codes, n_rows)[flat_keep], categories=_str_index(metric_values)
            ),
            "value": values.to_numpy(dtype="float64").ravel(order="F")[flat_keep],
        }
    )


def _str_index(values: object) -> list[str]:
    return [str(v) for v in values]  # type: ignore[attr-defined]


def read_sparse_csv(path: Path, warnings: list[str]) -> tuple[list[str], pd.DataFrame]:
    """A CSV as its header and text cells, so empty cells stay distinguishable from `NaN` tokens.

    Columns are positional (0..n-1) because chart exports may repeat a header (runs sharing a name).
    """
    text = read_text(path, warnings, "a CSV header row, then one row per step")
    sep = sniff_delimiter(text[:65536])
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=sep), [])
        cells = parse_csv_text(
            path,
            text,
            sep,
            header=None,
            skiprows=1,
            names=list(range(len(header))),
            dtype="str",
            keep_default_na=False,
            na_filter=False,
        )
    except pd.errors.EmptyDataError:
        cells = pd.DataFrame({i: pd.Series(dtype="str") for i in range(len(header))})
    except csv.Error as exc:
        raise InputError(f"malformed CSV ({' '.join(str(exc).split())})", path=path) from None
    return [h.strip() for h in header], cells


def long_from_frame(
    df: pd.DataFrame,
    *,
    path: Path,
    key_columns: Sequence[str],
    step: str | None,
    logged: pd.DataFrame | None = None,
    warnings: list[str] | None = None,
) -> tuple[pd.DataFrame, str]:
    """A history table (long or wide) as (long table, step axis name).

    `key_columns` identify the run (joined with '/' when several); `logged`, for wide tables, says which
    cells were logged as opposed to empty; without it every non-missing cell counts as logged.
    """
    missing = [c for c in key_columns if c not in df.columns]
    if missing:
        raise InputError(
            f"history has no run id column {missing[0]!r}; columns are {_preview(df.columns)}", path=path
        )
    step_col = pick_step_axis(df.columns, step)
    if step_col is None:
        wanted = step or "one of " + ", ".join(STEP_AXES[:6])
        raise InputError(
            f"history has no step column ({wanted}); columns are {_preview(df.columns)}", path=path
        )
    metric_col = next((c for c in LONG_METRIC_COLUMNS if c in df.columns), None)
    value_col = next((c for c in LONG_VALUE_COLUMNS if c in df.columns), None)
    if metric_col is not None and value_col is not None:
        key = df[key_columns[0]]
        single = len(key_columns) == 1 and _is_text_category(key)
        out = pd.DataFrame(
            {
                "run_key": _text_labels(key) if single else join_keys(df, key_columns),
                # float64 now, as keyed_history takes it, so the file's own column can be freed after this
                "step": pd.to_numeric(df[step_col], errors="coerce").astype("float64"),
                "metric": _text_labels(df[metric_col])
                if _is_text_category(df[metric_col])
                else df[metric_col].astype("str"),
                "value": pd.to_numeric(df[value_col], errors="coerce").astype("float64"),
            },
            copy=False,  # no defensive copy, no stacking of the float columns
        )
        has_step = out["step"].notna().to_numpy()
        return (out if has_step.all() else out[has_step].reset_index(drop=True)), step_col
    run_key = join_keys(df, key_columns)
    value_cols = [c for c in metric_candidates(list(df.columns), step_col) if c not in key_columns]
    if not value_cols:
        raise InputError("history has no metric columns besides the run id and step", path=path)
    cells = df[value_cols]
    mask = cells.notna() if logged is None else logged[value_cols]
    long = long_from_cells(
        cells, df[step_col], mask, None, "", row_keys=run_key, warnings=warnings, source=path.name
    )
    if long.empty:
        raise InputError("history has no numeric metric values", path=path)
    return long, step_col


def join_keys(df: pd.DataFrame, key_columns: Sequence[str]) -> pd.Series:
    """Run keys as strings; several key columns joined with '/' (vectorized)."""
    key = df[key_columns[0]].astype("string")
    for col in key_columns[1:]:
        key = key + "/" + df[col].astype("string")
    return key


def _is_text_category(column: pd.Series) -> bool:
    return isinstance(column.dtype, pd.CategoricalDtype) and pd.api.types.is_string_dtype(
        column.cat.categories.dtype
    )


def _text_labels(column: pd.Series) -> pd.Series:
    """A categorical text column as `pd.factorize` would number its values: only the values present, in
    order of first appearance (so warnings name the first unknown run key in file order), as the string
    column would give, at the cost of one pass over the integer codes instead of one string per row."""
    found = column.cat.codes.to_numpy()
    present = pd.unique(found)
    present = present[present >= 0]
    renumber = np.full(len(column.cat.categories) + 1, -1, dtype=np.int32)
    renumber[present] = np.arange(len(present), dtype=np.int32)
    labels = column.cat.categories[present].astype("str")
    return pd.Series(pd.Categorical.from_codes(renumber[found], categories=labels), index=column.index)


def _preview(columns: Sequence[object], limit: int = 8) -> str:
    names = [str(c) for c in columns]
    more = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def read_history_file(
    path: Path,
    key_columns: Sequence[str] | None,
    candidates: Sequence[str],
    step: str | None,
    warnings: list[str],
) -> tuple[pd.DataFrame, str]:
    """A history file (CSV, JSON(L), Parquet; long or wide) as a long table and its step axis.

    The run is identified by `key_columns` when given, else by the first of `candidates` present.
    """
    kind = table_kind(path)
    logged = None
    if kind == "csv":
        # only "" is missing: a column holding `nan` tokens stays text and long_from_cells keeps them as
        # logged NaNs, while all-number columns parse at C speed
        df = read_csv_table(path, warnings, na_values=[""])
        logged = df.notna()
    elif kind == "parquet":
        plan = _long_parquet_plan(path, key_columns, candidates, step)
        if plan is not None:
            return _stream_long_parquet(path, plan), plan[1]
        df, logged = _parquet_with_mask(path, [*(key_columns or candidates), *LONG_METRIC_COLUMNS])
    else:
        df = read_table(path, warnings)
    if key_columns is None:
        key = next((c for c in candidates if c in df.columns), None)
        if key is None:
            raise InputError(
                f"history has no run id column ({', '.join(candidates[:6])}, ...); columns "
                f"are {_preview(df.columns)}",
                path=path,
            )
        key_columns = [key]
    return long_from_frame(
        df, path=path, key_columns=key_columns, step=step, logged=logged, warnings=warnings
    )


def _parquet_with_mask(path: Path, labels: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """A Parquet history and, for a wide table, its logged mask (null = not logged; a float NaN was
    logged). A long table (metric and value columns) needs no mask, since each of its rows was logged,
    and its text columns among `labels` (run keys, metric names) are read as categoricals: one string per
    distinct value instead of one per row."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        names = set(schema.names)
        long = bool(names.intersection(LONG_METRIC_COLUMNS)) and bool(names.intersection(LONG_VALUE_COLUMNS))
        text = [
            f.name
            for f in schema
            if f.name in labels and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
        ]
        table = pq.read_table(path, read_dictionary=text if long else None)
    except (pa.ArrowException, OSError) as exc:
        raise unreadable_parquet(exc, path) from None
    if long:
        df = table.to_pandas(self_destruct=True)
        del table
        pa.default_memory_pool().release_unused()  # the decoding buffers, back to the system now
        return df, None
    logged = pd.DataFrame(
        {
            name: pc.invert(pc.is_null(table.column(name))).to_numpy(zero_copy_only=False)
            for name in table.column_names
        }
    )
    return table.to_pandas(), logged


# --- long Parquet histories, streamed ---------------------------------------------------------------------

_BATCH_ROWS = 1 << 17


class _Labels:
    """Global codes of a dictionary-encoded text column read in batches: codes in order of first
    appearance (as `_text_labels` numbers them), in the smallest integer type that holds them so far."""

    def __init__(self, rows: int) -> None:
        self.codes = np.empty(rows, dtype=np.int8)
        self.names = pd.Index([], dtype="object")

    def add(self, array: Any, at: int) -> None:
        """Code the batch `array` (text, dictionary-encoded or not) into rows at..at+len-1."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if not pa.types.is_dictionary(array.type):
            array = pc.dictionary_encode(array)
        indices = array.indices if array.indices.null_count == 0 else pc.fill_null(array.indices, -1)
        found = np.asarray(indices.to_numpy(zero_copy_only=False))
        words: np.ndarray = np.asarray(array.dictionary.to_numpy(zero_copy_only=False), dtype="object")
        blank = np.asarray(pd.isna(words), dtype=bool)  # a null in the dictionary itself: a missing label
        to_global = np.append(self.names.get_indexer(words), -1).astype(np.int64)
        missing = np.array([], dtype=np.int64)
        if not bool(np.all((to_global[:-1] >= 0) | blank)):  # some labels may be new: which, in order
            present = pd.unique(found)
            present = present[present >= 0]
            missing = present[(to_global[present] < 0) & ~blank[present]]
        if len(missing):  # new labels, numbered in order of first appearance
            self.names = self.names.append(pd.Index(words[missing], dtype="object").drop_duplicates())
            to_global[:-1] = self.names.get_indexer(words)
        to_global[:-1][blank] = -1
        kind = next(k for k in (np.int8, np.int16, np.int32, np.int64) if len(self.names) <= np.iinfo(k).max)
        if np.dtype(kind).itemsize > self.codes.dtype.itemsize:
            self.codes = self.codes.astype(kind)
        self.codes[at : at + len(found)] = to_global.astype(self.codes.dtype)[found]


def _numeric_type(kind: Any) -> bool:
    """Integers and 32/64-bit floats: what `pd.to_numeric(...).astype("float64")` turns into the same
    numbers as `_as_float` does (every other type takes the general path)."""
    import pyarrow as pa

    return bool(pa.types.is_integer(kind) or pa.types.is_float32(kind) or pa.types.is_float64(kind))


def _as_float(array: Any) -> np.ndarray:
    """A numeric batch column as float64, nulls as NaN."""
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype="float64")


def _long_parquet_plan(
    path: Path, key_columns: Sequence[str] | None, candidates: Sequence[str], step: str | None
) -> tuple[str, str, str, str] | None:
    """(key, step, metric, value) columns when the file is a long Parquet table that can be streamed
    (one text run key, text metric names, numeric steps and values, no stored pandas index); None for any
    other file, which the general path reads (and reports on) as before."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError):
        return None
    names = list(schema.names)
    if len(set(names)) != len(names):
        return None
    meta = schema.pandas_metadata or {}
    if any(isinstance(c, str) for c in meta.get("index_columns", [])):
        return None
    metric_col = next((c for c in LONG_METRIC_COLUMNS if c in names), None)
    value_col = next((c for c in LONG_VALUE_COLUMNS if c in names), None)
    if key_columns is not None:
        key_col = key_columns[0] if len(key_columns) == 1 else None
    else:
        key_col = next((c for c in candidates if c in names), None)
    step_col = pick_step_axis(names, step)
    if None in (metric_col, value_col, key_col, step_col):
        return None
    cols = (str(key_col), str(step_col), str(metric_col), str(value_col))
    if len(set(cols)) != 4:
        return None

    def text(name: str) -> bool:
        kind = schema.field(name).type
        return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))

    if not (text(cols[0]) and text(cols[2])):
        return None
    if not (_numeric_type(schema.field(cols[1]).type) and _numeric_type(schema.field(cols[3]).type)):
        return None
    return cols


def _stream_long_parquet(path: Path, cols: tuple[str, str, str, str]) -> pd.DataFrame:
    """A long Parquet history read in batches straight into compact arrays, already in the Sweep's row
    order (run key in order of first appearance, metric alphabetical, step) and without repeated
    (run key, metric, step) rows (the last is kept).

    Two passes over the file: the run keys, metrics and steps first, to find where each row goes; then
    the steps and values, each batch written to its final rows. So neither the file's string table nor
    a second copy of a float column is ever held. Rows without a step are left out; rows without a key or
    metric follow the others in file order (`keyed_history` leaves them out). `attrs[DEDUP_ATTR]` says
    what the dropped repeats would have told `keyed_history` and `varying_history_metrics`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    key_col, step_col, metric_col, value_col = cols
    # decoding buffers come from an allocator that gives them back as soon as they are freed (see
    # `_streaming_pool`), on this thread: worker threads would each keep an arena of freed pages, and
    # on 2 cores the batches decode as fast without them
    pool = pa.default_memory_pool()
    system = _streaming_pool()
    pa.set_memory_pool(system)
    handle = None
    try:
        handle = pa.OSFile(str(path), mode="r", memory_pool=system)
        source = pq.ParquetFile(handle, read_dictionary=[key_col, metric_col], pre_buffer=False)
        n = source.metadata.num_rows
        keys, metrics = _Labels(n), _Labels(n)
        steps = np.empty(n, dtype="float64")
        at = 0
        for batch in source.iter_batches(
            batch_size=_BATCH_ROWS, columns=[key_col, metric_col, step_col], use_threads=False
        ):
            size = batch.num_rows
            keys.add(batch.column(key_col), at)
            metrics.add(batch.column(metric_col), at)
            steps[at : at + size] = _as_float(batch.column(step_col))
            at += size
            del batch
        if at != n:
            raise OSError(f"expected {n} rows, read {at}")
        # metric codes renumbered alphabetically, as keyed_history ranks them
        metric_names = [str(m) for m in metrics.names]
        ranked = sorted(metric_names)
        place = {m: i for i, m in enumerate(ranked)}
        rank = np.array([place[m] for m in metric_names] + [-1], dtype=metrics.codes.dtype)
        columns = [keys.codes, rank[metrics.codes], steps]
        key_names = [str(k) for k in keys.names]
        del keys, metrics, rank, steps
        system.release_unused()  # the first pass's decoding buffers, before the float columns are made
        scatter, key, metric, dropped = _placement(columns)
        steps = np.empty(len(key), dtype="float64")
        values = np.empty(len(key), dtype="float64")
        late: list[tuple[np.ndarray, np.ndarray]] = []
        at = 0
        for batch in source.iter_batches(
            batch_size=_BATCH_ROWS, columns=[step_col, value_col], use_threads=False
        ):
            step_chunk, value_chunk = _as_float(batch.column(0)), _as_float(batch.column(1))
            size = len(value_chunk)
            where = scatter.rows(at, size)
            if where is None:
                steps[at : at + size] = step_chunk
                values[at : at + size] = value_chunk
            elif not scatter.drops:
                steps[where] = step_chunk
                values[where] = value_chunk
            else:
                kept = where >= 0
                steps[where[kept]] = step_chunk[kept]
                values[where[kept]] = value_chunk[kept]
                repeat = where <= -2
                if repeat.any():
                    late.append((value_chunk[repeat], -2 - where[repeat].astype(np.int64)))
            at += size
            del batch, step_chunk, value_chunk
    except (pa.ArrowException, OSError) as exc:
        raise unreadable_parquet(exc, path) from None
    finally:
        if handle is not None:
            handle.close()
        pa.set_memory_pool(pool)
        system.release_unused()
    del scatter
    varying: list[str] = []
    if late:  # a repeat that differs from the row kept for it makes its metric vary
        mine = np.concatenate([v for v, _ in late])
        partner = np.concatenate([p for _, p in late])
        other = values[partner]
        differs = ~((mine == other) | (np.isnan(mine) & np.isnan(other)))
        varying = [ranked[m] for m in np.unique(metric[partner[differs]])]
    out = pd.DataFrame(
        {
            "run_key": pd.Categorical.from_codes(key, categories=key_names),
            "step": steps,
            "metric": pd.Categorical.from_codes(metric, categories=ranked),
            "value": values,
        },
        copy=False,
    )
    out.attrs[DEDUP_ATTR] = {"repeats": dropped, "varying": varying}
    return out


def _streaming_pool() -> Any:
    """The allocator for decoding a streamed history: arrow's jemalloc, giving freed pages back at once
    (a setting of that allocator only, which reportgen uses for nothing else), else the system's. Arrow's
    default, mimalloc, keeps the freed pages of its worker threads: some 100 MB over a 10-million-row
    file, which would count in the peak."""
    import pyarrow as pa

    try:
        pa.jemalloc_set_decay_ms(0)
        return pa.jemalloc_memory_pool()
    except (NotImplementedError, pa.ArrowException):
        return pa.system_memory_pool()


class _Scatter:
    """Where each file row goes: its row in the history, -1 when it is left out, -2 - r when it repeats
    row r (which is kept instead). Held as one destination per row, as whole blocks moved (file blocks
    `starts`, each going to `targets`), or as nothing when every row stays where it is."""

    def __init__(
        self,
        dest: np.ndarray | None = None,
        starts: np.ndarray | None = None,
        targets: np.ndarray | None = None,
    ) -> None:
        self.dest, self.starts, self.targets = dest, starts, targets

    def rows(self, at: int, size: int) -> np.ndarray | None:
        """The destinations of file rows at..at+size-1; None when they stay where they are."""
        if self.dest is not None:
            return self.dest[at : at + size]
        if self.starts is None or self.targets is None:
            return None
        # the blocks these rows fall in, each cut to the rows: every row moves by its block's shift
        first = int(np.searchsorted(self.starts, at, side="right")) - 1
        stop = int(np.searchsorted(self.starts, at + size, side="left"))
        bounds = np.clip(np.append(self.starts[first:stop], self.starts[stop - 1] + 1), at, at + size)
        bounds[-1] = at + size
        shift = self.targets[first:stop] - self.starts[first:stop]
        rows = np.arange(at, at + size, dtype=np.int64)
        rows += np.repeat(shift, np.diff(bounds))
        return rows

    @property
    def drops(self) -> bool:
        """Whether some rows are left out or repeat another."""
        return self.dest is not None


def _placement(columns: list[np.ndarray]) -> tuple[_Scatter, np.ndarray, np.ndarray, np.ndarray]:
    """(where each file row goes, the key and metric codes in their final order, the number of dropped
    repeats per key code). `columns` (key codes, metric codes, steps in file order) is emptied, so each
    old column is freed as soon as it is not needed.

    A clean file written curve by curve, or metric by metric (every row complete, each curve's blocks in
    step order, no repeats), moves whole blocks: no index as long as the history is made at all."""
    key, metric, steps = columns
    columns.clear()
    n = len(steps)
    complete = _complete_rows(key, metric, steps)
    if complete is None and n:
        found = block_order(key, metric, steps)
        if found is not None and not _block_repeats(key, metric, steps, *found):
            blocks, by_key = found
            moved = blocks.pick(by_key)
            del steps
            key = np.repeat(key[moved.starts], moved.sizes)
            metric = np.repeat(metric[moved.starts], moved.sizes)
            if bool(np.all(by_key == np.arange(len(by_key)))):
                return _Scatter(), key, metric, np.zeros(0, dtype=np.int64)
            targets = np.empty(len(blocks), dtype=np.int64)
            targets[by_key] = moved.offsets()
            return _Scatter(starts=blocks.starts, targets=targets), key, metric, np.zeros(0, dtype=np.int64)
    index = np.int32 if n < np.iinfo(np.int32).max else np.int64
    rows: np.ndarray | None = None
    rest = np.array([], dtype=index)
    tail: list[np.ndarray] = []
    if complete is not None:
        rows = np.flatnonzero(complete).astype(index)
        rest = np.flatnonzero(~complete & ~np.isnan(steps)).astype(index)
        # rows without a key or metric go after the others, in file order
        tail = [key[rest], metric[rest]]
        key, metric, steps = key[rows], metric[rows], steps[rows]
    del complete
    order = row_order(key, metric, steps)
    if order is not None:
        key = key[order]
        metric = metric[order]
        steps = steps[order]
    repeat = repeated_rows(key, metric, steps)
    del steps
    dropped = np.zeros(0, dtype=np.int64)
    newpos: np.ndarray | None = None
    if repeat is not None:
        kept_before = np.cumsum(~repeat, dtype=index)  # kept rows up to and including each row
        newpos = kept_before - 1
        newpos[repeat] = -2 - kept_before[repeat]  # a repeat's partner: the next kept row
        del kept_before
        dropped = np.bincount(key[repeat], minlength=int(key.max()) + 1)
        keep = ~repeat
        key, metric = key[keep], metric[keep]
        del keep, repeat
    placed = newpos
    if order is not None:
        placed = np.empty(len(order), dtype=index)
        placed[order] = np.arange(len(order), dtype=index) if newpos is None else newpos
    del order, newpos
    if rows is None:
        return _Scatter(dest=placed), key, metric, dropped
    dest = np.full(n, -1, dtype=index)
    dest[rows] = np.arange(len(rows), dtype=index) if placed is None else placed
    del placed, rows
    if len(rest):
        dest[rest] = len(key) + np.arange(len(rest), dtype=index)
        key, metric = np.concatenate([key, tail[0]]), np.concatenate([metric, tail[1]])
    return _Scatter(dest=dest), key, metric, dropped


def _complete_rows(key: np.ndarray, metric: np.ndarray, steps: np.ndarray) -> np.ndarray | None:
    """The rows with a key, a metric and a step; None when that is every row (checked in chunks)."""
    for at in range(0, len(steps), _BATCH_ROWS):
        rows = slice(at, at + _BATCH_ROWS)
        if bool((key[rows] < 0).any() or (metric[rows] < 0).any() or np.isnan(steps[rows]).any()):
            return (key >= 0) & (metric >= 0) & ~np.isnan(steps)
    return None


def _block_repeats(
    key: np.ndarray, metric: np.ndarray, steps: np.ndarray, blocks: Segments, by_key: np.ndarray
) -> bool:
    """Whether moving the blocks in this order would leave a (key, metric, step) on two neighbouring
    rows: one step twice inside a block, or where a block ends and the next of its curve begins."""
    for at in range(0, len(steps) - 1, _BATCH_ROWS):
        stop = min(at + _BATCH_ROWS, len(steps) - 1)
        same = np.flatnonzero(steps[at + 1 : stop + 1] == steps[at:stop]) + at + 1
        if len(same) and not sorted_subset(same, blocks.starts):
            return True
    first, last = blocks.starts[by_key], blocks.lasts[by_key]
    joins = (key[first[1:]] == key[first[:-1]]) & (metric[first[1:]] == metric[first[:-1]])
    return bool(np.any(joins & (steps[last[:-1]] == steps[first[1:]])))
