"""JSON as trackers write it: bare NaN/Infinity tokens, nested dicts, and JSON lines of per-step records.

W&B and Ray Tune write non-finite floats as the bare tokens `NaN`, `Infinity`, `-Infinity`. The NaN token is
parsed into a sentinel (`NAN_TOKEN`) first so that, in per-step records, a metric logged as NaN stays
distinguishable from a metric that was not logged at that step (an absent key). `cell` turns the sentinel
into a float NaN once a value lands in a runs table.

Nested dicts (a config section, `{"val": {"loss": ...}}` metrics) become one key per leaf, joined by the
format's separator: '.' for W&B (as its UI shows nested config), '/' for Ray Tune (as its `progress.csv`
names nested results). Summaries, configs and per-step records of one format are flattened alike.
"""

from __future__ import annotations

import json
import math
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reportgen.errors import InputError
from reportgen.io.tables import json_error

NAN_TOKEN = "\x00NaN"
"""What the bare JSON `NaN` token parses to, until cells are turned into floats."""
_SCALARS = (str, int, float, bool)
_JSON_KINDS = {
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


def _constant(token: str) -> float | str:
    return NAN_TOKEN if token == "NaN" else (math.inf if token == "Infinity" else -math.inf)


def loads(text: str) -> Any:
    """`json.loads` with the NaN token kept apart (see `NAN_TOKEN`)."""
    return json.loads(text, parse_constant=_constant)


def parse(path: Path, text: str) -> Any:
    """`loads`, with a syntax error (or nesting too deep to parse) as a one-line InputError."""
    try:
        return loads(text)
    except json.JSONDecodeError as exc:
        raise json_error(path, text, exc) from None
    except RecursionError:
        raise InputError("JSON nested too deeply to read", path=path) from None


def cell(value: Any) -> Any:
    """A JSON value as a runs-table cell: NaN token -> float NaN, lists and media dicts -> JSON text."""
    if isinstance(value, str) and value == NAN_TOKEN:
        return math.nan
    if value is None or isinstance(value, _SCALARS):
        return value
    if not isinstance(value, (dict, list, tuple)):
        return str(value)  # YAML dates and the like: their own spelling, not a quoted JSON string
    return json.dumps(value, default=str, sort_keys=True, allow_nan=True).replace(
        json.dumps(NAN_TOKEN), "NaN"
    )


def key_text(value: Any) -> str | None:
    """A JSON id or name as the string that keys a run (None when absent or NaN).

    Integral numbers read as integers (`5.0` -> "5"), as assembly reads a numeric id column, so a runs table
    and a history keyed by the same value agree.
    """
    value = cell(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return str(value)


def is_media(value: Any) -> bool:
    """Logged media (tables, html, images) are dicts tagged with `_type`; they are not metrics."""
    return isinstance(value, dict) and "_type" in value


def flatten(mapping: dict[Any, Any], sep: str = ".", prefix: str = "") -> dict[str, Any]:
    """Nested dicts to `a{sep}b` keys; media dicts stay whole, empty dicts carry nothing and are dropped."""
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and not is_media(value):
            out.update(flatten(value, sep, name + sep))
        elif not (isinstance(value, dict) and not value):
            out[name] = value
    return out


def read_json_lines(path: Path, text: str, what: str) -> list[dict[str, Any]]:
    """The records of a JSON-lines file, one `what` object per line (blank lines skipped).

    The file is parsed in one call (the lines joined into an array); only when that fails, or yields other
    than one object per line, are lines parsed one by one to name the bad one (`row` is its line number).
    """
    # map/filter over C builtins: no Python step per line. A line break never sits inside a valid JSON
    # string, so the lines joined with commas are the array of the records
    lines = list(filter(None, map(str.strip, text.split("\n"))))
    if not lines:
        return []
    try:
        records = loads(f"[{','.join(lines)}]")
    except (json.JSONDecodeError, RecursionError):
        records = None
    if (
        isinstance(records, list)
        and len(records) == len(lines)  # not `{..}, {..}` on one line
        and set(map(type, records)) == {dict}  # C-level: no Python step per record
    ):
        return records
    raise _bad_line(path, text, what)


def _bad_line(path: Path, text: str, what: str) -> InputError:
    """The error for the first line that is not one JSON object (error path only: a loop per line)."""
    offset = 0
    for number, line in enumerate(text.split("\n"), start=1):
        start, offset = offset, offset + len(line) + 1
        if not line.strip():
            continue
        try:
            value = loads(line)
        except json.JSONDecodeError as exc:
            # positions in the whole text, so a cut-off last line reads as a truncated file
            where = json.JSONDecodeError(exc.msg, text, start + exc.pos)
            return InputError(json_error(path, text, where).detail, path=path, row=number)
        except RecursionError:
            return InputError("JSON nested too deeply to read", path=path, row=number)
        if not isinstance(value, dict):
            kind = _JSON_KINDS.get(type(value), "value")
            return InputError(
                f"line holds a JSON {kind}; expected one {what} object per line", path=path, row=number
            )
    return InputError(f"expected one {what} JSON object per line", path=path)


def records_frame(records: list[dict[str, Any]], sep: str, skip: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per-step records as a frame of raw cells, nested dicts flattened into `a{sep}b` columns.

    Top-level keys in `skip` are dropped before flattening. An absent key is a missing cell (not logged);
    the NaN token and media dicts stay as they are for the caller's masks. Flattening works column by
    column, never record by record.
    """
    if not records:
        return pd.DataFrame()
    frame = pd.DataFrame.from_records(records)
    frame = frame.drop(columns=[c for c in frame.columns if c in skip])
    return pd.DataFrame(_flat_columns(frame, sep, ""), index=frame.index)


def _flat_columns(frame: pd.DataFrame, sep: str, prefix: str) -> dict[str, pd.Series]:
    out: dict[str, pd.Series] = {}

    def put(name: str, column: pd.Series) -> None:
        # `a.b` written flat and `{"a": {"b": ..}}` nested name one column; where both hold a value the
        # later key wins, as in `flatten`
        out[name] = column if name not in out else column.combine_first(out[name])

    for key, column in frame.items():
        name = f"{prefix}{key}"
        values = column.to_numpy()
        if column.dtype != object or dict not in set(map(type, values)):
            put(name, column)
            continue
        nested = np.fromiter(map(isinstance, values, repeat(dict)), dtype=bool, count=len(values))
        dicts = values[nested]
        # media dicts (`_type`) stay whole; dict.__contains__ keeps the test in C, not a step per cell
        nested[nested] = ~np.fromiter(
            map(dict.__contains__, dicts, repeat("_type")), dtype=bool, count=len(dicts)
        )
        inner = pd.DataFrame(list(values[nested]), index=frame.index[nested])
        for inner_name, inner_column in _flat_columns(inner, sep, name + sep).items():
            put(inner_name, inner_column.reindex(frame.index))
        rest = column.where(~nested)
        if rest.notna().any():  # a key logged as a number at some steps and as a dict at others
            put(name, rest)
    return out
