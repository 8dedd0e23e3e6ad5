"""Which runs-table columns are parameters, which are metrics, and which describe the run (ignored).

Order of authority: the user's --params/--metrics, then what the format states (config vs summary), then
metadata names and nested values (ignored), then the history (a metric that changes within a run), then
W&B's summary block, then the name and value rules of `infer.split_roles`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from reportgen.errors import InputError
from reportgen.io import infer
from reportgen.io.options import LoadOptions
from reportgen.io.raw import RawSweep
from reportgen.io.run_history import codes
from reportgen.sweep import Source

# W&B summary bookkeeping: after these, an API dump's columns are summary values
_WANDB_SUMMARY_MARKERS = ("_runtime", "_step", "_timestamp")


def require_columns(df: pd.DataFrame, cols: Sequence[str], path: str, flag: str) -> None:
    """A flag naming columns that do not exist is a one-line error listing the columns there are."""
    for col in cols:
        if col not in df.columns:
            raise InputError(
                f"{flag} names {col!r}, which is not a column; columns are "
                f"{', '.join(map(str, list(df.columns)[:12]))}",
                path=path,
            )


def varying_history_metrics(history: pd.DataFrame | None) -> set[str]:
    """History metrics that change within some run. A value logged constant at every step (a W&B
    history echoing `seed` from the config) is config, and is left to the usual role inference.

    A (run key, metric) series varies when one of its values differs from any one of its values (NaN
    equal to NaN, as `nunique(dropna=False)` counts them): two passes over integer codes, in chunks of
    rows so that no temporary spans the whole history."""
    if history is None or history.empty:
        return set()
    keys, _ = codes(history["run_key"])
    metrics, names = codes(history["metric"])
    value = history["value"].to_numpy(dtype="float64")
    width = max(len(names), 1)
    dense = (int(keys.max()) + 1) * width <= 4 * len(value) + _CHUNK
    # few rows for many (key, metric) pairs: number the pairs that occur, with one hash over the rows
    numbered = None if dense else pd.factorize(keys.astype(np.int64) * width + metrics)[0]

    def series(rows: slice) -> tuple[np.ndarray, np.ndarray]:
        """(series number, known) of a chunk of rows; missing keys and metrics are not known."""
        known = (keys[rows] >= 0) & (metrics[rows] >= 0)
        number = keys[rows].astype(np.int64) * width + metrics[rows] if numbered is None else numbered[rows]
        return np.where(known, number, 0), known

    chunks = [slice(at, at + _CHUNK) for at in range(0, len(value), _CHUNK)]
    size = (int(keys.max()) + 1) * width if numbered is None else int(numbered.max()) + 1
    reference = np.full(max(size, 1), np.nan)
    for rows in chunks:  # repeated numbers keep one of their values: any one will do
        number, known = series(rows)
        reference[number[known]] = value[rows][known]
    varying = np.zeros(width, dtype=bool)
    for rows in chunks:
        number, known = series(rows)
        mine, other = value[rows], reference[number]
        differs = known & ~((mine == other) | (np.isnan(mine) & np.isnan(other)))
        varying[metrics[rows][differs]] = True
    return {names[m] for m in np.flatnonzero(varying)}


_CHUNK = 1 << 16


def split_columns(
    df: pd.DataFrame,
    raw: RawSweep,
    options: LoadOptions,
    used: set[str],
    hist_metrics: set[str],
    path: str,
    warnings: list[str],
) -> tuple[list[str], list[str], list[str]]:
    """(params, metrics, ignored) among the columns that are not id/name/state/runtime/created."""
    cols = [c for c in df.columns if c not in used]
    if options.params:
        require_columns(df, options.params, path, "--params")
    if options.metrics:
        require_columns(df, options.metrics, path, "--metrics")
    flag_params = set(options.params or ())
    flag_metrics = set(options.metrics or ())
    fmt_params = set(raw.param_columns or ())
    fmt_metrics = set(raw.metric_columns or ())
    ignore = set(raw.ignore_columns)
    summary_block = _wandb_summary_block(cols)
    params: list[str] = []
    metrics: list[str] = []
    ignored: list[str] = []
    undecided: list[str] = []
    for col in cols:
        series = df[col]
        if col in flag_params:
            params.append(col)
        elif col in flag_metrics:
            metrics.append(col)
        elif col in ignore or infer.is_meta(col) or _structured(series):
            ignored.append(col)
        elif col in fmt_params:
            params.append(col)
        elif col in fmt_metrics or col in hist_metrics or col in summary_block:
            metrics.append(col)
        elif _identifier(series, col):
            ignored.append(col)
        else:
            undecided.append(col)
    guessed_params, guessed_metrics = infer.split_roles(df, undecided)
    params += guessed_params
    metrics += guessed_metrics
    text_metrics = [
        m
        for m in metrics
        if not pd.api.types.is_numeric_dtype(df[m].dtype) or pd.api.types.is_bool_dtype(df[m].dtype)
    ]
    for col in text_metrics:
        if col in flag_metrics:
            raise InputError("--metrics names a column that is not numeric", path=path, column=col)
        if df[col].notna().any():
            warnings.append(f"column {col!r} looks like a metric but holds text; ignored")
        ignored.append(col)
    metrics = [m for m in metrics if m not in text_metrics]
    order = {c: i for i, c in enumerate(df.columns)}
    return (
        sorted(params, key=order.__getitem__),
        sorted(metrics, key=order.__getitem__),
        sorted(ignored, key=order.__getitem__),
    )


def _wandb_summary_block(cols: Sequence[str]) -> set[str]:
    """In a flattened W&B API dump, every column from the first summary bookkeeping key on is summary."""
    idx = next((i for i, c in enumerate(cols) if c in _WANDB_SUMMARY_MARKERS), None)
    return set(cols[idx:]) if idx is not None else set()


def _structured(series: pd.Series) -> bool:
    """Nested values (dicts, lists, or their text forms like W&B media entries) are not params."""
    present = series.dropna()
    if present.empty or pd.api.types.is_numeric_dtype(series.dtype):
        return False
    first = present.iloc[0]
    if isinstance(first, (dict, list)):
        return True
    text = present.astype(str).str.lstrip()
    return bool(text.str.startswith(("{", "[")).mean() > 0.5)


def _identifier(series: pd.Series, name: str) -> bool:
    """A per-run unique text key (hash, uuid, config key) describes the run, not the experiment."""
    lowered = name.lower()
    if not (lowered.endswith(("_id", "_key", "uuid", "hash")) or lowered in ("key", "uuid", "hash")):
        return False
    return bool(series.is_unique and len(series) > 1)


def role_source(name: str, flagged: Sequence[str] | None, fmt: Sequence[str] | None) -> Source:
    if flagged and name in flagged:
        return "flag"
    if fmt and name in fmt:
        return "format"
    return "inferred"
