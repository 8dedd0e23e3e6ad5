"""Column typing for raw tables: numbers, booleans and text, decided per column and vectorized.

Exports spell the same value many ways: `1e-3`, `"0.001"`, `1,000`, `Infinity`, `TRUE`, and JSON mixes
numbers and strings in one column. This module makes each column one type and says what it had to coerce,
so a mostly-numeric column with a stray `"n/a-crashed"` cell becomes numeric with that cell missing (and a
warning naming the column and row) instead of silently turning into a category.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

# A column is numeric when at least this share of its non-empty cells parse as numbers.
NUMERIC_SHARE = 0.9

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_BOOL_WORDS = {"true": True, "false": False}


def _is_text(series: pd.Series) -> bool:
    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


def coerce_column(series: pd.Series, source: str, warnings: list[str]) -> pd.Series:
    """One column made numeric, boolean or text; mixed cells are reported, not dropped silently."""
    if not _is_text(series):
        return series
    present = series.dropna()
    if present.empty:
        return pd.Series(np.nan, index=series.index, dtype="float64", name=series.name)
    structured = present.map(lambda v: isinstance(v, (dict, list)))
    if structured.any():
        return series  # nested values (media dicts, lists): left for the caller to ignore
    text = present.astype(str).str.strip()
    lowered = text.str.lower()
    if lowered.isin(_BOOL_WORDS.keys()).all():
        out = pd.Series(pd.NA, index=series.index, dtype="boolean", name=series.name)
        out.loc[present.index] = lowered.map(_BOOL_WORDS).astype(bool)
        return out
    if text.str.match(_THOUSANDS).any():
        plain = text.str.replace(",", "", regex=False)
        if (text.str.match(_THOUSANDS) | text.str.fullmatch(r"[+-]?\d+(\.\d+)?")).all():
            text = plain
            warnings.append(f"{source}: column {series.name!r} read thousands separators as digits")
    numbers = pd.to_numeric(text, errors="coerce")
    parsed = numbers.notna()
    if parsed.all() or (parsed.mean() >= NUMERIC_SHARE and parsed.any()):
        if not parsed.all():
            bad = text[~parsed]
            warnings.append(
                f"{source}: column {series.name!r} is numeric but {len(bad)} cell(s) are not "
                f"(first: {bad.iloc[0]!r} in row {_row_label(bad.index[0])}); read as missing"
            )
        out = pd.Series(np.nan, index=series.index, dtype="float64", name=series.name)
        out.loc[present.index] = numbers.to_numpy(dtype="float64")
        # integers with gaps stay float64: numpy-friendly, and the schema records the kind as "int"
        if _all_integral(out) and not out.isna().any():
            return out.astype("int64")
        return out
    if parsed.any():
        warnings.append(f"{source}: column {series.name!r} mixes numbers and text; read as text")
    return series.where(series.isna(), series.astype(str)).astype("str")


def _all_integral(values: pd.Series) -> bool:
    finite = values[np.isfinite(values.to_numpy(dtype="float64", na_value=np.nan))]
    if finite.empty or len(finite) != values.notna().sum():
        return False
    arr = finite.to_numpy(dtype="float64")
    return bool(np.all(arr == np.round(arr)) and np.all(np.abs(arr) < 2**53))


def _row_label(index: object) -> str:
    # data rows are 1-based after the header, as a spreadsheet shows them
    return str(int(index) + 2) if isinstance(index, (int, np.integer)) else str(index)


def coerce_frame(
    df: pd.DataFrame, source: str, warnings: list[str], keep_text: frozenset[str] = frozenset()
) -> pd.DataFrame:
    """Every column of a raw table typed by `coerce_column`, except `keep_text` columns (run ids)."""
    return pd.DataFrame(
        {
            col: df[col] if col in keep_text else coerce_column(df[col], source, warnings)
            for col in df.columns
        },
        index=df.index,
    )
