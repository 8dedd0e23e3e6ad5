"""W&B per-step histories: wide sparse tables to the long `run_key, step, metric, value` layout.

W&B logs each metric on its own steps, so a wide history (a `run.history()` dump, a chart export, the
`history` records of an API dump) is mostly holes. A hole means "not logged at this step" and is dropped;
a value logged as NaN is a fact (a diverged loss) and is kept as NaN. The caller says which cells were
logged, because only the format knows: in CSV an empty cell is a hole and the literal `nan`/`NaN` token is
a logged NaN; in JSON an absent key is a hole and the bare `NaN` token is a logged NaN.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from reportgen.errors import InputError
from reportgen.io.tables import decode_text

STEP_AXES = ("_step", "step", "epoch", "iteration", "training_iteration", "iter")
"""Step columns in order of preference; W&B's own `_step` counts every `log()` call."""

HISTORY_COLUMNS = ["run_key", "step", "metric", "value"]
_NAN_TOKENS = {"nan", "+nan", "-nan"}


def empty_history() -> pd.DataFrame:
    """A long history with no rows but the right columns and dtypes."""
    return pd.DataFrame(
        {
            "run_key": pd.Series(dtype="str"),
            "step": pd.Series(dtype="float64"),
            "metric": pd.Series(dtype="str"),
            "value": pd.Series(dtype="float64"),
        }
    )


def choose_step_axis(columns: Sequence[str]) -> str | None:
    """The preferred step column among `columns`, or None."""
    present = set(columns)
    return next((axis for axis in STEP_AXES if axis in present), None)


def metric_candidates(columns: Sequence[str], step_axis: str | None) -> list[str]:
    """Columns that may hold metrics: not W&B internals (`_timestamp`, `_runtime`) and not a step axis."""
    return [c for c in columns if not str(c).startswith("_") and c != step_axis and c not in STEP_AXES]


def csv_nan_tokens(cells: pd.DataFrame) -> pd.DataFrame:
    """Where text cells hold a literal NaN token (`nan`, `NaN`): logged NaN values, not holes."""
    return cells.apply(lambda col: col.astype("str").str.strip().str.lower().isin(_NAN_TOKENS))


def long_from_cells(
    cells: pd.DataFrame,
    steps: pd.Series,
    logged: pd.DataFrame,
    nan_token: pd.DataFrame,
    run_keys: pd.Series | str,
) -> pd.DataFrame:
    """Melt wide raw cells into the long history, keeping only logged cells.

    `cells` holds the raw values (text or JSON scalars), one column per metric; `logged` and `nan_token`
    are same-shaped masks. A column with any logged cell that is neither a number nor a NaN token (a
    media dict, a caption) is not a metric and is dropped whole. `run_keys` is one key for all columns or
    one key per column (a chart export holds many runs).
    """
    values = cells.apply(pd.to_numeric, errors="coerce").astype("float64")
    textual = (logged & values.isna() & ~nan_token).any(axis=0)
    keep_cols = [i for i, bad in enumerate(textual.to_numpy()) if not bad]
    if not keep_cols:
        return empty_history()
    values = values.iloc[:, keep_cols]
    keep = logged.iloc[:, keep_cols].to_numpy(dtype=bool)
    names = np.asarray([str(c) for c in values.columns], dtype=object)
    if isinstance(run_keys, str):
        keys = np.full(len(names), run_keys, dtype=object)
    else:
        keys = np.asarray(run_keys, dtype=object)[keep_cols]
    n_rows = len(values)
    step_values = pd.to_numeric(steps, errors="coerce").to_numpy(dtype="float64")
    # column-major ravel: all rows of the first column, then the next, as np.repeat/np.tile lay them out
    flat_keep = keep.ravel(order="F") & np.tile(~np.isnan(step_values), len(names))
    long = pd.DataFrame(
        {
            "run_key": np.repeat(keys, n_rows),
            "step": np.tile(step_values, len(names)),
            "metric": np.repeat(names, n_rows),
            "value": values.to_numpy(dtype="float64").ravel(order="F"),
        }
    )[flat_keep]
    long = long.astype({"run_key": "str", "metric": "str"})
    return long.sort_values(["run_key", "metric", "step"], kind="stable").reset_index(drop=True)


def read_sparse_csv(path: Path, warnings: list[str]) -> tuple[list[str], pd.DataFrame]:
    """A CSV as its header and text cells, so empty cells stay distinguishable from `NaN` tokens.

    Columns are positional (0..n-1) because chart exports may repeat a header (runs sharing a name).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror or type(exc).__name__})", path=path) from None
    if b"\x00" in data[:65536]:
        raise InputError("binary content where a W&B CSV export was expected", path=path)
    text = decode_text(path, data, warnings)
    try:
        header = next(csv.reader(io.StringIO(text)), None)
        if not header:
            raise InputError("empty file; expected a CSV header row", path=path)
        cells = pd.read_csv(
            io.StringIO(text),
            header=None,
            skiprows=1,
            names=list(range(len(header))),
            dtype="str",
            keep_default_na=False,
            na_filter=False,
        )
    except pd.errors.EmptyDataError:
        cells = pd.DataFrame({i: pd.Series(dtype="str") for i in range(len(header))})
    except (pd.errors.ParserError, csv.Error) as exc:
        raise InputError(f"malformed CSV ({' '.join(str(exc).split())})", path=path) from None
    return [h.strip() for h in header], cells


def _history_file(path: Path, run_key: str, warnings: list[str]) -> pd.DataFrame:
    header, cells = read_sparse_csv(path, warnings)
    step_axis = choose_step_axis(header)
    if step_axis is None:
        warnings.append(f"{path.name}: no step column ({', '.join(STEP_AXES)}); using the row number")
        steps = pd.Series(np.arange(len(cells), dtype="float64"))
    else:
        steps = cells[header.index(step_axis)]
    metrics = set(metric_candidates(header, step_axis))
    metric_idx = [i for i, name in enumerate(header) if name in metrics]
    raw = cells[metric_idx]
    raw.columns = [header[i] for i in metric_idx]
    logged = raw.ne("")
    return long_from_cells(raw, steps, logged, csv_nan_tokens(raw) & logged, run_key)


def _token_pattern(token: str) -> re.Pattern[str]:
    return re.compile(rf"(?:^|[_\-.]){re.escape(token)}(?:$|[_\-.])")


def _match(stem: str, candidates: dict[str, re.Pattern[str]]) -> str | None:
    """The longest candidate that appears in `stem` as a bounded token (None if none or a tie)."""
    hits = [key for key, pattern in candidates.items() if pattern.search(stem)]
    if not hits:
        return None
    longest = max(len(h) for h in hits)
    best = [h for h in hits if len(h) == longest]
    return best[0] if len(best) == 1 else None


def read_history_folder(
    folder: Path, run_keys: Sequence[str], names: Sequence[str] | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Read a folder of per-run history CSVs (`run.history()` dumps) into one long history.

    Each `*.csv` is matched to a run by the run key appearing in its file name as a token bounded by
    `_`, `-`, `.` or the ends (`A2_rope_seed2026_x595m9gw_history.csv` -> `x595m9gw`); when no key
    matches, by the run's name if that name is unique among the runs. Empty cells are "not logged at this
    step" and are dropped; the literal tokens `nan`/`NaN` are logged NaN values and kept. W&B internals
    (`_timestamp`, `_runtime`) and step-like columns (`iter`, `epoch`) are not metrics. Returns the long
    history (`run_key` = the matched run's key) and warnings for unmatched files and runs without one.
    """
    if not folder.is_dir():
        raise InputError("expected a folder of per-run history CSV files", path=folder)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
    if not files:
        raise InputError("no *.csv history files in this folder", path=folder)
    keys = [str(k) for k in run_keys]
    by_key = {k: _token_pattern(k) for k in keys if k}
    by_name: dict[str, re.Pattern[str]] = {}
    name_to_key: dict[str, str] = {}
    if names is not None:
        counts = pd.Series([str(n) for n in names]).value_counts()
        for key, name in zip(keys, names, strict=True):
            if name is not None and counts.get(str(name), 0) == 1 and str(name):
                by_name[str(name)] = _token_pattern(str(name))
                name_to_key[str(name)] = key
    warnings: list[str] = []
    parts: list[pd.DataFrame] = []
    claimed: dict[str, str] = {}
    for path in files:
        key = _match(path.stem, by_key)
        if key is None and by_name:
            name = _match(path.stem, by_name)
            key = None if name is None else name_to_key[name]
        if key is None:
            warnings.append(f"{path.name}: matches no run id or unique run name; skipped")
            continue
        if key in claimed:
            warnings.append(f"{path.name}: run {key} already has {claimed[key]}; skipped")
            continue
        claimed[key] = path.name
        parts.append(_history_file(path, key, warnings))
    missing = [k for k in keys if k not in claimed]
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        warnings.append(f"{len(missing)} run(s) have no history file in {folder}: {shown}")
    history = pd.concat(parts, ignore_index=True) if parts else empty_history()
    return history, warnings
