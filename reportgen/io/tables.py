"""Reading plain tables (CSV, TSV, JSON, JSONL, Parquet) robustly into DataFrames.

Every loader that reads a table goes through here, so odd files get one treatment: a UTF-8 BOM, CRLF line
ends, quoted newlines, `;`/tab/`|` delimiters, non-UTF-8 text (cp1252, then latin-1, with a warning),
the NaN/Infinity spellings trackers write, and one-line `InputError`s for binary, empty or truncated files.
Cells are not interpreted beyond that; `values.py` decides column types.
"""

from __future__ import annotations

import csv
import io
import json
import warnings as warnings_module
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from reportgen.errors import InputError
from reportgen.io.infer import ID_CANDIDATES

# Spellings read as missing. "None" and "NA" are deliberately absent: they are legitimate category values
# ("norm: None") far more often than they are missing markers in sweep exports.
NA_TOKENS = ["", "nan", "NaN", "NAN", "-nan", "-NaN", "null", "NULL", "#N/A", "N/A", "n/a", "<NA>"]

TABLE_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}

_SNIFF_BYTES = 64 * 1024


def head_bytes(path: Path, n: int = _SNIFF_BYTES) -> bytes:
    """The first `n` bytes of a file, or b"" when it cannot be read (sniffers must not raise)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(n)
    except OSError:
        return b""


def table_kind(path: Path) -> str | None:
    """'csv', 'json', 'jsonl' or 'parquet' by suffix, then by content; None for a non-table."""
    if path.is_dir():
        return None
    kind = TABLE_SUFFIXES.get(path.suffix.lower())
    if kind:
        return kind
    head = head_bytes(path, 4096)
    if head.startswith(b"PAR1"):
        return "parquet"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{"):
        first_line = text.split(b"\n", 1)[0].strip()
        return "jsonl" if first_line.endswith(b"}") and b"\n{" in text else "json"
    if head and b"\x00" not in head:
        return "csv"
    return None


def decode_text(path: Path, data: bytes, warnings: list[str]) -> str:
    """Bytes to text: UTF-8 (BOM stripped), else cp1252, else latin-1, saying which was used."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        for encoding in ("cp1252", "latin-1"):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            warnings.append(
                f"{path.name}: not valid UTF-8 (byte {exc.start}); read as {encoding}, check accented names"
            )
            return text
    raise InputError("cannot decode the file as text", path=path)  # pragma: no cover - latin-1 decodes all


def file_text(path: Path, warnings: list[str]) -> str:
    """A small text file's decoded content (empty allowed); a read error is a one-line InputError."""
    try:
        return decode_text(path, path.read_bytes(), warnings)
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror or type(exc).__name__})", path=path) from None


def read_text(path: Path, warnings: list[str], expected: str) -> str:
    """A text file's decoded content; a folder, a missing, binary or empty file is a one-line error
    saying what was `expected` (e.g. "a header row and one row per run")."""
    if path.is_dir():
        raise InputError("is a folder; expected a file", path=path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or type(exc).__name__}", path=path) from None
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise InputError(f"binary content; expected {expected}", path=path)
    text = decode_text(path, data, warnings)
    if not text.strip():
        raise InputError(f"empty file; expected {expected}", path=path)
    return text


def sniff_delimiter(sample: str) -> str:
    """The delimiter of a CSV sample among , ; tab | (comma when unsure)."""
    lines = [ln for ln in sample.splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        header = lines[0]
        counts = {d: header.count(d) for d in ",;\t|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def read_csv_table(
    path: Path, warnings: list[str], na_values: list[str] | None = None, **kwargs: Any
) -> pd.DataFrame:
    """A CSV/TSV file as a DataFrame, with delimiter, encoding and NaN/inf spellings handled.

    `na_values` replaces the missing-value spellings (history reading passes [""] to keep `nan` tokens).
    """
    text = read_text(path, warnings, "a header row and one row per run")
    # run ids are text: "007" must not become 7 (its history file and the tracker's UI say "007");
    # Optuna's trial `number` is a plain integer and stays one
    kwargs.setdefault("dtype", {c: "str" for c in ID_CANDIDATES if c != "number"})
    sep = sniff_delimiter(text[:_SNIFF_BYTES])
    try:
        df = parse_csv_text(
            path,
            text,
            sep,
            keep_default_na=False,
            na_values=NA_TOKENS if na_values is None else na_values,
            skipinitialspace=True,
            **kwargs,
        )
    except pd.errors.EmptyDataError:
        raise InputError("no header row; expected column names on the first line", path=path) from None
    try:
        header = next(csv.reader(io.StringIO(text.split("\n", 1)[0]), delimiter=sep), [])
    except csv.Error as exc:
        raise InputError(f"malformed CSV header ({exc})", path=path) from None
    _check_header(path, header)
    return df


def parse_csv_text(path: Path, text: str, sep: str, **kwargs: Any) -> pd.DataFrame:
    """`pd.read_csv` over decoded text, strict about row widths; errors are one-line InputErrors.

    `index_col=False`: a first row with one cell too many must not silently become the index (shifting
    every column); pandas then warns instead, which is an error here. EmptyDataError passes through.
    """
    try:
        with warnings_module.catch_warnings():
            warnings_module.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(io.StringIO(text), sep=sep, index_col=False, **kwargs)
    except pd.errors.ParserWarning:
        raise too_many_cells(path, text, sep) from None
    except (pd.errors.ParserError, csv.Error) as exc:
        wide = too_many_cells(path, text, sep)  # pandas says "line N"; name the row as every error does
        if wide.row is not None:
            raise InputError(f"malformed CSV: {wide.detail}", path=path, row=wide.row) from None
        raise InputError(f"malformed CSV: {' '.join(str(exc).split())}", path=path) from None


def too_many_cells(path: Path, text: str, sep: str) -> InputError:
    """The error for a data row holding more cells than the header names (found on the error path only)."""
    # newline="": the csv module splits rows itself, so a bare "\r" ends a row as it does for pandas
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    width = 0
    try:
        width = len(next(rows, []))
        for number, row in enumerate(rows, start=2):
            if len(row) > width:
                return InputError(
                    f"has {len(row)} cells but the header names {width} columns", path=path, row=number
                )
    except csv.Error as exc:  # a row the csv module cannot split either: say what it saw
        return InputError(f"malformed CSV: {exc}", path=path)
    return InputError(f"a row has more cells than the header's {width} columns", path=path)


def _check_header(path: Path, columns: Iterable[object]) -> None:
    names = [str(c).strip() for c in columns]
    unnamed = [i + 1 for i, c in enumerate(names) if not c.strip()]
    if unnamed:
        raise InputError(f"column {unnamed[0]} has no name in the header row", path=path)
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputError("column name appears twice in the header", path=path, column=name)
        seen.add(name)


def json_error(path: Path, text: str, exc: json.JSONDecodeError) -> InputError:
    """A JSON syntax error as a one-line InputError; an error at the very end (or an unterminated string,
    which swallows the rest of the file) means the file was cut off."""
    cut = exc.pos >= len(text.rstrip()) - 2 or exc.msg.startswith("Unterminated")
    what = "truncated JSON" if cut else f"invalid JSON ({exc.msg})"
    return InputError(f"{what} at line {exc.lineno} column {exc.colno}", path=path)


def parse_json_text(path: Path, text: str) -> Any:
    """JSON text to Python, accepting NaN/Infinity tokens; a syntax error names its line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise json_error(path, text, exc) from None


def read_json_records(path: Path, warnings: list[str]) -> list[Any]:
    """The records of a JSON array file or a JSONL file, as parsed Python objects."""
    text = read_text(path, warnings, "a JSON array of runs or one JSON object per line")
    stripped = text.lstrip()
    if stripped.startswith("["):
        parsed = parse_json_text(path, text)
        return list(parsed)
    if stripped.startswith("{"):
        try:
            return [json.loads(text)] if "\n{" not in stripped else _jsonl(path, text)
        except json.JSONDecodeError:
            return _jsonl(path, text)
    raise InputError("expected a JSON array or JSON objects, one per line", path=path)


def _jsonl(path: Path, text: str) -> list[Any]:
    out = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON on this line ({exc.msg})", path=path, row=lineno) from None
    return out


def records_to_frame(path: Path, records: list[Any]) -> pd.DataFrame:
    """Flat records (nested dicts flattened with '.') to a DataFrame; non-dict records are an error."""
    if len(records) == 1 and isinstance(records[0], dict):
        only = records[0]
        # {"runs": [...]} / {"data": [...]} wrappers, or a dict of equal-length columns
        for key in ("runs", "data", "records", "trials"):
            if isinstance(only.get(key), list):
                records = only[key]
                break
        else:
            if only and all(isinstance(v, list) for v in only.values()):
                lengths = {len(v) for v in only.values()}
                if len(lengths) == 1:
                    return _nested_as_text(pd.DataFrame(only))
    for i, rec in enumerate(records, start=1):
        if not isinstance(rec, dict):
            raise InputError(
                f"record {i} is a {type(rec).__name__}; expected an object with one key per column",
                path=path,
            )
    if not records:
        return pd.DataFrame()
    return _nested_as_text(pd.json_normalize(records, sep="."))


def _nested_as_text(df: pd.DataFrame) -> pd.DataFrame:
    """List (and leftover dict) cells as their JSON text: a cell must be hashable to be counted, compared
    or used as an id, and the text is how the value was written."""
    for col in [c for c in df.columns if pd.api.types.is_object_dtype(df[c].dtype)]:
        values = df[col]
        nested = values.map(lambda v: isinstance(v, list | dict))
        if nested.any():
            df[col] = values.where(~nested, values[nested].map(lambda v: json.dumps(v, default=str)))
    return df


def read_parquet_table(path: Path) -> pd.DataFrame:
    """A Parquet file as a DataFrame; a truncated or non-Parquet file is a one-line error."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.is_dir():
        raise InputError("is a folder; expected a Parquet file", path=path)
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise unreadable_parquet(exc, path) from None
    return table.to_pandas()


def unreadable_parquet(exc: BaseException, path: Path) -> InputError:
    """The one-line error for a Parquet file pyarrow cannot read: the first line of its message."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return InputError(f"not a readable Parquet file ({first})", path=path)


def read_table(path: Path, warnings: list[str]) -> pd.DataFrame:
    """Any plain table file as a DataFrame, by suffix or content."""
    if not path.exists():
        raise InputError("no such file or folder", path=path)
    kind = table_kind(path)
    if kind is None:
        if path.is_dir():
            raise InputError("is a folder that holds no export reportgen recognises", path=path)
        raise InputError("binary content where a CSV, JSON or Parquet table was expected", path=path)
    if kind == "csv":
        return read_csv_table(path, warnings)
    if kind == "parquet":
        return read_parquet_table(path)
    df = records_to_frame(path, read_json_records(path, warnings))
    _check_header(path, df.columns)
    return df
