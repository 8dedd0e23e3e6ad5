"""The flags every command that reads an export shares, and their translation to LoadOptions."""

from __future__ import annotations

import argparse
from pathlib import Path

from reportgen.errors import UsageError


def add_load_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("reading the export")
    g.add_argument("--history", type=Path, help="history table (long or wide) or folder of per-run files")
    g.add_argument("--input-format", help="skip sniffing; see `reportgen formats`")
    g.add_argument("--study", help="Optuna study name when the storage holds several")
    g.add_argument(
        "--run-key", help="comma-separated columns that identify a run (e.g. openmlid,learner,seed)"
    )
    g.add_argument("--step", help="the history's step column (e.g. size_train)")
    g.add_argument("--objective", help="objective metric and direction, e.g. val_loss:min")
    g.add_argument("--params", help="comma-separated parameter columns (overrides inference)")
    g.add_argument("--metrics", help="comma-separated metric columns (overrides inference)")
    g.add_argument("--sweep-config", type=Path, help="W&B sweep YAML declaring the search space")
    g.add_argument(
        "--history-engine",
        choices=("memory", "chunked", "duckdb"),
        default="memory",
        help="how to read a long Parquet --history (a file or a folder of them): memory (default) reads "
        "it whole; chunked (pyarrow, in row batches, memory bounded by the batch) and duckdb (out of core, "
        "needs reportgen[duckdb]) reduce it: per-curve counts, first/last, min/max and NaN/inf onsets and "
        "per-run step counts stay exact, while the checks that read curves row by row (spikes, trends, "
        "plateaus, plots) see at most --max-points real logged rows per curve",
    )
    g.add_argument(
        "--max-points",
        type=int,
        default=1000,
        help="rows kept per curve by --history-engine chunked/duckdb, evenly spaced, first and last "
        "included; a curve with this many rows or fewer is kept whole (default 1000, at least 2)",
    )
    g.add_argument(
        "--duckdb-memory-limit",
        default="1GB",
        help="DuckDB's memory limit for --history-engine duckdb (e.g. 512MB); beyond it, it spills to disk",
    )


def _csv(value: str | None) -> tuple[str, ...] | None:
    """A comma-separated flag value as a tuple (None when absent or empty)."""
    if value is None:
        return None
    items = tuple(v.strip() for v in value.split(",") if v.strip())
    return items or None


def csv_list(value: str | None) -> list[str] | None:
    """A comma-separated flag value as a list (None when absent or empty)."""
    items = _csv(value)
    return list(items) if items else None


def load_options_from(args: argparse.Namespace):  # -> LoadOptions (imported lazily)
    from reportgen.io.options import LoadOptions

    objective = None
    if args.objective:
        metric, sep, direction = args.objective.rpartition(":")
        if not sep or direction not in ("min", "max") or not metric:
            raise UsageError(f"--objective must be METRIC:min or METRIC:max, not {args.objective!r}")
        objective = (metric, direction)
    max_points = getattr(args, "max_points", 1000)
    if max_points < 2:
        raise UsageError(f"--max-points must be at least 2, not {max_points}")
    return LoadOptions(
        input_format=args.input_format,
        history=args.history,
        study=args.study,
        run_key=_csv(args.run_key),
        step=args.step,
        objective=objective,
        params=_csv(args.params),
        metrics=_csv(args.metrics),
        sweep_config=args.sweep_config,
        history_engine=getattr(args, "history_engine", "memory"),
        max_points=max_points,
        duckdb_memory_limit=getattr(args, "duckdb_memory_limit", "1GB"),
    )
