"""Learning-curve tables: one row per run *and step* (LCDB, a `run.history()` concatenation), split into
a runs table and a long history."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from reportgen.io.history import join_keys, long_from_cells


def is_wide_history(df: pd.DataFrame, key_cols: Sequence[str], step_col: str, explicit: bool) -> bool:
    """One row per run *and step*: the key repeats, and (key, step) pairs are unique with steps varying
    within runs. A runs table with a constant `iter` summary column and shared display names is not."""
    keys = list(key_cols)
    if not df.duplicated(subset=keys).any():
        return False
    if explicit:
        return True
    return not df.duplicated(subset=[*keys, step_col]).any()


def runs_from_wide(
    df: pd.DataFrame, key_cols: Sequence[str], step_col: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a learning-curve table (one row per run and step) into runs and a long history.

    Columns constant within every run become run columns (config); the rest are per-step metrics.
    """
    grouped = df.groupby(list(key_cols), sort=False, dropna=False)
    others = [c for c in df.columns if c not in key_cols and c != step_col]
    varying = grouped[others].nunique(dropna=False).gt(1).any() if others else pd.Series(dtype=bool)
    constant = [c for c in others if not bool(varying.get(c, False))]
    metric_cols = [c for c in others if c not in constant and pd.api.types.is_numeric_dtype(df[c].dtype)]
    runs = (
        grouped[list(constant)].first().reset_index()
        if constant
        else grouped.size().reset_index()[list(key_cols)]
    )
    metrics = df[metric_cols]
    history = long_from_cells(
        metrics, df[step_col], metrics.notna(), None, "", row_keys=join_keys(df, key_cols)
    )
    return runs, history
