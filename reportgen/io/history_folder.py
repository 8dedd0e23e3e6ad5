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


def _history_file(
    path: Path, run_key: str, step: str | None, warnings: list[str]
) -> tuple[pd.DataFrame, str]:
    """One run's history file as a long table, and the step axis it used."""
    header, cells = read_sparse_csv(path, warnings)
    step_axis = pick_step_axis(header, step)
    if step_axis is None:
        if step is not None:
            raise InputError(f"no column {step!r} for --step; columns are {', '.join(header[:8])}", path=path)
        warnings.append(f"{path.name}: no step column ({', '.join(STEP_AXES)}); using the row number")
        steps = pd.Series(np.arange(len(cells), dtype="float64"))
    else:
        steps = cells[header.index(step_axis)]
    metrics = set(metric_candidates(header, step_axis))
    metric_idx = [i for i, name in enumerate(header) if name in metrics]
    raw = cells[metric_idx]
    raw.columns = [header[i] for i in metric_idx]
    long = long_from_cells(raw, steps, raw.ne(""), None, run_key, warnings=warnings, source=path.name)
    return long, step_axis or "row"


def _spans(stem: str) -> list[str]:
    """Every run of whole tokens in a file stem, tokens bounded by `_`, `-`, `.` or the ends:
    `A2_rope_x595m9gw_history` -> A2, A2_rope, ..., x595m9gw, x595m9gw_history, history."""
    bounds = [m.start() for m in re.finditer(r"[_\-.]", stem)]
    starts = [0] + [b + 1 for b in bounds]
    ends = [*bounds, len(stem)]
    return [stem[s:e] for s in starts for e in ends if e > s]


def _match(stem: str, candidates: dict[str, str]) -> str | None:
    """The value of the longest candidate that is a token span of `stem` (None if none or a tie)."""
    hits = [span for span in _spans(stem) if span in candidates]
    if not hits:
        return None
    longest = max(len(h) for h in hits)
    best = {candidates[h] for h in hits if len(h) == longest}
    return best.pop() if len(best) == 1 else None


def read_history_folder(
    folder: Path, run_keys: Sequence[str], names: Sequence[str] | None = None, step: str | None = None
) -> tuple[pd.DataFrame, str, list[str]]:
    """Read a folder of per-run history CSVs (`run.history()` dumps) into one long history.

    Each `*.csv` is matched to a run by the run key appearing in its file name as a token bounded by
    `_`, `-`, `.` or the ends (`A2_rope_seed2026_x595m9gw_history.csv` -> `x595m9gw`); when no key
    matches, by the run's name if that name is unique among the runs. Empty cells are "not logged at this
    step" and are dropped; the literal tokens `nan`/`NaN` are logged NaN values and kept. W&B internals
    (`_timestamp`, `_runtime`) and step-like columns (`iter`, `epoch`) are not metrics. `step` names the
    step column (else the first of STEP_AXES in each file). Returns the long history (`run_key` = the
    matched run's key), the step axis, and warnings for unmatched files, runs without one, and files whose
    step axis differs from the others'.
    """
    if not folder.is_dir():
        raise InputError("expected a folder of per-run history CSV files", path=folder)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
    if not files:
        raise InputError("no *.csv history files in this folder", path=folder)
    keys = [str(k) for k in run_keys]
    by_key = {k: k for k in keys if k}
    by_name: dict[str, str] = {}
    if names is not None:
        counts = pd.Series([str(n) for n in names]).value_counts()
        by_name = {
            str(name): key
            for key, name in zip(keys, names, strict=True)
            if name is not None and str(name) and counts.get(str(name), 0) == 1
        }
    warnings: list[str] = []
    parts: list[pd.DataFrame] = []
    claimed: dict[str, str] = {}
    axes: dict[str, list[str]] = {}
    for path in files:
        key = _match(path.stem, by_key) or _match(path.stem, by_name)
        if key is None:
            warnings.append(f"{path.name}: matches no run id or unique run name; skipped")
            continue
        if key in claimed:
            warnings.append(f"{path.name}: run {key} already has {claimed[key]}; skipped")
            continue
        claimed[key] = path.name
        long, axis = _history_file(path, key, step, warnings)
        parts.append(long)
        axes.setdefault(axis, []).append(path.name)
    missing = [k for k in keys if k not in claimed]
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        warnings.append(f"{len(missing)} run(s) have no history file in {folder}: {shown}")
    main_axis = max(axes, key=lambda a: len(axes[a])) if axes else (step or "_step")
    for axis, names_with in axes.items():
        if axis != main_axis:
            warnings.append(
                f"{len(names_with)} history file(s) count steps in {axis!r}, not {main_axis!r} "
                f"(first: {names_with[0]}); pass --step to choose one"
            )
    history = pd.concat(parts, ignore_index=True) if parts else empty_raw_history()
    return history, main_axis, warnings
