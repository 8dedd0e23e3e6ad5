"""W&B CSV exports: the UI runs table and the chart panel's wide "Export CSV".

The runs table (`Name, State, Notes, User, Tags, Created, Runtime, Sweep`, then config, then summary) has
one row per run but no run id: `Name` is the display name, which seeds of one recipe share, so it is
declared as the name column and the core disambiguates. W&B writes the config columns sorted and then
the summary columns sorted, so the one place where the header's order breaks splits params from metrics.

The chart export holds one metric's curve per run (`<run> - <metric>`, plus `__MIN`/`__MAX`, the
envelope of W&B's point sampling, which is dropped); the runs are its curves' run names, and assembly
derives their summaries from the history.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from reportgen.errors import InputError
from reportgen.io.history import empty_raw_history, long_from_cells, read_sparse_csv
from reportgen.io.options import LoadOptions
from reportgen.io.raw import RawSweep
from reportgen.io.tables import read_csv_table

UI_META = (
    "Name", "ID", "State", "Notes", "User", "Tags", "Created", "Runtime", "Sweep",
    "Group", "Job Type", "Hostname", "Updated", "End Time", "Commit", "GitHub",
)  # fmt: skip
"""Run-table columns that are W&B metadata, not config or summary; they lead the header."""
_ROLE_META = {"Name", "ID", "State", "Created", "Runtime"}
_ENVELOPE = ("__MIN", "__MAX")
_SEPARATOR = " - "


def _header(path: Path) -> list[str]:
    """The first CSV row, or [] when the file cannot be read as text (sniffing must not raise)."""
    try:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            return [h.strip() for h in next(csv.reader([handle.readline()]), [])]
    except (OSError, csv.Error):
        return []


# --- the UI runs table -------------------------------------------------------------------------------


def sniff_ui_export(path: Path) -> bool:
    """A file whose header names `Name`, `State` and `Created` or `Runtime`."""
    if not path.is_file():
        return False
    header = set(_header(path))
    return {"Name", "State"} <= header and bool({"Created", "Runtime"} & header)


def _is_media(column: pd.Series) -> bool:
    """W&B writes logged media (tables, html, images) as dicts like `{'_type': 'html-file', ...}`."""
    if column.dtype.kind in "biufcmM":
        return False
    text = column.dropna().astype("str").str.lstrip()
    return bool(len(text)) and bool((text.str.startswith("{") & text.str.contains("_type")).any())


def _split_config_summary(columns: list[str]) -> tuple[list[str], list[str]] | None:
    """Split sorted-config-then-sorted-summary columns at the single order break, if there is one."""
    folded = [c.casefold() for c in columns]
    breaks = [i for i in range(1, len(folded)) if folded[i] < folded[i - 1]]
    if len(breaks) != 1:
        return None
    return columns[: breaks[0]], columns[breaks[0] :]


def read_ui_export(path: Path, options: LoadOptions) -> RawSweep:
    """Read a W&B UI runs-table export (one row per run)."""
    warnings: list[str] = []
    runs = read_csv_table(path, warnings)
    columns = [str(c) for c in runs.columns]
    missing = [c for c in ("Name", "State") if c not in columns]
    if missing:
        raise InputError(
            f"expected a W&B runs export with columns Name and State; missing {', '.join(missing)}", path=path
        )
    lead = 0
    while lead < len(columns) and columns[lead] in UI_META:
        lead += 1
    meta = [c for c in columns if c in UI_META]
    rest = [c for c in columns[lead:] if c not in UI_META]
    media = [c for c in rest if _is_media(runs[c])]
    split = _split_config_summary(rest)
    params: list[str] | None
    metrics: list[str] | None
    if split is None:
        params = metrics = None
        warnings.append(
            f"{path.name}: cannot tell config from summary columns (expected two sorted runs of columns); "
            "inferring them"
        )
    else:
        params = [c for c in split[0] if c not in media]
        metrics = [c for c in split[1] if c not in media]
    return RawSweep(
        runs=runs,
        format="wandb-ui",
        source=str(path),
        id_column="ID" if "ID" in columns else None,
        name_column="Name",
        state_column="State",
        runtime_column="Runtime" if "Runtime" in columns else None,
        created_column="Created" if "Created" in columns else None,
        param_columns=params,
        metric_columns=metrics,
        ignore_columns=[c for c in meta if c not in _ROLE_META] + media,
        warnings=warnings,
    )


# --- the chart panel's wide export ---------------------------------------------------------------------


def sniff_chart_export(path: Path) -> bool:
    """A file whose first column is an axis and every other column is `<run> - <metric>[__MIN|__MAX]`."""
    if not path.is_file():
        return False
    header = _header(path)
    return len(header) >= 2 and _SEPARATOR not in header[0] and all(_SEPARATOR in h for h in header[1:])


def _number_repeats(run_labels: list[str], metrics: list[str], warnings: list[str]) -> list[str]:
    """Run keys for the curves; runs sharing a display name get `#2`, `#3` so each curve stays its own run.

    A repeated `(run, metric)` pair can only mean two runs with the same name (seeds of one recipe).
    """
    counts: dict[tuple[str, str], int] = {}
    keys = []
    for run, metric in zip(run_labels, metrics, strict=True):
        counts[run, metric] = counts.get((run, metric), 0) + 1
        n = counts[run, metric]
        keys.append(run if n == 1 else f"{run}#{n}")
    repeated = sorted({run for (run, _), n in counts.items() if n > 1})
    if repeated:
        warnings.append(
            f"runs sharing a name in the chart export were numbered #2, #3: {', '.join(repeated)}"
        )
    return keys


def read_chart_export(path: Path, options: LoadOptions) -> RawSweep:
    """Read a W&B chart "Export CSV" (wide: axis, then `<run> - <metric>` per run) as history and runs."""
    warnings: list[str] = []
    header, cells = read_sparse_csv(path, warnings)
    curves = [
        i for i, h in enumerate(header)
        if i > 0 and _SEPARATOR in h and not h.endswith(_ENVELOPE)
    ]  # fmt: skip
    if not curves:
        raise InputError(
            "expected a W&B chart export: a step column, then '<run> - <metric>' columns; found none",
            path=path,
        )
    other = [h for i, h in enumerate(header) if i > 0 and _SEPARATOR not in h]
    if other:
        warnings.append(f"{path.name}: ignored columns that are not '<run> - <metric>': {', '.join(other)}")
    run_labels, metrics = zip(*(header[i].rsplit(_SEPARATOR, 1) for i in curves), strict=True)
    run_keys = _number_repeats(list(run_labels), list(metrics), warnings)
    raw = cells[curves]
    raw.columns = list(metrics)
    logged = raw.ne("")
    history = long_from_cells(raw, cells[0], logged, None, run_keys)
    if history.empty:
        history = empty_raw_history()
    # one row per run; assembly gives each history metric its last logged value (NaN when a NaN was
    # logged last, as W&B's summary holds it). A metric never logged gets an all-missing column.
    runs = pd.DataFrame({"name": pd.Series(list(dict.fromkeys(run_keys)), dtype="str")})
    metric_names = list(dict.fromkeys(metrics))
    logged_metrics = {str(m) for m in pd.unique(history["metric"])}
    for m in metric_names:
        if m not in logged_metrics:
            runs[m] = np.nan
    return RawSweep(
        runs=runs,
        format="wandb-chart",
        source=str(path),
        history=history,
        id_column="name",
        name_column="name",
        metric_columns=metric_names,
        param_columns=[],
        step_axis=header[0],
        warnings=warnings,
    )
