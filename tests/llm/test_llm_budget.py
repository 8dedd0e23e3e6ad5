"""The token budget: declared reduction order, what each step removes, and no silent truncation."""

from __future__ import annotations

import json
import re

import pytest

from reportgen.llm.budget import Budget, count_request, fit_brief
from reportgen.llm.conversation import Conversation
from reportgen.llm.errors import PromptBudgetError, WriterConfigError
from reportgen.llm.schema import Limits
from reportgen.llm.tokens import count_tokens
from reportgen.report.model import ParamChange

ORDER = [
    "dropped the facts of info-severity findings",
    "dropped the facts of low-severity findings",
    "shortened run lists",
    "dropped table lines",
    "dropped info-severity findings",
    "dropped low-severity findings",
    "dropped the facts of medium-severity findings",
]


def _step(reduction: str) -> str:
    """A recorded reduction's step, without its counts."""
    if reduction.startswith("shortened"):
        return "shortened run lists"
    if reduction.startswith("dropped the table lines"):
        return "dropped table lines"
    return re.sub(
        r"^dropped (the facts of )?\d+ (\w+)-severity findings? .*$",
        r"dropped \1\2-severity findings",
        reduction,
    )


def _size(brief) -> int:
    """A stand-in for the token count: the brief's JSON length (every reduction shrinks it)."""
    return len(brief.model_dump_json(exclude={"omitted"}))


def test_a_brief_that_fits_is_untouched(brief) -> None:
    fitted = fit_brief(brief, _size, Budget(prompt_tokens=1_000_000))
    assert fitted.brief == brief and fitted.reductions == [] and fitted.tokens == _size(brief)


def test_every_step_is_recorded_then_the_error_is_clear(brief_factory) -> None:
    big = brief_factory(findings=8, runs=10, facts=3, table_lines=5)
    with pytest.raises(PromptBudgetError, match=r"over the budget of 1 even after 7 reductions"):
        fit_brief(big, _size, Budget(prompt_tokens=1))


def test_steps_stop_once_the_brief_fits(brief_factory) -> None:
    big = brief_factory(findings=8, runs=10, facts=3, table_lines=5)
    after_runs = fit_brief(
        big, _size, Budget(prompt_tokens=3_000)
    ).reductions  # 3,940 chars; 2,904 after step 3
    assert [r.split(" (")[0] for r in after_runs] == [
        "dropped the facts of 2 info-severity findings",
        "dropped the facts of 2 low-severity findings",
        "shortened the run lists of 8 findings to their first 3 run ids",
    ]


def test_what_each_step_removes(brief_factory) -> None:
    big = brief_factory(findings=8, runs=10, facts=3, table_lines=5)
    low = [f.id for f in big.findings if f.severity == "low"]
    big = big.model_copy(
        update={"next_sweep": [ParamChange(param="lr", before="1e-3", after="1e-4", why="x", cites=low)]}
    )
    high_before = [f for f in big.findings if f.severity == "high"]

    fitted = fit_brief(big, _size, Budget(prompt_tokens=1_900))  # 1,800 chars after step 6
    small = fitted.brief

    kept = {f.severity for f in small.findings}
    assert kept == {"high", "medium"}
    assert [f for f in small.findings if f.severity == "high"] == [
        f.model_copy(update={"runs": f.runs[:3]}) for f in high_before
    ]
    assert all(f.runs_total == 10 for f in small.findings)
    assert all(s.table_lines == [] for s in small.sections)
    assert small.finding_ids() >= set(small.sections[0].findings)
    assert small.next_sweep[0].cites == []
    # the brief tells the writer what it leaves out; usage adds the token counts
    assert [f"{o} (" for o in small.omitted] == [
        r[: len(o) + 2] for o, r in zip(small.omitted, fitted.reductions, strict=True)
    ]
    assert [_step(r) for r in fitted.reductions] == ORDER[: len(fitted.reductions)]


def test_counting_covers_messages_and_schema(brief) -> None:
    convo = Conversation.start(brief, None, Limits())
    counted = count_request(convo.messages, convo.response_format())
    text = sum(count_tokens(m["content"]) for m in convo.messages)
    assert counted > text + count_tokens(str(convo.response_format()["json_schema"]["name"]))
    # a server that compiles the schema to a grammar (llama.cpp) is charged for the messages alone
    schema = count_tokens(json.dumps(convo.response_format(), separators=(",", ":")))
    assert count_request(convo.messages, None) == counted - schema


@pytest.mark.parametrize("budget", [{"prompt_tokens": 0}, {"runs_kept": 0}])
def test_budget_must_be_positive(budget) -> None:
    with pytest.raises(WriterConfigError):
        Budget(**budget)
