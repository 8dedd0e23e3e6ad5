"""Hand-written cases: ``<cases>/<name>/`` with ``draft.md``, ``labels.json`` and ``case.json``.

``case.json``: ``{"sweep": "<bundled sweep>", "style": ..., "description": ...}``, where ``sweep`` names a
folder of ``reportgen/eval/suite-data/sweeps``. ``labels.json``: a list of ``{"line", "quote",
"expected", "error", "why"}``, optionally with ``"column"`` (1-based; else the first occurrence of
``quote`` on the line, or the ``"occurrence"``-th, 1-based). ``expected`` is what the *data* says the
checker should answer: supported, contradicted, or unverifiable (a claim the sweep cannot decide, or a
cause resting on one or two runs). ``error`` is one of ``perturb.ERROR_TYPES`` or ``none``.
"""

from __future__ import annotations

import json
from pathlib import Path

from reportgen.errors import InputError
from reportgen.eval.perturb import ERROR_TYPES, Case, Label


def load_case(folder: Path) -> Case:
    """One hand-written case; an ``InputError`` names the label that does not match its draft."""
    draft = (folder / "draft.md").read_text(encoding="utf-8")
    meta = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    lines = draft.splitlines()
    labels: list[Label] = []
    for i, raw in enumerate(json.loads((folder / "labels.json").read_text(encoding="utf-8"))):
        line, quote = int(raw["line"]), str(raw["quote"])
        where = f"{folder.name}/labels.json[{i}]"
        if not 1 <= line <= len(lines):
            raise InputError(f"{where}: line {line} is not in the draft")
        text = lines[line - 1]
        if "column" in raw:
            start = int(raw["column"]) - 1
        else:
            start = -1
            for _ in range(int(raw.get("occurrence", 1))):
                start = text.find(quote, start + 1)
        if start < 0 or text[start : start + len(quote)] != quote:
            raise InputError(f"{where}: {quote!r} is not on line {line}")
        if raw["error"] not in (*ERROR_TYPES, "none") or raw["expected"] not in (
            "supported",
            "contradicted",
            "unverifiable",
        ):
            raise InputError(f"{where}: unknown error type or verdict")
        labels.append(
            Label(
                line,
                start + 1,
                start + 1 + len(quote),
                quote,
                raw["expected"],
                raw["error"],
                raw["why"],
                "hand",
            )
        )
    return Case(f"cases/{folder.name}", meta["sweep"], draft, tuple(labels), "hand-written")


def load_cases(root: Path) -> list[Case]:
    """Every case folder under ``root`` (sorted by name)."""
    return [load_case(p.parent) for p in sorted(root.glob("*/labels.json"))]
