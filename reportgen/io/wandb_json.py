"""W&B API dumps: a JSON array or JSONL of run objects (`id`, `name`, `state`, `config`, `summary`, ...).

This is what `[{"id": r.id, "name": r.name, "state": r.state, "config": r.config,
"summary": r.summary._json_dict, ...} for r in wandb.Api().runs(path)]` yields when saved. The helpers
that turn W&B's config and summary dicts into flat columns are shared with the local `wandb/` folder
reader, which holds the same dicts in files.

W&B writes non-finite floats as the bare tokens `NaN`, `Infinity`, `-Infinity`; `json_records` keeps a
logged NaN apart from a metric not logged at a step. Nested dicts are flattened with '.' alike in config,
summary and history records (`val.loss`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reportgen.errors import InputError
from reportgen.io.history import empty_raw_history, long_from_cells, metric_candidates
from reportgen.io.infer import pick_step_axis
from reportgen.io.json_records import (
    NAN_TOKEN,
    cell,
    flatten,
    is_media,
    key_text,
    loads,
    read_json_lines,
    records_frame,
)
from reportgen.io.options import LoadOptions
from reportgen.io.raw import RawSweep
from reportgen.io.tables import decode_text, head_bytes, json_error

CONFIG_SKIP = {"_wandb", "wandb_version"}
"""W&B's own bookkeeping keys in a config, not hyperparameters."""
META_IGNORE = ["tags", "notes", "group", "job_type", "url", "sweep", "user", "host", "_step"]
"""Run-object fields kept in the runs table but not params or metrics (text is untrusted input)."""


def unwrap_config(config: dict[str, Any]) -> dict[str, Any]:
    """Config without W&B bookkeeping, `{key: {"value": v, "desc": d}}` entries unwrapped, flattened."""
    plain = {}
    for key, value in config.items():
        if key in CONFIG_SKIP:
            continue
        if isinstance(value, dict) and "value" in value and set(value) <= {"value", "desc"}:
            value = value["value"]
        plain[key] = value
    return {k: cell(v) for k, v in flatten(plain).items()}


def split_summary(summary: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(metrics, media) from a summary; `_`-prefixed W&B internals are left to `summary_internals`."""
    metrics: dict[str, Any] = {}
    media: dict[str, Any] = {}
    for key, value in flatten({k: v for k, v in summary.items() if not str(k).startswith("_")}).items():
        (media if is_media(value) else metrics)[key] = cell(value)
    return metrics, media


def summary_internals(summary: dict[str, Any]) -> dict[str, Any]:
    """`_step` (last step) and `_runtime` (seconds; `_wandb.runtime` when `_runtime` is absent)."""
    wandb_meta = summary.get("_wandb")
    runtime = summary.get("_runtime")
    if runtime is None and isinstance(wandb_meta, dict):
        runtime = wandb_meta.get("runtime")
    return {"_step": cell(summary.get("_step")), "_runtime": cell(runtime)}


def history_from_records(records: list[dict[str, Any]], run_key: str) -> pd.DataFrame:
    """Per-step dicts (`_step` + metrics, as `run.history()` rows) to the long history of one run.

    Nested dicts are flattened with '.' as in the summary (`{"val": {"loss": 1}}` -> `val.loss`).
    """
    if not records:
        return empty_raw_history()
    frame = records_frame(records, ".")
    frame.columns = [str(c) for c in frame.columns]
    axis = pick_step_axis(list(frame.columns))
    steps = frame[axis] if axis else pd.Series(np.arange(len(frame), dtype="float64"))
    metrics = metric_candidates(list(frame.columns), axis)
    cells = frame[metrics].astype(object)
    logged = cells.notna()
    return long_from_cells(cells, steps, logged, cells.eq(NAN_TOKEN), run_key)


class RunTableBuilder:
    """Collects runs as flat rows: meta fields, then config columns, then summary columns.

    A config key, a summary key and a meta field may share a name (`lr` as config and as the logged,
    scheduled lr); the later section's column is then prefixed `config.` / `summary.` and a warning says so.
    """

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.sections: dict[str, str] = {}  # column -> "meta" | "config" | "summary" | "media"
        self.renamed: set[str] = set()

    def _name(self, key: str, section: str) -> str:
        owner = self.sections.get(key)
        if owner is None or owner == section or (owner == "media" and section == "summary"):
            self.sections.setdefault(key, section)
            return key
        self.renamed.add(key)
        prefixed = f"{'summary' if section in ('summary', 'media') else section}.{key}"
        self.sections.setdefault(prefixed, section)
        return prefixed

    def add(
        self, meta: dict[str, Any], config: dict[str, Any], summary: dict[str, Any], media: dict[str, Any]
    ) -> None:
        row = {self._name(k, "meta"): v for k, v in meta.items()}
        row.update({self._name(k, "config"): v for k, v in config.items()})
        row.update({self._name(k, "summary"): v for k, v in summary.items()})
        row.update({self._name(k, "media"): v for k, v in media.items()})
        self.rows.append(row)

    def frame(self) -> pd.DataFrame:
        columns = list(self.sections)
        return pd.DataFrame.from_records(self.rows, columns=columns)

    def columns(self, section: str) -> list[str]:
        return [c for c, s in self.sections.items() if s == section]

    def warnings(self, source: str) -> list[str]:
        if not self.renamed:
            return []
        names = ", ".join(sorted(self.renamed))
        return [f"{source}: keys in more than one of meta/config/summary were prefixed: {names}"]


def _read_runs(path: Path, warnings: list[str]) -> list[Any]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror or type(exc).__name__})", path=path) from None
    text = decode_text(path, data, warnings)
    if not text.strip():
        raise InputError(
            "empty file; expected a JSON array of W&B runs or one run object per line", path=path
        )
    try:
        parsed = loads(text)
    except json.JSONDecodeError as whole:
        if not _starts_json_lines(text):
            raise json_error(path, text, whole) from None
        parsed = read_json_lines(path, text, "W&B run")
    except RecursionError:
        raise InputError("JSON nested too deeply to read", path=path) from None
    if isinstance(parsed, dict):
        if not _looks_like_run(parsed):
            raise InputError(
                "expected a JSON array of W&B run objects (id, name, state, config, summary); "
                f"found an object with keys {', '.join(list(map(str, parsed))[:6])}",
                path=path,
            )
        parsed = [parsed]
    if not isinstance(parsed, list):
        raise InputError(
            f"expected a JSON array of W&B run objects; found a {type(parsed).__name__}", path=path
        )
    return parsed


def _starts_json_lines(text: str) -> bool:
    """Whether the text's first line is a whole JSON object (then a failed whole-file parse means JSONL)."""
    first = text.lstrip().split("\n", 1)[0]
    if not first.startswith("{"):
        return False
    try:
        loads(first)
    except (json.JSONDecodeError, RecursionError):
        return False
    return True


def _looks_like_run(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and bool({"id", "run_id", "name"} & set(obj))
        and bool({"config", "summary"} & set(obj))
    )


def _checked_history(history: Any, path: Path, row: int) -> list[dict[str, Any]]:
    """A run's `history`: a list of per-step objects (as `run.history(pandas=False)` gives), or none."""
    if history is None:
        return []
    if not isinstance(history, list):
        raise InputError(
            f"expected `history` to be a list of per-step objects; found a {type(history).__name__}",
            path=path,
            row=row,
        )
    if history and set(map(type, history)) != {dict}:  # C-level check, no Python step per record
        raise InputError(
            "`history` holds an entry that is not an object (one per logged step)", path=path, row=row
        )
    return history


def sniff_api_json(path: Path) -> bool:
    """A .json/.jsonl file whose start holds run objects with `config` and `summary`."""
    if not path.is_file() or path.suffix.lower() not in {".json", ".jsonl", ".ndjson"}:
        return False
    head = head_bytes(path).decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    return head[:1] in "[{" and bool(head) and '"config"' in head and '"summary"' in head


def read_api_json(path: Path, options: LoadOptions) -> RawSweep:
    """Read a W&B API runs dump (JSON array or JSONL), with per-run `history` records when present."""
    warnings: list[str] = []
    records = _read_runs(path, warnings)
    builder = RunTableBuilder()
    histories: list[tuple[str | None, str | None, list[dict[str, Any]]]] = []
    all_ids = True
    for row, run in enumerate(records, start=1):
        if not _looks_like_run(run):
            raise InputError("expected a W&B run object with id/name and config/summary", path=path, row=row)
        run_id = key_text(run.get("id", run.get("run_id")))
        all_ids = all_ids and run_id is not None
        summary = run.get("summary") or {}
        config = run.get("config") or {}
        if not isinstance(summary, dict) or not isinstance(config, dict):
            raise InputError("expected `config` and `summary` to be JSON objects", path=path, row=row)
        metrics, media = split_summary(summary)
        name = cell(run.get("name", run.get("display_name")))
        meta = {
            # the id as the same string the history is keyed by (a numeric id 5.0 reads "5" on both sides)
            "id": run_id,
            "name": name,
            "state": cell(run.get("state")),
            "created_at": cell(run.get("created_at", run.get("createdAt"))),
            **{
                k: (", ".join(map(str, run[k])) if isinstance(run[k], list) else cell(run[k]))
                for k in ("tags", "notes", "group", "job_type", "url", "sweep", "user")
                if k in run
            },
            **summary_internals(summary),
        }
        builder.add(meta, unwrap_config(config), metrics, media)
        steps = _checked_history(run.get("history"), path, row)
        if steps:
            histories.append((run_id, key_text(name), steps))
    if not all_ids:
        warnings.append(f"{path.name}: some runs have no `id`; runs are keyed by name")
    # keyed as assembly keys the runs: by id when every run has one, else by display name
    keyed = [(run_id if all_ids else name, steps) for run_id, name, steps in histories]
    if any(key is None for key, _ in keyed):
        warnings.append(f"{path.name}: history of runs with neither id nor name left out")
    history_parts = [history_from_records(steps, key) for key, steps in keyed if key is not None]
    runs = builder.frame()
    warnings += builder.warnings(path.name)
    history_table = pd.concat(history_parts, ignore_index=True) if history_parts else None
    return RawSweep(
        runs=runs,
        format="wandb-api",
        source=str(path),
        history=history_table,
        id_column="id" if all_ids else None,
        name_column="name",
        state_column="state",
        runtime_column="_runtime",
        created_column="created_at",
        param_columns=builder.columns("config"),
        metric_columns=builder.columns("summary"),
        ignore_columns=[c for c in builder.columns("meta") if c in META_IGNORE] + builder.columns("media"),
        step_axis="_step" if history_table is not None else None,
        warnings=warnings,
    )
