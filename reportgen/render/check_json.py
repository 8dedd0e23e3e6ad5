"""`reportgen check --format json`: every extracted claim, for tools.

Shape (``schema_version`` 1)::

    {"schema_version": 1,
     "claims": [{"path", "line", "column", "end_line", "end_column", "text", "verdict", "code", "name",
                 "message", "expected", "fix", "suppressed"}],
     "diagnostics": [{"path", "line", "column", "end_line", "end_column", "text", "severity", "code",
                      "name", "message", "fix"}],
     "summary": {"supported", "contradicted", "unverifiable", "suppressed"}}

``claims`` holds every claim of every draft, supported and suppressed ones included, in draft then source
order; positions are 1-based, ``end_column`` exclusive, columns in code points. ``code`` is the bare code
(``FCT003``), ``name`` its problem name (``comparison-false``). ``fix`` is the suggested replacement of the
span's source text, or null. ``expected`` is the fact that decided the claim: a number, null when there is
none, or the string ``"nan"``, ``"inf"`` or ``"-inf"`` for a non-finite fact (JSON has no such numbers, and
a NaN loss is exactly the kind of fact a report gets wrong). ``diagnostics`` holds the checker's own
warnings about directives (FCT090, FCT091). ``summary`` counts unsuppressed claims per verdict over all
drafts; suppressed claims count only under ``suppressed``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from reportgen.factcheck.diagnostics import CheckResult, Diagnostic, Summary

SCHEMA_VERSION = 1


def json_number(value: float | None) -> float | str | None:
    """A float as JSON allows it: non-finite values become ``"nan"``, ``"inf"`` or ``"-inf"``."""
    if value is None or math.isfinite(value):
        return value
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


def _position(path: str, d: Diagnostic) -> dict[str, Any]:
    return {
        "path": path,
        "line": d.line,
        "column": d.column,
        "end_line": d.end_line,
        "end_column": d.end_column,
        "text": d.text,
    }


def _claim(path: str, d: Diagnostic) -> dict[str, Any]:
    return {
        **_position(path, d),
        "verdict": d.verdict,
        "code": d.code,
        "name": d.name,
        "message": d.message,
        "expected": json_number(d.expected),
        "fix": None if d.fix is None else d.fix.replacement,
        "suppressed": d.suppressed,
    }


def _meta(path: str, d: Diagnostic) -> dict[str, Any]:
    return {
        **_position(path, d),
        "severity": d.severity,
        "code": d.code,
        "name": d.name,
        "message": d.message,
        "fix": None if d.fix is None else d.fix.replacement,
    }


def render_json(results: Sequence[CheckResult]) -> str:
    """The JSON document described in the module docstring, indented, ending in a newline."""
    doc = {
        "schema_version": SCHEMA_VERSION,
        "claims": [_claim(r.path, d) for r in results for d in r.claims],
        "diagnostics": [_meta(r.path, d) for r in results for d in r.meta],
        "summary": Summary.total(results).as_dict(),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
