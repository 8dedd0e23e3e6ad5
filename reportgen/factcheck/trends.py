"""Trend and causal claims, checked for direction against the runs (``FCT020``/``FCT021``/``FCT022``).

A trend claim is a cause, a verb and an outcome in one clause: "small batch sizes lead to shorter training
times", "Zero Weight Decay Causes Strong Overfitting", "batch sizes above 32 tend to result in longer
training times", "high learning rates are problematic", "the correlation between learning rate and NaN
loss". The clause runs from the last "that"/";"/sentence start before the verb to the next ","/";" after it.

- **Cause**: a param with a direction word before it ("high", "larger", "small", "lower"...: the param's
  value, signed), a param with "zero"/"no" (value = 0) or "non-zero" (value != 0), a param with a
  comparison ("above 32": the runs where it holds), a group level ("RoPE"), or a bucket.
- **Outcome**: an issue type or state ("NaN loss", "overfitting", "short runs", "crashes": the runs'
  flags; "fewer"/"less"/"no" before it flips it), a metric or param with a direction word ("lower val
  loss"), training time ("longer/shorter training times", "runtime": ``runtime_s`` of the finished runs, as
  a crashed run's runtime measures its crash), or "problematic"/"problems"/"unstable" (any issue).
- **Verb**: "leads to", "causes", "results in", "tends to (result in|produce|cause|give|have)", "produces",
  "drives", "correlates with", "is associated/linked with", "increases the risk of", "are problematic";
  "the correlation between A and B" claims an association without a direction.

Decision: Spearman's rho between cause and outcome over the runs that have both (a binary side is ranked
as 0/1, so this is the Mann-Whitney comparison for one binary side and the phi coefficient for two), with
a seeded two-sided permutation p-value (``PERMUTATIONS`` permutations; above ``LARGE_N`` runs the normal
approximation, rho * sqrt(n - 1) ~ N(0, 1)). If the sign of rho opposes the
claimed direction (or rho is 0) and p <= ``ALPHA``, ``FCT021 trend-reversed`` (contradicted) naming the
column that decided and the two groups' medians or rates; opposed but not significant is ``FCT022`` (the
data does not show the claimed direction). If it agrees but the smaller side of a binary variable has fewer
than ``MIN_SUPPORT`` runs or p > ``ALPHA``, ``FCT022 trend-weak-evidence`` (unverifiable: an n = 1 bucket
does not make a cause); else ``FCT020 supported-trend``. A verb whose cause or outcome names nothing the
checker knows is ``FCT010 unresolved-claim``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reportgen.detectors.stats import average_ranks, permutation_p_values, spearman_statistic
from reportgen.factcheck.claims import (
    MEMBERSHIP_MISMATCH,
    SUPPORTED_MEMBERSHIP,
    SUPPORTED_TREND,
    TREND_REVERSED,
    TREND_WEAK,
    Claim,
    Verdict,
    make_verdict,
    unresolved,
    with_claim,
)
from reportgen.factcheck.context import Draft, Sheet, runs_of
from reportgen.factcheck.entities import EntitySpan
from reportgen.factcheck.markdown import Unit
from reportgen.factcheck.numbers import NumberSpan
from reportgen.factcheck.operators import find_comparison, holds_each
from reportgen.factcheck.rankings import metric_goal
from reportgen.factcheck.wording import plural, run_list, show

MIN_SUPPORT = 3
ALPHA = 0.05
PERMUTATIONS = 999
LARGE_N = 500  # above this many runs the p-value comes from the normal approximation

_VERB = re.compile(
    r"(?i)\b(?:(?:tends?|tended)\s+to\s+(?:result\s+in|produce|cause|give|have|lead\s+to|show)"
    r"|(?:frequently\s+|often\s+|usually\s+|consistently\s+)?(?:leads?|led|leading)\s+to"
    r"|caus(?:es?|ed|ing)|results?\s+in|resulted\s+in|resulting\s+in|produc(?:es?|ed)|drives?"
    r"|correlates?\s+(?:positively\s+|negatively\s+)?with|(?:is|are|was|were)\s+(?:strongly\s+)?"
    r"(?:associated|linked|correlated)\s+with|increases?\s+the\s+(?:risk|chance|likelihood)\s+of"
    r"|(?:is|are|was|were)\s+(?:more\s+)?(?:problematic|unstable)|cause\s+problems)\b"
)
_BETWEEN = re.compile(r"(?i)\b(?:correlation|association|relationship|link)\s+between\s+")
_LEFT = re.compile(r"(?i)\b(?:that|suggests?|indicates?|indicating|shows?|showing|means?)\s+|[;:]\s*|,\s+")
_RIGHT = re.compile(r"[,;:]|\.(?:\s|$)|\s(?:while|whereas|but)\s")
_UP = (
    r"high|higher|highest|large|larger|largest|big|bigger|increasing|increased|more|greater|longer|slower"
    r"|long|heavy|heavier"
)
_DOWN = (
    r"low|lower|lowest|small|smaller|smallest|decreasing|decreased|less|fewer|reduced|shorter|faster"
    r"|short|tiny"
)
_DIRECTION_BEFORE = re.compile(
    rf"(?i)\b(?:(?P<nonzero>non-?zero|positive)|(?P<up>{_UP})|(?P<down>{_DOWN})|(?P<zero>zero|no))\b"
)
_NEGATING = re.compile(r"(?i)\b(?:fewer|less|no|prevents?|avoids?|reduces?|lower)\s+$")
_TIME = re.compile(
    r"(?i)\b(?:training\s+times?|train\s+times?|run\s*times?|durations?|wall[- ]clock(?:\s+times?)?"
    r"|training\s+durations?)\b"
)
_PROBLEMS = re.compile(r"(?i)\b(?:problematic|problems|unstable|instability)\b")


@dataclass(frozen=True, slots=True)
class _Side:
    """One side of a trend: values per run (NaN = unknown), the sign the claim gives it, and words."""

    values: pd.Series
    sign: int  # +1: more of it; -1: less of it; 0: no direction claimed
    binary: bool
    label: str
    column: str
    start: int
    end: int
    uses: tuple[int, ...] = ()  # the threshold number of "batch sizes above 32"


def _direction_word(text: str, start: int) -> re.Match[str] | None:
    """The direction word right before ``text[start:]`` ("small batch sizes", "the lower val loss")."""
    window = text[max(0, start - 24) : start]
    last = None
    for m in _DIRECTION_BEFORE.finditer(window):
        last = m
    if last is None or window[last.end() :].strip(" -").lower() not in ("", "the"):
        return None
    return last


def _threshold(
    text: str, param: EntitySpan, values: pd.Series, numbers: list[NumberSpan], hi: int
) -> _Side | None:
    """ "batch sizes above 32": the runs where the comparison after the param holds (1) or not (0)."""
    for n in numbers:
        if not (param.end <= n.start < hi) or len(text[param.end : n.start].split()) > 4:
            continue
        comparison = find_comparison(text, n)
        if comparison is None or comparison.op in ("eq", "ne"):
            continue
        held = pd.Series(holds_each(comparison, values.to_numpy()), index=values.index).astype(float)
        held = held.where(values.notna())
        label = f"{param.target[0]} {comparison.phrase} {n.text}"
        return _Side(held, 1, True, label, param.target[0], param.start, n.end, (n.start,))
    return None


def _cause(
    sheet: Sheet, text: str, spans: list[EntitySpan], numbers: list[NumberSpan], lo: int, hi: int
) -> _Side | None:
    for s in spans:
        if not (lo <= s.start and s.end <= hi):
            continue
        column = s.target[0]
        if s.kind in ("group", "bucket"):
            mask = sheet.mask(s)
            if mask is not None:
                return _Side(mask.astype(float), 1, True, s.text, column, s.start, s.end)
        if s.kind != "param" or column not in sheet.columns:
            continue
        values = sheet.numeric(column)
        threshold = _threshold(text, s, values, numbers, hi)
        if threshold is not None:
            return threshold
        word = _direction_word(text, s.start)
        if word is None:
            continue
        start = max(0, s.start - 24) + word.start()
        if word["zero"] or word["nonzero"]:
            zero = word["zero"] is not None
            flags = ((values == 0) if zero else (values != 0)).astype(float).where(values.notna())
            label = f"{column} {'=' if zero else '!='} 0"
            return _Side(flags, 1, True, label, column, start, s.end)
        return _Side(values, 1 if word["up"] else -1, False, column, column, start, s.end)
    return None


def _outcome(sheet: Sheet, text: str, spans: list[EntitySpan], lo: int, hi: int) -> _Side | None:
    for s in spans:
        if not (lo <= s.start and s.end <= hi):
            continue
        if s.kind in ("issue", "state"):
            mask = sheet.mask(s)
            if mask is None:
                continue
            sign = -1 if _NEGATING.search(text, max(0, s.start - 16), s.start) else 1
            column = f"issue.{s.target[0]}" if s.kind == "issue" else "state"
            return _Side(mask.astype(float), sign, True, s.text, column, s.start, s.end)
        if s.kind in ("metric", "param") and s.target[0] in sheet.columns:
            word = _direction_word(text, s.start)
            if word is None or word["zero"] or word["nonzero"]:
                continue
            start = max(0, s.start - 24) + word.start()
            return _Side(
                sheet.numeric(s.target[0]),
                1 if word["up"] else -1,
                False,
                s.target[0],
                s.target[0],
                start,
                s.end,
            )
    time = _TIME.search(text, lo, hi)
    if time is not None and "runtime_s" in sheet.columns:
        word = _direction_word(text, time.start())
        if word is not None and not (word["zero"] or word["nonzero"]):
            finished = sheet.states == "finished"
            values = sheet.numeric("runtime_s").where(finished)
            start = max(0, time.start() - 24) + word.start()
            return _Side(
                values,
                1 if word["up"] else -1,
                False,
                "runtime_s (finished runs)",
                "runtime_s",
                start,
                time.end(),
            )
    problems = _PROBLEMS.search(text, lo, hi)
    flags = sheet.issue_flags("any")
    if problems is not None and flags is not None:
        return _Side(flags.astype(float), 1, True, "any issue", "issue.any", problems.start(), problems.end())
    return None


def _describe(cause: _Side, outcome: _Side, x: np.ndarray, y: np.ndarray) -> str:
    if cause.binary:
        inside, rest = y[x == 1], y[x == 0]
        if outcome.binary:
            return (
                f"{outcome.label}: {int(inside.sum())} of {plural(len(inside), 'run')} with {cause.label} vs "
                f"{int(rest.sum())} of {len(rest)} others"
            )
        return (
            f"{outcome.column}: median {show(float(np.median(inside)))} with {cause.label} "
            f"(n = {len(inside)}) "
            f"vs {show(float(np.median(rest)))} for the rest (n = {len(rest)})"
        )
    if outcome.binary:
        hit, rest = x[y == 1], x[y == 0]
        return (
            f"{cause.column}: median {show(float(np.median(hit)))} in the {plural(len(hit), 'run')} with "
            f"{outcome.label} "
            f"vs {show(float(np.median(rest)))} in the other {len(rest)}"
        )
    rho = float(np.corrcoef(average_ranks(x), average_ranks(y))[0, 1])
    way = "rises" if rho > 0 else "falls" if rho < 0 else "does not move"
    return f"{outcome.label} {way} as {cause.column} rises, over {len(x)} runs"


@dataclass(frozen=True, slots=True)
class _Evidence:
    """What the runs say about one cause and outcome, whatever direction a claim gives them."""

    rho: float
    p: float
    support: int  # runs on the smaller side of a binary variable (all runs when both are numeric)
    text: str


def _evidence(cause: _Side, outcome: _Side) -> _Evidence | None:
    frame = pd.DataFrame({"x": cause.values, "y": outcome.values}).dropna()
    x, y = frame["x"].to_numpy(dtype="float64"), frame["y"].to_numpy(dtype="float64")
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    support = len(x)
    for side, values in ((cause, x), (outcome, y)):
        if side.binary:
            support = min(support, int((values == 1).sum()), int((values == 0).sum()))
    y_ranks = average_ranks(y)
    rho, stat = spearman_statistic(y_ranks, x)
    if len(x) > LARGE_N:
        # the permutation distribution of rho is normal with variance 1 / (n - 1) for large n
        p = math.erfc(abs(rho) * math.sqrt((len(x) - 1) / 2))
    else:
        p = permutation_p_values(y_ranks, {"rho": (rho, stat)}, PERMUTATIONS)["rho"]
    text = f"{_describe(cause, outcome, x, y)}; Spearman rho = {rho:.2f}, p = {p:.2g}"
    return _Evidence(rho, p, support, text)


def _decide(sheet: Sheet, claim: Claim, cause: _Side, outcome: _Side, unsigned: bool) -> Verdict:
    key = ("trend", cause.label, cause.column, outcome.label, outcome.column)
    if key not in sheet.memo:
        sheet.memo[key] = _evidence(cause, outcome)
    found = sheet.memo[key]
    if not isinstance(found, _Evidence):
        return unresolved(
            claim, f"{cause.label} or {outcome.label} does not vary over the runs that have both"
        )
    rho, p, support, evidence = found.rho, found.p, found.support, found.text
    claimed = cause.sign * outcome.sign
    agrees = rho != 0 and (unsigned or math.copysign(1, rho) == claimed)
    if not agrees and p > ALPHA:
        message = f"the data does not show this direction (p = {p:.2g}): {evidence}"
        return make_verdict(claim, "unverifiable", TREND_WEAK, message, rho)
    if not agrees:
        return make_verdict(
            claim, "contradicted", TREND_REVERSED, f"the data shows the opposite: {evidence}", rho
        )
    if support < MIN_SUPPORT or p > ALPHA:
        why = f"n = {support}" if support < MIN_SUPPORT else f"p = {p:.2g}"
        message = f"the direction agrees but the evidence is weak ({why}): {evidence}"
        return make_verdict(claim, "unverifiable", TREND_WEAK, message, rho)
    return make_verdict(claim, "supported", SUPPORTED_TREND, evidence, rho)


def check_trends(
    sheet: Sheet, draft: Draft, index: int, unit: Unit, spans: list[EntitySpan], numbers: list[NumberSpan]
) -> list[Verdict]:
    """Verdicts on the trend and causal claims of one unit (none when it makes none)."""
    text = unit.text
    out: list[Verdict] = []
    base = Claim(unit, index, 0, 1, None, None, None, None, (), tuple(spans)) if text else None
    if base is None:
        return out
    for verb in _VERB.finditer(text):
        lo = 0
        for m in _LEFT.finditer(text, 0, verb.start()):
            lo = m.end()
        right = _RIGHT.search(text, verb.end())
        hi = right.start() if right is not None else len(text)
        evaluative = bool(_PROBLEMS.search(verb.group()))
        cause = _cause(sheet, text, spans, numbers, lo, verb.start())
        outcome = _outcome(sheet, text, spans, verb.start() if evaluative else verb.end(), hi)
        start = cause.start if cause is not None else lo
        end = outcome.end if outcome is not None else hi
        claim = _claim(base, start, max(end, verb.end()), cause, outcome)
        # the runs of the clause, else of the sentence before the verb ("..., both resulting in NaN loss")
        named = list(runs_of(x for x in spans if lo <= x.start and x.end <= verb.start()))
        named = named or list(runs_of(x for x in spans if x.end <= verb.start()))
        if cause is None and outcome is not None and outcome.binary and named:
            # "trial 2 ... and trial 4 ..., both resulting in NaN loss": the named runs have the outcome
            out.append(_members(with_claim(claim, start=verb.start(), runs=tuple(named)), outcome, named))
            continue
        if cause is None or outcome is None:
            missing = "cause" if cause is None else "outcome"
            out.append(
                unresolved(
                    claim,
                    f"the {missing} of {claim.text!r} names no param, group, issue or metric "
                    "the checker can test",
                )
            )
            continue
        out.append(_decide(sheet, claim, cause, outcome, unsigned=False))
    out.extend(_group_contrasts(sheet, text, spans, base))
    for between in _BETWEEN.finditer(text):
        right = _RIGHT.search(text, between.end())
        hi = right.start() if right is not None else len(text)
        inner = [s for s in spans if between.end() <= s.start and s.end <= hi]
        if len(inner) < 2:
            continue
        first, second = inner[0], inner[1]
        cause = _plain_side(sheet, first)
        outcome = _plain_side(sheet, second)
        claim = _claim(base, between.start(), second.end, cause, outcome)
        if cause is None or outcome is None:
            out.append(unresolved(claim, f"{claim.text!r} names something the checker cannot test"))
            continue
        out.append(_decide(sheet, claim, cause, outcome, unsigned=True))
    return out


_THAN = re.compile(r"(?i)\bthan\b")


def _group_contrasts(sheet: Sheet, text: str, spans: list[EntitySpan], base: Claim) -> list[Verdict]:
    """ "MLP runs had higher val_loss than CNN runs": the metric's direction between two groups."""
    out: list[Verdict] = []
    for than in _THAN.finditer(text):
        lo = 0
        for m in _LEFT.finditer(text, 0, than.start()):
            lo = m.end()
        right = _RIGHT.search(text, than.end())
        hi = right.start() if right is not None else len(text)
        before = [s for s in spans if lo <= s.start and s.end <= than.start()]
        metric = next((s for s in reversed(before) if s.kind in ("metric", "param", "ratio")), None)
        first = next((s for s in before if s.kind == "group"), None)
        second = next((s for s in spans if than.end() <= s.start and s.end <= hi and s.kind == "group"), None)
        if metric is None or first is None or second is None or metric.target[0] not in sheet.columns:
            continue
        column = metric.target[0]
        word = _direction_word(text, metric.start)
        better = re.search(r"(?i)\b(better|worse)\s+$", text[max(0, metric.start - 8) : metric.start])
        if better is not None:
            goal = metric_goal(sheet, column)
            if goal is None:
                continue
            sign = (1 if goal == "max" else -1) * (1 if better.group(1).lower() == "better" else -1)
        elif word is not None and (word["up"] or word["down"]):
            sign = 1 if word["up"] else -1
        else:
            continue
        a, b = sheet.mask(first), sheet.mask(second)
        if a is None or b is None:
            continue
        cause_values = pd.Series(np.where(a, 1.0, np.where(b, 0.0, np.nan)), index=a.index)
        label = f"{first.text} (vs {second.text})"
        cause = _Side(cause_values, 1, True, label, first.target[0], first.start, first.end)
        outcome = _Side(sheet.numeric(column), sign, False, column, column, metric.start, metric.end)
        claim = with_claim(base, start=first.start, end=second.end, attribute=column)
        out.append(_decide(sheet, claim, cause, outcome, unsigned=False))
    return out


def _members(claim: Claim, outcome: _Side, runs: list[str]) -> Verdict:
    flags = outcome.values
    missing = [r for r in runs if r in flags.index and flags[r] != 1]
    if missing:
        message = f"{run_list(missing)} {'does' if len(missing) == 1 else 'do'} not have {outcome.label}"
        return make_verdict(claim, "contradicted", MEMBERSHIP_MISMATCH, message)
    message = f"{run_list(runs)} {'has' if len(runs) == 1 else 'have'} {outcome.label}"
    return make_verdict(claim, "supported", SUPPORTED_MEMBERSHIP, message)


def _plain_side(sheet: Sheet, s: EntitySpan) -> _Side | None:
    if s.kind in ("param", "metric") and s.target[0] in sheet.columns:
        return _Side(sheet.numeric(s.target[0]), 0, False, s.target[0], s.target[0], s.start, s.end)
    mask = sheet.mask(s)
    if mask is None:
        return None
    return _Side(
        mask.astype(float),
        0,
        True,
        s.text,
        f"issue.{s.target[0]}" if s.kind == "issue" else s.target[0],
        s.start,
        s.end,
    )


def _claim(base: Claim, start: int, end: int, cause: _Side | None, outcome: _Side | None) -> Claim:
    attribute = outcome.column if outcome is not None else None
    uses = cause.uses if cause is not None else ()
    return with_claim(base, start=start, end=end, attribute=attribute, uses=uses)
