"""Run ids: unique strings from the export's id column, a composite key, or display names.

Trackers do not all have unique ids: W&B display names repeat across the seeds of one recipe, and plain
tables may have none at all. Every run keeps its own row; repeated ids are made unique in a way a reader
can trace back (the seed when a seed column tells runs apart, else the order in the file), and said so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reportgen.io.history import join_keys

SEED_CANDIDATES = ("seed", "random_seed", "random_state", "outer_seed")


def run_ids(
    df: pd.DataFrame,
    key_cols: list[str] | None,
    id_col: str | None,
    name_col: str | None,
    warnings: list[str],
) -> tuple[pd.Series, str]:
    """Unique string run ids, and a note of where they came from."""
    if key_cols:
        ids, source = join_keys(df, key_cols), "/".join(key_cols)
    elif id_col is not None:
        ids, source = id_strings(df[id_col]), id_col
    elif name_col is not None and name_col in df.columns:
        ids, source = df[name_col].astype("string"), name_col
    else:
        warnings.append(
            "no run id column (run_id, id, trial_id, number, Name, ...); runs are numbered "
            "by row (row-1, row-2, ...)"
        )
        return pd.Series([f"row-{i + 1}" for i in range(len(df))], dtype="string"), "row number"
    missing = ids.isna() | (ids.str.strip() == "")
    if missing.any():
        first = int(np.flatnonzero(missing.to_numpy())[0])
        warnings.append(
            f"{int(missing.sum())} run(s) have no id in {source!r} (first: row {first + 2}); named row-N"
        )
        ids = ids.mask(missing, pd.Series([f"row-{i + 1}" for i in range(len(df))], dtype="string"))
    if ids.duplicated().any():
        ids = _disambiguate(df, ids, source, warnings)
    return ids, source


def id_strings(col: pd.Series) -> pd.Series:
    """Ids as text; integral floats (ids read next to missing cells) without a trailing `.0`."""
    if pd.api.types.is_float_dtype(col.dtype):
        arr = col.to_numpy(dtype="float64")
        finite = arr[~np.isnan(arr)]
        if np.all(finite == np.round(finite)) and np.all(np.abs(finite) < 2**53):
            return col.astype("Int64").astype("string")
    return col.astype("string")


def _disambiguate(df: pd.DataFrame, ids: pd.Series, source: str, warnings: list[str]) -> pd.Series:
    """Repeated ids (W&B display names shared by seeds) made unique: NAME-seedS when a seed column tells
    them apart, else NAME#k in file order. The original stays in the `name` column."""
    dup = ids.duplicated(keep=False)
    seed_col = next((c for c in SEED_CANDIDATES if c in df.columns), None)
    if seed_col is not None:
        candidate = ids.where(~dup, ids + "-seed" + id_strings(df[seed_col]).fillna("?"))
        if not candidate.duplicated().any():
            warnings.append(
                f"{int(dup.sum())} runs share {ids[dup].nunique()} ids in {source!r}; "
                f"made unique as <{source}>-seed<{seed_col}>"
            )
            return candidate
    order = ids.groupby(ids).cumcount() + 1
    candidate = ids.where(~dup, ids + "#" + order.astype("string"))
    if candidate.duplicated().any():  # an export already holding "NAME#2" next to two "NAME"s
        candidate = candidate.where(
            ~candidate.duplicated(keep=False), candidate + "@row" + (ids.index + 2).astype(str)
        )
    warnings.append(
        f"{int(dup.sum())} runs share {ids[dup].nunique()} ids in {source!r}; made unique as "
        f"<{source}>#k in file order"
    )
    return candidate
