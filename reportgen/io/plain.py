"""Plain tables: a runs table in CSV, TSV, JSON, JSONL or Parquet, one row per run (or one row per run and
step, for learning-curve tables read with --run-key/--step). The catch-all format, tried last."""

from __future__ import annotations

from pathlib import Path

from reportgen.io.options import LoadOptions
from reportgen.io.raw import RawSweep
from reportgen.io.registry import LoaderSpec
from reportgen.io.tables import read_table, table_kind


def _sniff(path: Path) -> bool:
    return path.is_file() and table_kind(path) is not None


def _read(path: Path, options: LoadOptions) -> RawSweep:
    warnings: list[str] = []
    df = read_table(path, warnings)
    return RawSweep(runs=df, format="table", source=str(path), warnings=warnings)


PLAIN_TABLE = LoaderSpec(
    name="table",
    summary="a runs table: CSV/TSV, JSON, JSONL or Parquet (one row per run, or per run and step)",
    sniff=_sniff,
    read=_read,
)
