"""Validate a model's answer on the client: JSON, the ``Prose`` schema, and the brief's own ids and sections.

Structured output is a request, not a guarantee: some OpenAI-compatible servers ignore
``response_format``, and a schema cannot say "only ids that exist" to a server that does not honour enums.
Every answer is therefore parsed with pydantic and checked against the brief; what is wrong comes back as
``Problem``s worded for the model, so a re-ask can quote them exactly.
"""

from __future__ import annotations

import re

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from reportgen.report.writing import Brief, Problem, Prose

_CODE_FENCE = re.compile(r"\A\s*```(?:json)?\s*\n(?P<body>.*?)\n?```\s*\Z", re.DOTALL)
_EXCERPT = 200


def check_answer(text: str | None, brief: Brief) -> tuple[Prose | None, list[Problem]]:
    """The prose in ``text`` when it is valid for ``brief``; otherwise ``None`` and what is wrong with it."""
    if text is None or not text.strip():
        return None, [Problem(where="answer", text="", message="the answer is empty")]
    fenced = _CODE_FENCE.match(text)  # tolerated: servers that ignore response_format like Markdown fences
    raw = fenced.group("body") if fenced else text
    try:
        prose = Prose.model_validate_json(raw)
    except ValidationError as err:
        return None, [_schema_problem(e) for e in err.errors(include_url=False)]
    problems = _section_problems(prose, brief) + _citation_problems(prose, brief)
    return (None, problems) if problems else (prose, [])


def _schema_problem(error: ErrorDetails) -> Problem:
    loc = tuple(error["loc"])
    where = _where(loc)
    excerpt = str(error.get("input", ""))
    text = excerpt if len(excerpt) <= _EXCERPT else excerpt[:_EXCERPT] + "..."
    if error["type"] == "json_invalid":
        return Problem(where="answer", text=text, message=f"the answer is not valid JSON: {error['msg']}")
    if error["type"] == "too_short" and loc and loc[-1] == "cites":
        return Problem(
            where=where, text=text, message="cites nothing", fix="cite the ids of the findings it rests on"
        )
    return Problem(where=where, text=text, message=f"does not match the schema: {error['msg']}")


def _where(loc: tuple[object, ...]) -> str:
    """A validation location as the prompt words it: ``("sections", 0, "paragraphs", 1)`` ->
    "section 1, paragraph 2"."""
    names = {"sections": "section", "paragraphs": "paragraph", "recommendations": "recommendation"}
    parts: list[str] = []
    for i, item in enumerate(loc):
        if isinstance(item, int):
            continue
        nxt = loc[i + 1] if i + 1 < len(loc) else None
        parts.append(f"{names.get(str(item), item)} {nxt + 1}" if isinstance(nxt, int) else str(item))
    return ", ".join(parts) or "answer"


def _section_problems(prose: Prose, brief: Brief) -> list[Problem]:
    wanted = [s.key for s in brief.sections]
    written = [s.key for s in prose.sections]
    problems = [
        Problem(
            where=f"section {key}", text=key, message="is not one of the sections to write", fix="remove it"
        )
        for key in dict.fromkeys(written)
        if key not in wanted
    ]
    problems += [
        Problem(where=f"section {key}", text=key, message="is written more than once", fix="merge them")
        for key in dict.fromkeys(written)
        if written.count(key) > 1
    ]
    problems += [
        Problem(where=f"section {key}", text=key, message="is missing", fix="write it")
        for key in wanted
        if key not in written
    ]
    return problems


def _citation_problems(prose: Prose, brief: Brief) -> list[Problem]:
    known = brief.finding_ids()
    fix = "cite only ids of findings in the brief"
    problems: list[Problem] = []
    for section in prose.sections:
        for n, paragraph in enumerate(section.paragraphs, start=1):
            problems += [
                Problem(where=f"section {section.key}, paragraph {n}", text=i, message=_unknown(i), fix=fix)
                for i in paragraph.cites
                if i not in known
            ]
    for n, rec in enumerate(prose.recommendations, start=1):
        problems += [
            Problem(where=f"recommendation {n}", text=i, message=_unknown(i), fix=fix)
            for i in rec.cites
            if i not in known
        ]
    return problems


def _unknown(finding_id: str) -> str:
    return f"cites {finding_id!r}, which is not a finding id in the brief"
