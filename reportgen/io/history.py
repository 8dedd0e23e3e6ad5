"""Per-step histories: long or wide tables turned into one long table (run_key, step, metric, value).

A *missing* cell and a *logged NaN* are different facts: W&B histories are sparse (each metric logged on
its own steps, the rest of the row empty), while a diverged run logs `nan`. So in a wide CSV an empty cell
means "not logged at this step" and is dropped, while the literal tokens `nan`/`NaN`/`inf` are kept as
values; in Parquet a null is "not logged" and a float NaN is a logged NaN. In a long table every row was
logged, so a NaN value is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from reportgen.errors import InputError
from reportgen.io.infer import is_meta, pick_step_axis
from reportgen.io.tables import read_csv_table, read_table, table_kind

LONG_METRIC_COLUMNS = ("metric", "key", "metric_name")
LONG_VALUE_COLUMNS = ("value", "metric_value")
# W&B system columns that are bookkeeping, not learning curves
_SYSTEM = {"_timestamp", "_runtime", "_wandb", "timestamp", "time_this_iter_s", "time_total_s", "done"}


def long_from_frame(
    df: pd.DataFrame,
    *,
    path: Path,
    key_columns: Sequence[str],
    step: str | None,
    logged: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, str]:
    """A history table (long or wide) as (long table, step axis name).

    `key_columns` identify the run (joined with '/' when several); `logged`, for wide tables, says
    which cells were logged (True) as opposed to empty; without it every non-NaN cell counts as logged.
    """
    missing = [c for c in key_columns if c not in df.columns]
    if missing:
        raise InputError(
            f"history has no run id column {missing[0]!r}; columns are {_preview(df.columns)}",
            path=path,
        )
    step_col = pick_step_axis(df.columns, step)
    if step_col is None:
        wanted = step or "one of step, _step, epoch, iteration, training_iteration, iter"
        raise InputError(f"history has no step column ({wanted}); columns are {_preview(df.columns)}",
                         path=path)
    run_key = join_keys(df, key_columns)
    steps = pd.to_numeric(df[step_col], errors="coerce")
    metric_col = next((c for c in LONG_METRIC_COLUMNS if c in df.columns), None)
    value_col = next((c for c in LONG_VALUE_COLUMNS if c in df.columns), None)
    if metric_col is not None and value_col is not None:
        out = pd.DataFrame(
            {
                "run_key": run_key,
                "step": steps,
                "metric": df[metric_col].astype("string"),
                "value": pd.to_numeric(df[value_col], errors="coerce").astype("float64"),
            }
        )
        return out[out["step"].notna()], step_col
    value_cols = [
        c for c in df.columns
        if c not in (*key_columns, step_col) and str(c) not in _SYSTEM and not is_meta(str(c))
        and c not in LONG_METRIC_COLUMNS
    ]
    numeric = {c: pd.to_numeric(df[c], errors="coerce") for c in value_cols}
    value_cols = [c for c in value_cols if numeric[c].notna().any() or _has_logged(logged, c)]
    if not value_cols:
        raise InputError("history has no numeric metric columns", path=path)
    n = len(df)
    values = np.concatenate([numeric[c].to_numpy(dtype="float64") for c in value_cols])
    if logged is not None:
        mask = np.concatenate([logged[c].to_numpy(dtype=bool) for c in value_cols])
    else:
        mask = ~np.isnan(values)
    out = pd.DataFrame(
        {
            "run_key": np.tile(run_key.to_numpy(dtype=object), len(value_cols)),
            "step": np.tile(steps.to_numpy(dtype="float64"), len(value_cols)),
            "metric": pd.Categorical.from_codes(np.repeat(np.arange(len(value_cols)), n),
                                                categories=[str(c) for c in value_cols]),
            "value": values,
        }
    )
    keep = mask & ~np.isnan(out["step"].to_numpy())
    return out[keep].reset_index(drop=True), step_col


def _has_logged(logged: pd.DataFrame | None, col: str) -> bool:
    return logged is not None and bool(logged[col].any())


def join_keys(df: pd.DataFrame, key_columns: Sequence[str]) -> pd.Series:
    """Run keys as strings; several key columns joined with '/' (vectorized)."""
    key = df[key_columns[0]].astype("string")
    for col in key_columns[1:]:
        key = key + "/" + df[col].astype("string")
    return key


def _preview(columns: Sequence[object], limit: int = 8) -> str:
    names = [str(c) for c in columns]
    more = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def read_wide_csv(path: Path, warnings: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A CSV history as (text frame, mask of logged cells).

    Read with only the empty string as missing, so `nan` tokens survive as text and mark logged NaNs;
    `long_from_frame` parses the numbers.
    """
    text_frame = read_csv_table(path, warnings, na_values=[""], dtype=str)
    return text_frame, text_frame.notna()


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
        df, logged = read_wide_csv(path, warnings)
    elif kind == "parquet":
        df, logged = _parquet_with_mask(path)
    else:
        df = read_table(path, warnings)
    if key_columns is None:
        key = next((c for c in candidates if c in df.columns), None)
        if key is None:
            raise InputError(f"history has no run id column ({', '.join(candidates[:6])}, ...); columns "
                             f"are {_preview(df.columns)}", path=path)
        key_columns = [key]
    return long_from_frame(df, path=path, key_columns=key_columns, step=step, logged=logged)


def _parquet_with_mask(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from reportgen.io.tables import read_parquet_table

    df = read_parquet_table(path)  # validates and converts
    table = pq.read_table(path)
    logged = pd.DataFrame(
        {name: ~pc.is_null(table.column(name)).to_numpy(zero_copy_only=False) for name in table.column_names}
    )
    return df, logged
