"""Ray Tune experiment folders: one trial folder per trial, plus experiment-level state files.

A trial folder holds `params.json` (the config), `progress.csv` (one row per `tune.report`, step axis
`training_iteration`) and `result.json` (the same results as JSON lines, read when `progress.csv` is
missing or empty), and `error.txt`/`error.pkl` when the trial raised. Pickles (`params.pkl`,
`error.pkl`, `tuner.pkl`, and `basic-variant-state-*.json`, which despite its name is a pickle) are
never opened.

Trial state, as Ray spells it: the `status` recorded for the trial in the newest
`experiment_state-*.json` (TERMINATED, ERROR, RUNNING, PENDING, PAUSED) when that file parses; else
ERROR when the trial folder has an error file; else TERMINATED when the last result says `done`; else
unknown (NaN), with a warning. Ray 2.60 function trainables never log `done: true` to the trial files,
so in practice a finished trial's status comes only from the experiment state. Ray has no "killed": a
trial a scheduler stops early is TERMINATED too.

Run id: the last reported `trial_id` in the results, else the experiment state's, else the one in the
folder name, else the folder name. Summary metrics are the last reported values (NaN when NaN was
reported last), which assembly derives from the history. Nested results and config are flattened with
'/', as Ray names them in `progress.csv` (`config/lr`, `info/learner/loss`); a config key that is also a
result key is named `config/<key>` in every trial.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reportgen.errors import InputError
from reportgen.io.history import long_from_cells, metric_candidates, read_sparse_csv
from reportgen.io.json_records import (
    NAN_TOKEN,
    cell,
    flatten,
    key_text,
    parse,
    read_json_lines,
    records_frame,
)
from reportgen.io.options import LoadOptions
from reportgen.io.raw import RawSweep
from reportgen.io.registry import LoaderSpec
from reportgen.io.tables import file_text

STEP_AXIS = "training_iteration"
RAY_BOOKKEEPING = {
    "config", "trial_id", "time_this_iter_s", "time_total_s", "time_since_restore",
    "iterations_since_restore", "timesteps_since_restore", "checkpoint_dir_name", "experiment_tag",
    "should_checkpoint", "warmup_time", "episodes_total", "timesteps_total",
}  # fmt: skip
"""Top-level result keys Ray adds to every report (`config` echoes the trial's config) that
`history.metric_candidates` keeps; it already leaves out step axes such as `training_iteration` and run
metadata such as `timestamp`, `date`, `pid` and `done`."""
_TRIAL_ID = re.compile(r"_([0-9a-f]{5}_\d{5})(?:_|$)")


def _trial_dirs(folder: Path) -> list[Path]:
    try:
        children = sorted(c for c in folder.iterdir() if c.is_dir() and not c.is_symlink())
    except OSError:
        return []
    return [
        c for c in children if any((c / f).is_file() for f in ("params.json", "progress.csv", "result.json"))
    ]


def sniff_raytune_dir(path: Path) -> bool:
    """A folder with Ray's experiment state files or trial folders holding `params.json` and results."""
    try:
        if not path.is_dir():
            return False
        if any(path.glob("experiment_state-*.json")) or (path / "tuner.pkl").is_file():
            return True
        return any(
            (d / "params.json").is_file()
            and ((d / "progress.csv").is_file() or (d / "result.json").is_file())
            for d in _trial_dirs(path)
        )
    except OSError:
        return False


def _trial_key(value: Any) -> str | None:
    """A trial id as text; a dict, list or bool where an id belongs is no id."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    return key_text(value)


def _json_object(value: Any) -> dict[str, Any]:
    """A trial's JSON text (or an already decoded object) from the experiment state, as a dict."""
    decoded = json.loads(value) if isinstance(value, str) else value
    if not isinstance(decoded, dict):
        raise TypeError("trial entry is not a JSON object")
    return decoded


def _experiment_states(folder: Path, warnings: list[str]) -> dict[str, dict[str, Any]]:
    """relative_logdir -> {trial_id, status, start_time} from the newest experiment_state-*.json.

    Values of the wrong type (a numeric status, a dict as trial id) are left out: the trial folder tells.
    """
    files = sorted(folder.glob("experiment_state-*.json"))
    if not files:
        return {}
    try:
        state = json.loads(files[-1].read_text(encoding="utf-8"))
        # Ray >= 2.7 keeps [trial_json, runtime_json] pairs in trial_data; older Ray keeps trial_json strings
        entries = state.get("trial_data", state.get("checkpoints", []))
        out = {}
        for entry in entries:
            pair = isinstance(entry, list)
            trial = _json_object(entry[0] if pair else entry)
            runtime = _json_object(entry[1]) if pair and len(entry) > 1 else {}
            status, start = trial.get("status"), runtime.get("start_time")
            out[str(trial.get("relative_logdir", trial.get("trial_id")))] = {
                "trial_id": _trial_key(trial.get("trial_id")),
                "status": status if isinstance(status, str) and status.strip() else None,
                "start_time": None
                if isinstance(start, bool) or not isinstance(start, (int, float, str))
                else start,
            }
        return out
    except (OSError, ValueError, TypeError, AttributeError, IndexError, KeyError, RecursionError) as exc:
        warnings.append(
            f"{files[-1].name}: unreadable ({type(exc).__name__}); trial states from trial folders"
        )
        return {}


def _params(trial: Path, warnings: list[str]) -> dict[str, Any]:
    """The trial's config, nested keys joined with '/' as Ray names them in `config/a/b` result columns."""
    path = trial / "params.json"
    if not path.is_file():
        warnings.append(f"{trial.name}: no params.json; config unknown")
        return {}
    value = parse(path, file_text(path, warnings))
    if not isinstance(value, dict):
        raise InputError("expected a JSON object of config values", path=path)
    return {key: cell(v) for key, v in flatten(value, "/").items()}


def _results(
    trial: Path, warnings: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None] | None:
    """Raw result cells with `logged` and `nan_token` masks (None: find NaN spellings in the text),
    from progress.csv or else result.json (nested results flattened with '/', as progress.csv has them)."""
    progress = trial / "progress.csv"
    if progress.is_file() and progress.stat().st_size > 0:
        header, cells = read_sparse_csv(progress, warnings)
        if len(cells):
            repeated = pd.Index(header)[pd.Index(header).duplicated()]
            if len(repeated):
                raise InputError("column name appears twice in the header", path=progress, column=repeated[0])
            cells.columns = header
            return cells, cells.ne(""), None
    result = trial / "result.json"
    if result.is_file() and result.stat().st_size > 0:
        records = read_json_lines(result, file_text(result, warnings), "result")
        frame = records_frame(records, "/", skip=("config",)).astype(object)
        return frame, frame.notna(), frame.eq(NAN_TOKEN)
    return None


def _last(cells: pd.DataFrame, column: str) -> Any:
    """The last reported value of a result key (an empty or missing cell is not a report), or None."""
    if column not in cells.columns:
        return None
    values = cells[column]
    reported = values[values.notna() & values.ne("")]
    return reported.iloc[-1] if len(reported) else None


def _number(value: Any) -> float:
    return float(pd.to_numeric(pd.Series([value], dtype=object), errors="coerce").iloc[0])


def _as_bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def read_raytune_dir(path: Path, options: LoadOptions) -> RawSweep:
    """Read a Ray Tune experiment folder into runs (one per trial) and the per-report history.

    The runs hold the config and Ray's bookkeeping; each metric's summary (its last reported value) is
    derived from the history by assembly, so `metric_columns` names history metrics.
    """
    if not path.is_dir():
        raise InputError("expected a Ray Tune experiment folder", path=path)
    trials = _trial_dirs(path)
    if not trials:
        raise InputError("no trial folders (with params.json, progress.csv or result.json) here", path=path)
    warnings: list[str] = []
    states = _experiment_states(path, warnings)
    rows: list[dict[str, Any]] = []
    configs: list[dict[str, Any]] = []
    histories: list[pd.DataFrame] = []
    metric_keys: dict[str, None] = {}
    for trial in trials:
        configs.append(_params(trial, warnings))
        results = _results(trial, warnings)
        recorded = states.get(trial.name, {})
        found = _TRIAL_ID.search(trial.name)
        trial_id = recorded.get("trial_id") or (found.group(1) if found else trial.name)
        row: dict[str, Any] = {}
        done = False
        if results is not None:
            cells, logged, nan_token = results
            trial_id = _trial_key(_last(cells, "trial_id")) or trial_id
            columns = [str(c) for c in cells.columns]
            metrics = [
                c
                for c in metric_candidates(columns, STEP_AXIS)
                # by top-level key: a nested bookkeeping value (`config/lr`) is no metric either
                if c and c.split("/", 1)[0] not in RAY_BOOKKEEPING
            ]
            steps = cells[STEP_AXIS] if STEP_AXIS in cells else pd.Series(np.arange(1, len(cells) + 1))
            tokens = None if nan_token is None else nan_token[metrics]
            history = long_from_cells(cells[metrics], steps, logged[metrics], tokens, trial_id)
            histories.append(history)
            metric_keys.update(dict.fromkeys(str(m) for m in pd.unique(history["metric"])))
            row["time_total_s"] = _number(_last(cells, "time_total_s"))
            row[STEP_AXIS] = _number(_last(cells, STEP_AXIS))
            done = _as_bool(_last(cells, "done"))
        has_error = (trial / "error.txt").is_file() or (trial / "error.pkl").is_file()
        status = recorded.get("status") or ("ERROR" if has_error else "TERMINATED" if done else None)
        row.update(trial_id=trial_id, status=status, folder=trial.name, start_time=recorded.get("start_time"))
        rows.append(row)
    param_keys = _config_columns(rows, configs, metric_keys, warnings)
    runs = pd.DataFrame.from_records(rows)
    runs["start_time"] = _start_times(runs["start_time"], warnings)
    unknown = sum(row["status"] is None for row in rows)
    if unknown:
        # Ray 2.x function trainables never write `done: true` to progress.csv/result.json, so without
        # the experiment state a finished trial and a still-running one look the same
        warnings.append(f"{unknown} trial(s) have no recorded status (no experiment_state, no error file)")
    front = ["trial_id", "status", "start_time", "time_total_s", STEP_AXIS, "folder"]
    runs = runs.reindex(columns=[c for c in front if c in runs] + param_keys)
    history = pd.concat(histories, ignore_index=True) if histories else None
    return RawSweep(
        runs=runs,
        format="raytune",
        source=str(path),
        history=history,
        id_column="trial_id",
        state_column="status",
        runtime_column="time_total_s" if "time_total_s" in runs else None,
        created_column="start_time",
        param_columns=param_keys,
        metric_columns=list(metric_keys),
        ignore_columns=[c for c in ("folder", STEP_AXIS) if c in runs],
        step_axis=STEP_AXIS,
        warnings=warnings,
    )


def _config_columns(
    rows: list[dict[str, Any]], configs: list[dict[str, Any]], metrics: dict[str, None], warnings: list[str]
) -> list[str]:
    """Put each trial's config into its row; a key that is also a result key (a metric or Ray's own) is
    named `config/<key>` in every trial, decided once for the sweep, so columns agree between trials."""
    taken = set(metrics).union(*(row.keys() for row in rows))
    clashes = {key for config in configs for key in config if key in taken}
    if clashes:
        warnings.append(
            f"config keys that are also result keys were renamed config/<key>: {', '.join(sorted(clashes))}"
        )
    columns: dict[str, None] = {}
    for row, config in zip(rows, configs, strict=True):
        named = {f"config/{k}" if k in clashes else k: v for k, v in config.items()}
        row.update(named)
        columns.update(dict.fromkeys(named))
    return list(columns)


def _start_times(raw: pd.Series, warnings: list[str]) -> pd.Series:
    """Ray's `start_time` (epoch seconds) as UTC date-time text; unreadable or out-of-range values (`"abc"`,
    `1e20`) are left empty with a warning, never raised."""
    seconds = pd.to_numeric(raw, errors="coerce")
    when = pd.to_datetime(seconds, unit="s", utc=True, errors="coerce")
    unreadable = int((raw.notna() & when.isna()).sum())
    if unreadable:
        warnings.append(
            f"{unreadable} trial(s) have an unreadable start_time in the experiment state; left empty"
        )
    return when.astype("string")


RAY_TUNE_DIR = LoaderSpec(
    name="raytune",
    summary="Ray Tune experiment folder (trial folders with params.json, progress.csv / result.json)",
    sniff=sniff_raytune_dir,
    read=read_raytune_dir,
)
