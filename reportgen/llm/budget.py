"""Prompt-token budgets: count before every call, reduce the brief in a declared order, never truncate.

A brief for a big sweep can outgrow a small model's context. ``fit_brief`` counts the whole first request
(messages and the response schema) with the offline cl100k_base encoding and, while it is over budget,
applies ``REDUCTIONS`` in order, least informative first:

1. drop the facts of info-severity findings
2. drop the facts of low-severity findings
3. shorten every finding's run list to its first few ids (``runs_total`` keeps the true count)
4. drop the sections' table lines (the report still shows the tables; only the writer does not see them)
5. drop info-severity findings entirely
6. drop low-severity findings entirely
7. drop the facts of medium-severity findings

High-severity findings are never touched. Each step that changed something is recorded as a sentence
(for ``Usage.budget_reductions``, and in ``Brief.omitted`` so the writer knows what it was not shown). If
the request still does not fit, ``PromptBudgetError`` says by how much: a silently clipped prompt would
make the report quietly skip findings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reportgen.llm.errors import PromptBudgetError, WriterConfigError
from reportgen.llm.tokens import count_tokens
from reportgen.report.writing import Brief, BriefFinding

# Per-message framing tokens of the chat format (role, separators) and the reply's priming tokens, as
# OpenAI documents them for cl100k-era models; other servers' templates differ a little.
MESSAGE_OVERHEAD = 4
REPLY_OVERHEAD = 3


@dataclass(frozen=True)
class Budget:
    """How many prompt tokens one call may use, and how far run lists are shortened when over it."""

    prompt_tokens: int = 8_000
    runs_kept: int = 3

    def __post_init__(self) -> None:
        if self.prompt_tokens < 1 or self.runs_kept < 1:
            raise WriterConfigError(
                "token budget must be positive "
                f"(prompt_tokens={self.prompt_tokens}, runs_kept={self.runs_kept})"
            )


def count_request(messages: Sequence[dict[str, str]], response_format: dict[str, object] | None) -> int:
    """Prompt tokens of one chat request: every message, its framing, and the response schema (None for
    a server that does not put the schema in the prompt, like llama.cpp, which compiles it to a grammar)."""
    text_tokens = sum(count_tokens(m["content"]) + MESSAGE_OVERHEAD for m in messages)
    if response_format is None:
        return text_tokens + REPLY_OVERHEAD
    return text_tokens + REPLY_OVERHEAD + count_tokens(json.dumps(response_format, separators=(",", ":")))


@dataclass(frozen=True)
class Fitted:
    """A brief that fits, the reductions that made it fit, and its request's prompt tokens."""

    brief: Brief
    reductions: list[str]
    tokens: int


Reduction = Callable[[Brief, Budget], tuple[Brief, str | None]]


def fit_brief(brief: Brief, count: Callable[[Brief], int], budget: Budget) -> Fitted:
    """``brief`` reduced by ``REDUCTIONS`` until ``count(brief)`` is within the budget."""
    tokens = count(brief)
    reductions: list[str] = []
    for reduce in REDUCTIONS:
        if tokens <= budget.prompt_tokens:
            break
        reduced, did = reduce(brief, budget)
        if did is None:
            continue
        brief = reduced.model_copy(update={"omitted": [*reduced.omitted, did]})
        after = count(brief)
        reductions.append(f"{did} ({tokens:,} -> {after:,} prompt tokens; budget {budget.prompt_tokens:,})")
        tokens = after
    if tokens > budget.prompt_tokens:
        raise PromptBudgetError(
            f"the prompt needs {tokens:,} tokens, over the budget of {budget.prompt_tokens:,} even after "
            f"{len(reductions)} reductions; raise the budget or use a model with a larger context"
        )
    return Fitted(brief=brief, reductions=reductions, tokens=tokens)


def _drop_facts(severity: str) -> Reduction:
    def reduce(brief: Brief, budget: Budget) -> tuple[Brief, str | None]:
        hit = {f.id for f in brief.findings if f.severity == severity and f.facts}
        if not hit:
            return brief, None
        findings = [f.model_copy(update={"facts": []}) if f.id in hit else f for f in brief.findings]
        return brief.model_copy(update={"findings": findings}), (
            f"dropped the facts of {_n(len(hit), f'{severity}-severity finding')}"
        )

    return reduce


def _shorten_runs(brief: Brief, budget: Budget) -> tuple[Brief, str | None]:
    hit = {f.id for f in brief.findings if len(f.runs) > budget.runs_kept}
    if not hit:
        return brief, None
    findings = [_shortened(f, budget.runs_kept) if f.id in hit else f for f in brief.findings]
    return brief.model_copy(update={"findings": findings}), (
        f"shortened the run lists of {_n(len(hit), 'finding')} to their first {budget.runs_kept} run ids"
    )


def _shortened(finding: BriefFinding, keep: int) -> BriefFinding:
    total = max(finding.runs_total, len(finding.runs))
    return finding.model_copy(update={"runs": finding.runs[:keep], "runs_total": total})


def _drop_table_lines(brief: Brief, budget: Budget) -> tuple[Brief, str | None]:
    hit = [s for s in brief.sections if s.table_lines]
    if not hit:
        return brief, None
    sections = [s.model_copy(update={"table_lines": []}) for s in brief.sections]
    return brief.model_copy(update={"sections": sections}), (
        f"dropped the table lines of {_n(len(hit), 'section')} ({', '.join(s.key for s in hit)})"
    )


def _drop_findings(severity: str) -> Reduction:
    def reduce(brief: Brief, budget: Budget) -> tuple[Brief, str | None]:
        gone = {f.id for f in brief.findings if f.severity == severity}
        if not gone:
            return brief, None
        sections = [
            s.model_copy(update={"findings": [i for i in s.findings if i not in gone]})
            for s in brief.sections
        ]
        changes = [
            c.model_copy(update={"cites": [i for i in c.cites if i not in gone]}) for c in brief.next_sweep
        ]
        update = {
            "findings": [f for f in brief.findings if f.id not in gone],
            "sections": sections,
            "next_sweep": changes,
        }
        return brief.model_copy(update=update), (
            f"dropped {_n(len(gone), f'{severity}-severity finding')} ({', '.join(sorted(gone))})"
        )

    return reduce


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


REDUCTIONS: tuple[Reduction, ...] = (
    _drop_facts("info"),
    _drop_facts("low"),
    _shorten_runs,
    _drop_table_lines,
    _drop_findings("info"),
    _drop_findings("low"),
    _drop_facts("medium"),
)
