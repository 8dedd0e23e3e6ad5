"""A local `wandb/` folder: one `run-<date>-<id>/` or `offline-run-<date>-<id>/` folder per run.

Each run folder's `files/` holds `config.yaml` (`{key: {value: v, desc: d}}`), `wandb-summary.json` (the
last logged value of each metric), `wandb-metadata.json` (`startedAt`, host, program) and, in folders
written by older clients, `wandb-history.jsonl` (one JSON object per `log()` call), which is read as the
history. The binary transaction log `run-<id>.wandb` is not read: it needs W&B's protobuf schema. Run
folders that hold only that log (what wandb-core writes in offline mode before `wandb sync`) are skipped
with a warning.

Run state: the folder has no state field. `logs/debug.log` records the process exit code (`got exitcode:
N`) when the client shut down cleanly: 0 -> `finished`, 130/137/143 (interrupt, SIGKILL, SIGTERM) ->
`killed`, any other code -> `failed`, as W&B names them. Without that line the state is unknown (NaN): the
process died without cleanup (W&B would show `crashed`) or is still running, and the folder cannot tell.
The display name is not stored in these files, so the runs have ids only.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from reportgen.errors import InputError
from reportgen.io.json_records import cell, parse, read_json_lines
from reportgen.io.options import LoadOptions
from reportgen.io.raw import RawSweep
from reportgen.io.tables import file_text
from reportgen.io.wandb_json import (
    RunTableBuilder,
    history_from_records,
    split_summary,
    summary_internals,
    unwrap_config,
)

_RUN_DIR = re.compile(r"^(?:offline-)?run-\d{8}_\d{6}-(?P<id>[A-Za-z0-9]+)$")
_EXIT = re.compile(r"got exitcode: (-?\d+)")
_KILLED_CODES = {130, 137, 143}


def _run_dirs(folder: Path) -> list[Path]:
    """Run folders directly under `folder` (symlinks such as `latest-run` are skipped: duplicates)."""
    try:
        children = sorted(folder.iterdir())
    except OSError:
        return []
    return [c for c in children if _RUN_DIR.match(c.name) and c.is_dir() and not c.is_symlink()]


def _wandb_root(path: Path) -> Path | None:
    """The folder holding the run folders: `path` itself or its `wandb/` child."""
    for candidate in (path, path / "wandb"):
        if candidate.is_dir() and any(
            (d / "files").is_dir() or any(d.glob("*.wandb")) for d in _run_dirs(candidate)
        ):
            return candidate
    return None


def sniff_local_dir(path: Path) -> bool:
    """A folder (or its `wandb/` child) with `run-*`/`offline-run-*` folders holding `files/config.yaml`."""
    try:
        if not path.is_dir():
            return False
        for candidate in (path, path / "wandb"):
            if candidate.is_dir() and any(
                (d / "files" / "config.yaml").is_file() for d in _run_dirs(candidate)
            ):
                return True
    except OSError:
        return False
    return False


def _read_json(path: Path, warnings: list[str]) -> dict[str, Any]:
    value = parse(path, file_text(path, warnings))
    if not isinstance(value, dict):
        raise InputError(f"expected a JSON object; found a {type(value).__name__}", path=path)
    return value


def _read_config(path: Path, warnings: list[str]) -> dict[str, Any]:
    import yaml

    try:
        value = yaml.safe_load(file_text(path, warnings))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InputError(f"invalid YAML{where}; expected W&B's config.yaml", path=path) from None
    except RecursionError:
        raise InputError("YAML nested too deeply to read", path=path) from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError("expected a mapping of config keys in W&B's config.yaml", path=path)
    return value


def _state(run_dir: Path) -> str | None:
    log = run_dir / "logs" / "debug.log"
    try:
        codes = _EXIT.findall(log.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None
    if not codes:
        return None
    code = int(codes[-1])
    if code == 0:
        return "finished"
    return "killed" if code in _KILLED_CODES or code < 0 else "failed"


def read_local_dir(path: Path, options: LoadOptions) -> RawSweep:
    """Read a local `wandb/` folder of run folders."""
    root = _wandb_root(path) if path.is_dir() else None
    if root is None:
        raise InputError(
            "expected a wandb/ folder with run-*/offline-run-* run folders; found none", path=path
        )
    warnings: list[str] = []
    builder = RunTableBuilder()
    histories: list[pd.DataFrame] = []
    binary_only, no_exit = [], 0
    for run_dir in _run_dirs(root):
        files = run_dir / "files"
        config_path, summary_path = files / "config.yaml", files / "wandb-summary.json"
        if not config_path.is_file() and not summary_path.is_file():
            binary_only.append(run_dir.name)
            continue
        run_id = run_dir.name.rsplit("-", 1)[-1]
        config = _read_config(config_path, warnings) if config_path.is_file() else {}
        summary = _read_json(summary_path, warnings) if summary_path.is_file() else {}
        meta_path = files / "wandb-metadata.json"
        metadata = _read_json(meta_path, warnings) if meta_path.is_file() else {}
        state = _state(run_dir)
        no_exit += state is None
        metrics, media = split_summary(summary)
        meta = {
            "id": run_id,
            "state": state,
            "created_at": cell(metadata.get("startedAt")),
            "folder": run_dir.name,
            **summary_internals(summary),
        }
        builder.add(meta, unwrap_config(config), metrics, media)
        history_path = files / "wandb-history.jsonl"
        if history_path.is_file():
            records = read_json_lines(history_path, file_text(history_path, warnings), "logged step")
            histories.append(history_from_records(records, run_id))
    if binary_only:
        warnings.append(
            f"{len(binary_only)} run folder(s) hold only the binary .wandb log (e.g. {binary_only[0]}); "
            "run `wandb sync` or export with the W&B API to read them"
        )
    if not builder.rows:
        raise InputError("no run folder has files/config.yaml or files/wandb-summary.json", path=root)
    if no_exit:
        warnings.append(f"{no_exit} run(s) have no exit code in logs/debug.log; their state is unknown")
    history = pd.concat(histories, ignore_index=True) if histories else None
    return RawSweep(
        runs=builder.frame(),
        format="wandb-dir",
        source=str(path),
        history=history,
        id_column="id",
        state_column="state",
        runtime_column="_runtime",
        created_column="created_at",
        param_columns=builder.columns("config"),
        metric_columns=builder.columns("summary"),
        ignore_columns=["folder", "_step", *builder.columns("media")],
        step_axis="_step" if history is not None else None,
        warnings=warnings + builder.warnings(root.name),
    )
