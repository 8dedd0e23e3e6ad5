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

Run id: `trial_id` from the results, else from the experiment state, else the folder name. Summary
metrics are the last reported values (NaN when NaN was reported last).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reportgen.errors import InputError
from reportgen.io.history import long_from_cells, read_sparse_csv
from reportgen.io.infer import STEP_AXES
from reportgen.io.options import LoadOptions
from reportgen.io.raw import RawSweep
from reportgen.io.registry import LoaderSpec
from reportgen.io.tables import decode_text

STEP_AXIS = "training_iteration"
RAY_BOOKKEEPING = {
    "trial_id", "done", "timestamp", "date", "time_this_iter_s", "time_total_s", "pid", "hostname",
    "node_ip", "time_since_restore", "iterations_since_restore", "timesteps_since_restore",
    "checkpoint_dir_name", "experiment_id", "experiment_tag", "should_checkpoint", "warmup_time",
    "episodes_total", "timesteps_total", "training_iteration",
}  # fmt: skip
"""Result keys Ray adds to every report; not the user's metrics."""
_NAN = "\x00NaN"
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


def _loads(text: str) -> Any:
    return json.loads(
        text, parse_constant=lambda t: _NAN if t == "NaN" else (math.inf if t == "Infinity" else -math.inf)
    )


def _experiment_states(folder: Path, warnings: list[str]) -> dict[str, dict[str, Any]]:
    """relative_logdir -> {trial_id, status, start_time} from the newest experiment_state-*.json."""
    files = sorted(folder.glob("experiment_state-*.json"))
    if not files:
        return {}
    try:
        state = json.loads(files[-1].read_text(encoding="utf-8"))
        # Ray >= 2.7 keeps [trial_json, runtime_json] pairs in trial_data; older Ray keeps trial_json strings
        entries = state.get("trial_data", state.get("checkpoints", []))
        out = {}
        for entry in entries:
            trial = json.loads(entry[0] if isinstance(entry, list) else entry)
            runtime = json.loads(entry[1]) if isinstance(entry, list) and len(entry) > 1 else {}
            out[str(trial.get("relative_logdir", trial.get("trial_id")))] = {
                "trial_id": trial.get("trial_id"),
                "status": trial.get("status"),
                "start_time": runtime.get("start_time"),
            }
        return out
    except (OSError, ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        warnings.append(
            f"{files[-1].name}: unreadable ({type(exc).__name__}); trial states from trial folders"
        )
        return {}


def _params(trial: Path, warnings: list[str]) -> dict[str, Any]:
    path = trial / "params.json"
    if not path.is_file():
        warnings.append(f"{trial.name}: no params.json; config unknown")
        return {}
    try:
        value = _loads(decode_text(path, path.read_bytes(), warnings))
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON at line {exc.lineno} column {exc.colno}", path=path) from None
    if not isinstance(value, dict):
        raise InputError("expected a JSON object of config values", path=path)
    return _flatten(value)


def _flatten(mapping: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested config to `a/b` keys, as Ray names them in `config/a/b` result columns."""
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        if isinstance(value, dict) and value:
            out.update(_flatten(value, f"{prefix}{key}/"))
        elif isinstance(value, str) and value == _NAN:
            out[f"{prefix}{key}"] = math.nan
        elif value is None or isinstance(value, (str, int, float, bool)):
            out[f"{prefix}{key}"] = value
        else:
            out[f"{prefix}{key}"] = json.dumps(value, default=str)
    return out


def _results(
    trial: Path, warnings: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None] | None:
    """Raw result cells with `logged` and `nan_token` masks (None: find NaN spellings in the text),
    from progress.csv or else result.json."""
    progress = trial / "progress.csv"
    if progress.is_file() and progress.stat().st_size > 0:
        header, cells = read_sparse_csv(progress, warnings)
        if len(cells):
            cells.columns = header
            logged = cells.ne("")
            return cells, logged, None
    result = trial / "result.json"
    if result.is_file() and result.stat().st_size > 0:
        lines = [ln for ln in decode_text(result, result.read_bytes(), warnings).splitlines() if ln.strip()]
        try:
            records = _loads("[" + ",".join(lines) + "]")
        except json.JSONDecodeError:
            raise InputError("invalid JSON lines; expected one result object per line", path=result) from None
        frame = pd.DataFrame.from_records([r for r in records if isinstance(r, dict)]).astype(object)
        frame = frame.drop(columns=[c for c in frame.columns if c == "config"])
        return frame, frame.notna(), frame.eq(_NAN)
    return None


def _last(cells: pd.DataFrame, column: str) -> Any:
    if column not in cells.columns or cells.empty:
        return None
    return cells[column].iloc[-1]


def _as_bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def read_raytune_dir(path: Path, options: LoadOptions) -> RawSweep:
    """Read a Ray Tune experiment folder into runs (one per trial) and the per-report history."""
    if not path.is_dir():
        raise InputError("expected a Ray Tune experiment folder", path=path)
    trials = _trial_dirs(path)
    if not trials:
        raise InputError("no trial folders (with params.json, progress.csv or result.json) here", path=path)
    warnings: list[str] = []
    states = _experiment_states(path, warnings)
    rows: list[dict[str, Any]] = []
    histories: list[pd.DataFrame] = []
    param_keys: dict[str, None] = {}
    metric_keys: dict[str, None] = {}
    for trial in trials:
        params = _params(trial, warnings)
        results = _results(trial, warnings)
        recorded = states.get(trial.name, {})
        found = _TRIAL_ID.search(trial.name)
        trial_id = recorded.get("trial_id") or (found.group(1) if found else trial.name)
        row: dict[str, Any] = {}
        if results is not None:
            cells, logged, nan_token = results
            trial_id = str(_last(cells, "trial_id") or trial_id)
            metrics = [
                c
                for c in cells.columns
                if c not in RAY_BOOKKEEPING and c not in STEP_AXES and not str(c).startswith("config/")
            ]
            steps = cells[STEP_AXIS] if STEP_AXIS in cells else pd.Series(np.arange(1, len(cells) + 1))
            tokens = None if nan_token is None else nan_token[metrics]
            history = long_from_cells(cells[metrics], steps, logged[metrics], tokens, trial_id)
            histories.append(history)
            last = history.drop_duplicates("metric", keep="last")
            row.update(zip(last["metric"], last["value"], strict=True))
            metric_keys.update(dict.fromkeys(last["metric"]))
            row["time_total_s"] = pd.to_numeric(pd.Series([_last(cells, "time_total_s")]), errors="coerce")[0]
            row[STEP_AXIS] = pd.to_numeric(pd.Series([_last(cells, STEP_AXIS)]), errors="coerce")[0]
            done = _as_bool(_last(cells, "done"))
        else:
            done = False
        has_error = (trial / "error.txt").is_file() or (trial / "error.pkl").is_file()
        status = recorded.get("status") or ("ERROR" if has_error else "TERMINATED" if done else None)
        start = recorded.get("start_time")
        row.update(
            trial_id=trial_id,
            status=status,
            folder=trial.name,
            start_time=None
            if start is None
            else pd.to_datetime(float(start), unit="s", utc=True).isoformat(),
        )
        for key, value in params.items():
            name = key if key not in row else f"config/{key}"
            row[name] = value
            param_keys[name] = None
        rows.append(row)
    runs = pd.DataFrame.from_records(rows)
    unknown = sum(row["status"] is None for row in rows)
    if unknown:
        # Ray 2.x function trainables never write `done: true` to progress.csv/result.json, so without
        # the experiment state a finished trial and a still-running one look the same
        warnings.append(f"{unknown} trial(s) have no recorded status (no experiment_state, no error file)")
    front = ["trial_id", "status", "start_time", "time_total_s", STEP_AXIS, "folder"]
    ordered = (
        [c for c in front if c in runs] + list(param_keys) + [m for m in metric_keys if m not in param_keys]
    )
    runs = runs.reindex(columns=ordered)
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
        param_columns=list(param_keys),
        metric_columns=[m for m in metric_keys if m not in param_keys],
        ignore_columns=[c for c in ("folder", STEP_AXIS) if c in runs],
        step_axis=STEP_AXIS,
        warnings=warnings,
    )


RAY_TUNE_DIR = LoaderSpec(
    name="raytune",
    summary="Ray Tune experiment folder (trial folders with params.json, progress.csv / result.json)",
    sniff=sniff_raytune_dir,
    read=read_raytune_dir,
)
