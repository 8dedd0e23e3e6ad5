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

import numpy as np
import pandas as pd

from reportgen.errors import InputError
from reportgen.io.infer import STEP_AXES, is_meta, pick_step_axis
from reportgen.io.tables import (
    parse_csv_text,
    read_csv_table,
    read_table,
    read_text,
    sniff_delimiter,
    table_kind,
)

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
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"not a readable Parquet file ({first})", path=path) from None
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
