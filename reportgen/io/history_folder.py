"""A folder of per-run history files (how `run.history()` dumps are saved), matched to runs by the run
id (or unique name) in each file name, and read into one long history."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from reportgen.errors import InputError
from reportgen.io.history import empty_raw_history, long_from_cells, metric_candidates, read_sparse_csv
from reportgen.io.infer import STEP_AXES, pick_step_axis


def _history_file(path: Path, run_key: str, warnings: list[str]) -> pd.DataFrame:
    header, cells = read_sparse_csv(path, warnings)
    step_axis = pick_step_axis(header)
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
    return long_from_cells(raw, steps, logged, None, run_key)


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
    history = pd.concat(parts, ignore_index=True) if parts else empty_raw_history()
    return history, warnings
