"""The chat messages a writer sends: the system prompt, the fenced brief, and re-asks.

The brief is sweep data, and sweep data is untrusted (a run note may read "ignore your instructions"). It
goes into the prompt as compact JSON between ``<sweep-data-ID>`` and ``</sweep-data-ID>``, where ID is
12 hex digits of the data's sha256 (random-looking, yet deterministic so recordings replay). What makes
the fence unbreakable is the escaping, not the id: every ``<`` inside the data is written as the JSON
escape ``\\u003c``, so the data cannot contain a closing tag, or any tag, at all.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from reportgen.llm.prompts import (
    FixClaimsContext,
    SectionLine,
    SystemContext,
    WriteReportContext,
    render,
)
from reportgen.llm.schema import Limits, prose_schema
from reportgen.report.model import SECTION_TITLES
from reportgen.report.writing import Brief, Problem

DATA_TAG = "sweep-data"
SCHEMA_NAME = "report_prose"

Message = dict[str, str]


def data_block(brief: Brief) -> tuple[str, str]:
    """(fence id, data): the brief (less ``omitted``, which the prompt lists itself) as compact JSON in
    which no ``<`` occurs, and a 12-hex-digit id derived from it."""
    payload = brief.model_dump(mode="json", exclude={"omitted"})
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:12], data


def fix_request(problems: list[Problem], *, truncated: bool, limits: Limits) -> str:
    """The text asking for a corrected answer: the problems verbatim, or that the answer was cut off."""
    return render(FixClaimsContext(problems=problems, truncated=truncated, limits=limits)).strip()


@dataclass
class Conversation:
    """One write: the brief, the answer's bounds, the opening request and the latest re-ask.

    Only the latest re-ask is kept (the rejected answer and its problems), so every re-ask costs about
    the same number of tokens however many came before it.
    """

    brief: Brief
    limits: Limits
    system: str
    request: str
    answer: str | None = None
    fix: str | None = None
    shortened: bool = False
    ordered: bool = False

    @classmethod
    def start(
        cls, brief: Brief, feedback: list[Problem] | None, limits: Limits, ordered: bool = False
    ) -> Conversation:
        """The first request: system prompt and the brief, with the checker's problems when re-asked;
        ``ordered`` fixes the sections' order in the schema (``prose_schema``)."""
        fence, data = data_block(brief)
        user = WriteReportContext(
            data_tag=DATA_TAG,
            fence=fence,
            data=data,
            omitted=list(brief.omitted),
            sections=[
                SectionLine(key=s.key, title=SECTION_TITLES.get(s.key, s.key), findings=s.findings)
                for s in brief.sections
            ],
            limits=limits,
            # the compact schema: the order is in the section list above, and the ordered one repeats the
            # section schema once per section (it goes only to the server, in response_format)
            answer_schema=json.dumps(prose_schema(brief, limits), separators=(",", ":")),
            fix_request=fix_request(feedback, truncated=False, limits=limits) if feedback else "",
        )
        system = render(SystemContext(data_tag=DATA_TAG)).strip()
        return cls(brief=brief, limits=limits, system=system, request=render(user).strip(), ordered=ordered)

    @property
    def messages(self) -> list[Message]:
        """The chat messages to send now."""
        opening = {"role": "system", "content": self.system}
        if self.fix is None:
            return [opening, {"role": "user", "content": self.request}]
        if self.answer is None:  # one user message: some chat templates reject two in a row
            return [opening, {"role": "user", "content": f"{self.request}\n\n{self.fix}"}]
        return [
            opening,
            {"role": "user", "content": self.request},
            {"role": "assistant", "content": self.answer},
            {"role": "user", "content": self.fix},
        ]

    def response_format(self) -> dict[str, Any]:
        """The structured-output request for this conversation's schema."""
        schema = prose_schema(self.brief, self.limits, self.ordered)
        return {"type": "json_schema", "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": schema}}

    def reask(self, answer: str, problems: list[Problem]) -> None:
        """Send back the rejected answer with the problems found in it."""
        self.answer = answer
        self.fix = fix_request(problems, truncated=False, limits=self.limits)

    def reask_shorter(self) -> None:
        """Ask again after a cut-off answer, with tighter bounds. The cut-off text is not sent back: it is
        invalid JSON and would only eat the budget."""
        self.limits = self.limits.shorter()
        self.shortened = True
        self.answer = None
        self.fix = fix_request([], truncated=True, limits=self.limits)

    def drop_answer(self) -> bool:
        """Leave the rejected answer out of the re-ask (its problems quote the offending text), to fit
        the token budget; False when there is no answer to leave out."""
        if self.answer is None:
            return False
        self.answer = None
        return True
