"""Superlatives over runs: "trial 4 had the highest learning rate", "the best val_loss came from trial 5"
(``FCT011 supported-ranking`` / ``FCT012 ranking-false``).

A superlative ("highest", "largest", "maximum"; "lowest", "smallest", "minimum"; "best", "worst") right
before a param, metric or ratio, and a run named in the same clause (before or after it), claim that the
run holds the extreme of that column among the runs with a finite value. "best"/"worst" follow the sweep's
objective direction for the objective metric, else the metric's name (loss, error, perplexity: lower is
better; accuracy, f1, auc, score, reward: higher is better); any other metric's "best" is unresolved. A
run that ties the extreme holds it. A superlative with no run in its clause is not a ranking claim (a
number after it, "the highest lr, 0.02", is checked by the value families).
"""

from __future__ import annotations

import re

import numpy as np

from reportgen.factcheck.claims import (
    RANKING_FALSE,
    SUPPORTED_RANKING,
    Claim,
    Verdict,
    make_verdict,
    unresolved,
)
from reportgen.factcheck.context import ATTRIBUTE_KINDS, RUN_KINDS, Sheet
from reportgen.factcheck.counts import clause
from reportgen.factcheck.entities import EntitySpan
from reportgen.factcheck.markdown import Unit
from reportgen.factcheck.wording import run_label, show

_SUPERLATIVE = re.compile(
    r"(?i)\b(?P<max>highest|largest|greatest|biggest|maximum|max)|(?P<min>lowest|smallest|minimum|min)"
    r"|(?P<best>best)|(?P<worst>worst)\b"
)
_LOWER_BETTER = re.compile(r"(?i)loss|error|err\b|perplexity|ppl|mse|mae|rmse|wer|cer")
_HIGHER_BETTER = re.compile(r"(?i)acc|f1|auc|score|reward|precision|recall|bleu|rouge|map\b|iou")


def metric_goal(sheet: Sheet, column: str) -> str | None:
    """ "min" or "max": which way the column is better (the objective's direction, else its name)."""
    facts = sheet.facts.sweep
    if facts.get("objective.metric") == column:
        return str(facts["objective.direction"])
    if _LOWER_BETTER.search(column):
        return "min"
    if _HIGHER_BETTER.search(column):
        return "max"
    return None


def check_rankings(sheet: Sheet, index: int, unit: Unit, spans: list[EntitySpan]) -> list[Verdict]:
    """Verdicts on the superlative claims of one unit that name a run."""
    text = unit.text
    out: list[Verdict] = []
    for attr in spans:
        if attr.kind not in ATTRIBUTE_KINDS:
            continue
        word = _SUPERLATIVE.search(text, max(0, attr.start - 14), attr.start)
        if word is None or text[word.end() : attr.start].strip():
            continue
        lo, hi = clause(text, word.start(), attr.end)
        runs = [s for s in spans if s.kind in RUN_KINDS and lo <= s.start and s.end <= hi]
        if len(runs) != 1 or len(runs[0].target) != 1:
            continue
        mention = runs[0]
        run = mention.target[0]
        column = attr.target[0]
        claim = Claim(unit, index, word.start(), attr.end, None, None, None, column, (run,), tuple(spans))
        if column not in sheet.columns:
            out.append(unresolved(claim, f"the FactSheet has no column {column!r}"))
            continue
        direction = "max" if word["max"] else "min" if word["min"] else None
        if direction is None:
            goal = metric_goal(sheet, column)
            if goal is None:
                out.append(unresolved(claim, f"whether lower or higher {column} is better is not known"))
                continue
            direction = goal if word["best"] else ("max" if goal == "min" else "min")
        values = sheet.numeric(column)
        values = values[np.isfinite(values.to_numpy())]
        if run not in values.index:
            out.append(unresolved(claim, f"{run_label(run, mention)} has no finite {column}"))
            continue
        extreme = float(values.max() if direction == "max" else values.min())
        holders = [str(r) for r in values.index[values.to_numpy() == extreme]]
        mine = float(values[run])
        said = word.group().lower()
        if run in holders:
            message = (
                f"{run_label(run, mention)} has the {said} {column} ({show(mine)}) of {len(values)} runs"
            )
            out.append(make_verdict(claim, "supported", SUPPORTED_RANKING, message, extreme))
            continue
        message = (
            f"{run_label(run, mention)} has {column} = {show(mine)}; the {said} is {show(extreme)} "
            f"({', '.join(run_label(r, mention) for r in holders[:3])})"
        )
        out.append(make_verdict(claim, "contradicted", RANKING_FALSE, message, extreme))
    return out
