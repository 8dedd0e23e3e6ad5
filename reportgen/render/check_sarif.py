"""`reportgen check --format sarif`: a SARIF 2.1.0 log for code-scanning tools and SARIF viewers.

One run; ``tool.driver`` is reportgen with its version and one rule per code that occurs (``id`` the code,
``name`` the problem name). Each result has ``ruleId``/``ruleIndex``, ``level`` (``error`` contradicted,
``warning`` unverifiable or a directive problem), the message, one physical location (the draft's path as a
relative URI with forward slashes, and the 1-based region; ``columnKind`` is ``unicodeCodePoints`` as the
checker counts columns) and, when the checker suggests one, a ``fix`` replacing the region. Suppressed
claims stay in the log with ``suppressions: [{"kind": "inSource"}]``, so viewers show them as suppressed.

Supported claims are left out by default: GitHub code scanning turns every result into an alert whatever
its ``kind``, so a "pass" per correct number would bury the real problems. With ``show_supported`` they are
included as ``kind: "pass"`` with ``level: "none"``, which is what SARIF means by "checked, no problem"
(§3.27.9 requires ``level`` ``none`` for any kind other than ``fail``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from reportgen.factcheck.diagnostics import META_DESCRIPTIONS, CheckResult, Diagnostic
from reportgen.render.check_json import json_number

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "none"}


def artifact_uri(path: str) -> str:
    """A draft path as a SARIF URI: relative paths percent-encoded with forward slashes, absolute ones
    as ``file://`` URIs."""
    pure = PurePath(path)
    if pure.is_absolute():
        return pure.as_uri()
    return quote(pure.as_posix())


def _region(d: Diagnostic) -> dict[str, int]:
    return {"startLine": d.line, "startColumn": d.column, "endLine": d.end_line, "endColumn": d.end_column}


def _rule(d: Diagnostic) -> dict[str, Any]:
    description = META_DESCRIPTIONS.get(f"{d.code} {d.name}") or f"{d.name.replace('-', ' ').capitalize()}."
    return {
        "id": d.code,
        "name": d.name,
        "shortDescription": {"text": description},
        "defaultConfiguration": {"level": _LEVEL[d.severity]},
    }


def _result(result: CheckResult, d: Diagnostic, rule_index: int) -> dict[str, Any]:
    uri = artifact_uri(result.path)
    out: dict[str, Any] = {"ruleId": d.code, "ruleIndex": rule_index}
    if d.verdict == "supported":
        out["kind"] = "pass"
    out["level"] = _LEVEL[d.severity]
    out["message"] = {"text": d.message}
    out["locations"] = [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": uri},
                "region": {**_region(d), "snippet": {"text": result.source(d)}},
            }
        }
    ]
    if d.fix is not None:
        old = result.source(d)
        what = f'replace "{old}" with "{d.fix.replacement}"' if d.fix.replacement else f'remove "{old}"'
        out["fixes"] = [
            {
                "description": {"text": what},
                "artifactChanges": [
                    {
                        "artifactLocation": {"uri": uri},
                        "replacements": [
                            {"deletedRegion": _region(d), "insertedContent": {"text": d.fix.replacement}}
                        ],
                    }
                ],
            }
        ]
    if d.suppressed:
        out["suppressions"] = [{"kind": "inSource"}]
    if d.verdict is not None:
        out["properties"] = {"verdict": d.verdict, "expected": json_number(d.expected)}
    return out


def render_sarif(results: Sequence[CheckResult], *, tool_version: str, show_supported: bool = False) -> str:
    """The SARIF log described in the module docstring, as indented JSON ending in a newline."""
    shown = [(r, d) for r in results for d in r.diagnostics if show_supported or d.verdict != "supported"]
    rules: dict[str, dict[str, Any]] = {}
    for _, d in sorted(shown, key=lambda rd: rd[1].code):
        rules.setdefault(d.code, _rule(d))
    index = {code: i for i, code in enumerate(rules)}
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {"name": "reportgen", "version": tool_version, "rules": list(rules.values())}
                },
                "columnKind": "unicodeCodePoints",
                "results": [_result(r, d, index[d.code]) for r, d in shown],
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
