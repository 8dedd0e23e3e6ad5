"""Counts, shares and rates of runs and issues, recomputed from the FactSheet (``FCT005``/``FCT006``).

Forms read, each tested in ``tests/factcheck/test_counts.py``:

- "N runs|trials|experiments" with what selects them in the same clause: an issue type ("2 runs had NaN
  loss"), a state ("7 finished runs", "1 trial crashed"), a group ("3 RoPE runs"), a bucket, or a
  comparison on a param ("2 runs with lr above 0.01"); several intersect, none means all runs. Runs counted
  right after "issues across|in|among|affecting" are the runs with any issue ("5 issues across 3 trials").
- "N issues|problems": issues counted per run and type (a run that has NaN loss and crashed has two; the
  issue types are the detectors' ``issue.*`` flags), or of one type when the clause names it
  ("nan_or_inf_metric with 2 high-severity issues"); "N issue types": how many types occur.
- "N of M runs" / "N/M runs" / "X% of (the) runs": the share of a population (the runs the "of" phrase
  selects, else all runs) that the clause's other selectors pick; both N and M are checked.
- "<crash|failure|issue|NaN...> rate of X": the fraction of all runs (or of the clause's group or bucket).
- Table cells: a row whose label is an issue type or state, under a column headed "Count", "n", "#",
  "Runs" (a count) or "Rate", "%", "Share" (a rate); run ids listed under a header naming ids, examples,
  runs or trials are checked for membership (``FCT007``/``FCT008``, see ``membership``).

Not read as counts: "top 3 runs", "the first 5 trials" (rankings), numbers that are not whole for a count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reportgen.factcheck.claims import (
    COUNT_MISMATCH,
    SUPPORTED_COUNT,
    Claim,
    Verdict,
    make_verdict,
    unresolved,
    with_claim,
)
from reportgen.factcheck.context import (
    ATTRIBUTE_KINDS,
    RUN_KINDS,
    SELECTOR_KINDS,
    Sheet,
    nearest_after,
    nearest_before,
    negated,
)
from reportgen.factcheck.entities import EntitySpan
from reportgen.factcheck.hedges import matches
from reportgen.factcheck.numbers import NumberSpan
from reportgen.factcheck.operators import find_comparison, holds_each
from reportgen.factcheck.wording import render_like, run_list, show

_NOUN_AFTER = re.compile(
    r"(?i)\s+(?:(?!(?:of|and|or|with|had|have|has|were|was|over|in|across|from|to|for|by|on|at|than)\b|\d)"
    r"[\w/-]+\s+){0,3}?"
    r"(?P<noun>issue\s+types?|runs?|trials?|experiments?|issues?|problems?"
    r"|pathologies|pathology)\b"
)
_OF_RUNS = re.compile(
    r"(?i)\s+of\s+(?:the\s+|all\s+)?(?P<pop>(?:(?!runs?\b|trials?\b)[\w/.=:-]+\s+){0,3}?)"
    r"(?P<noun>runs?|trials?|experiments?)\b"
)
_RANKING_BEFORE = re.compile(r"(?i)\b(?:top|first|last|best|worst|bottom|other|remaining)\s+$")
_ISSUES_ACROSS = re.compile(
    r"(?i)\b(?:issues?|problems?|pathologies)\b[^.;]*?\b(?:across|in|among|affecting|spanning|on|over)\s+$"
)
_RATE_BEFORE = re.compile(
    r"(?i)(?P<what>\b[\w/-]+(?:\s+[\w/-]+)?)\s+rates?\s*(?:of|was|were|is|are|=|:|at)?\s*$"
)
_RATE_WORDS: dict[str, tuple[str, str]] = {
    "crash": ("state", "crashed"),
    "failure": ("state", "failed"),
    "fail": ("state", "failed"),
    "success": ("state", "finished"),
    "completion": ("state", "finished"),
    "finish": ("state", "finished"),
    "prune": ("state", "pruned"),
    "pruning": ("state", "pruned"),
    "issue": ("issue", "any"),
    "problem": ("issue", "any"),
    "error": ("issue", "any"),
}
_BOUNDARY = re.compile(
    r"(?i)[;()]|:\s|(?<!\d),\s|,\s(?!\d)|\s(?:and|but|while|whereas|vs\.?|versus|compared\s+(?:to|with)|than)\s"
)
# words that make a bare "N runs" the size of the whole sweep ("the sweep has 8 runs", "we ran 40 trials")
_TOTAL = re.compile(
    r"(?i)\b(?:sweep|study|experiment|total|in all|overall|altogether|launched|ran|trained|contain(?:s|ed)?"
    r"|compris(?:es|ed)|consist(?:s|ed)|across)\b"
)
_PER = re.compile(r"(?i)\s+(?:per|for\s+each|in\s+each|each)\s+")
_ANY_ISSUE = re.compile(r"(?i)\b(?:issues?|problems?|patholog(?:y|ies))\b")
# what happened to runs (the part a share counts), as against what the runs were (the population)
_OUTCOME_KINDS = frozenset({"issue", "state"})
_COUNT_HEADERS = re.compile(
    r"(?i)^\s*(?:count|counts|n|#|no\.?|number(?: of \w+)?|runs|trials|occurrences)\s*$"
)
_BOUND_HEADERS = re.compile(r"(?i)\b(?:CI|interval|confidence|low|high|lower|upper|bound)\b")
_RATE_HEADERS = re.compile(r"(?i)\b(?:rate|rates|share|fraction|percent(?:age)?)\b|%")


@dataclass(frozen=True, slots=True)
class _Target:
    """What a count claim counts: ``count`` runs (or issues) out of ``population`` runs."""

    count: int
    population: int
    what: str  # for messages: "runs with nan-or-inf-metric"
    runs: tuple[str, ...]
    attribute: str


def clause(text: str, start: int, end: int, reach_back: bool = False) -> tuple[int, int]:
    """The clause around ``text[start:end]``: from the last boundary before it to the first after it.

    A parenthesis before the span is skipped whole ("diverged (ended far above its minimum) in 1 run").
    With ``reach_back`` a span inside a parenthesis or after a label's colon reaches back past it ("lr in
    [0.003, 0.02] (3 of 4 runs have any issue ...)", "batch_size=256: 9 of 10 runs crashed"): the
    population a share counts in is often named just before it.
    A comma between two digits ("[0.003, 0.02]", "runs 2, 4") is no boundary.
    """
    left, pos = 0, start
    while True:
        found = None
        for m in _BOUNDARY.finditer(text, 0, pos):
            found = m
        if found is None:
            break
        if found.group() == ")":
            opening = text.rfind("(", 0, found.start())
            if opening < 0:
                left = found.end()
                break
            pos = opening
            continue
        if reach_back and (found.group() == "(" or found.group().startswith(":")):
            pos = found.start()  # "batch_size=256: 9 of 10 runs crashed": the population is the label
            continue
        left = found.end()
        break
    after = _BOUNDARY.search(text, end)
    return left, after.start() if after is not None else len(text)


def _selectors(
    sheet: Sheet,
    text: str,
    spans: list[EntitySpan],
    numbers: list[NumberSpan],
    lo: int,
    hi: int,
    skip: NumberSpan,
    used: list[int] | None = None,
    outcome: bool | None = None,
) -> tuple[list[pd.Series], list[str]]:
    """Run selections of the entities and param comparisons in ``text[lo:hi]``, with their descriptions."""
    masks: list[pd.Series] = []
    words: list[str] = []
    for s in spans:
        if not (lo <= s.start and s.end <= hi and (s.kind in SELECTOR_KINDS or s.kind in RUN_KINDS)):
            continue
        if outcome is not None and (s.kind in _OUTCOME_KINDS) != outcome:
            continue
        scoped = _metric_scoped(sheet, s, spans, lo)
        m = scoped if scoped is not None else sheet.mask(s)
        if m is not None:
            # "2 runs did not crash": the runs the entity does not select
            no = negated(text, s)
            masks.append(~m if no else m)
            words.append(f"not {s.text}" if no else s.text)
    for n in numbers:
        if outcome or n is skip or not (lo <= n.start and n.end <= hi):
            continue
        comparison = find_comparison(text, n)
        if comparison is None:
            continue
        described = nearest_after(spans, n.end, frozenset({"param"}))
        param: EntitySpan | None
        if comparison.op == "eq" and described is not None and not text[n.end : described.start].strip():
            if sheet.is_categorical(described.target[0]):
                continue  # "three architectures" counts levels; it selects no runs
            param = described  # "runs with zero weight decay"
        elif comparison.op in ("eq", "ne") and comparison.phrase not in ("=", "=="):
            continue
        else:  # "lr above 0.01", "weight_decay=0"
            param = nearest_before(spans, n.start, ATTRIBUTE_KINDS)
        if param is None or param.end < lo or param.target[0] not in sheet.columns:
            continue
        values = sheet.numeric(param.target[0])
        held = pd.Series(holds_each(comparison, values.to_numpy()), index=values.index)
        masks.append(held)
        phrase = f"{comparison.phrase} {n.text}".strip() if comparison.op != "eq" else f"= {n.text}"
        words.append(f"{param.text} {phrase}")
        if used is not None:
            used.append(n.start)
    return masks, words


def _metric_scoped(sheet: Sheet, span: EntitySpan, spans: list[EntitySpan], lo: int) -> pd.Series | None:
    """ "train_loss became NaN or inf in 1 run": the runs where that metric went non-finite, not the runs
    flagged for any metric."""
    if span.kind != "issue" or span.target[0] != "nan-or-inf-metric":
        return None
    metric = nearest_before(spans, span.start, frozenset({"metric"}))
    if metric is None or metric.end < lo:
        return None
    name = metric.target[0]
    runs = {
        str(r)
        for f in sheet.facts.findings.values()
        if f.name == "nan-or-inf-metric" and f.evidence.get("metric") == name
        for r in f.run_ids
    }
    if runs:  # the detector's own verdict per metric (summary-only exports have no curve columns)
        return pd.Series(sheet.index.isin(list(runs)), index=sheet.index)
    column = f"{name}.nonfinite_step"
    if column not in sheet.columns:
        return None
    return pd.Series(np.isfinite(sheet.numeric(column).to_numpy()), index=sheet.index)


def _all(sheet: Sheet, masks: list[pd.Series]) -> pd.Series:
    out = pd.Series(np.ones(len(sheet.index), dtype=bool), index=sheet.index)
    for m in masks:
        out &= m
    return out


def _issue_target(sheet: Sheet, spans: list[EntitySpan], lo: int, hi: int, types: bool) -> _Target | None:
    issues = [s for s in spans if s.kind == "issue" and lo <= s.start and s.end <= hi]
    n = len(sheet.index)
    if types:
        present = [c for c in sheet.issue_columns if sheet.runs[c].fillna(False).astype(bool).any()]
        return _Target(len(present), n, "issue types occur", (), "issue types")
    if issues:
        name = issues[-1].target[0]
        flags = sheet.issue_flags(name)
        if flags is None:
            return None
        hit = sheet.ids(flags)
        return _Target(
            len(hit), n, f"{name} {_noun(len(hit), 'issue')} ({run_list(hit)})", tuple(hit), f"issue.{name}"
        )
    per_type = {
        c.removeprefix("issue."): int(sheet.runs[c].fillna(False).astype(bool).sum())
        for c in sheet.issue_columns
    }
    breakdown = ", ".join(f"{k} {v}" for k, v in per_type.items() if v)
    total = sum(per_type.values())
    return _Target(
        total, n, f"{_noun(total, 'issue')}, one per run and type ({breakdown or 'none'})", (), "issue.*"
    )


def _share_fix(actual: float, number: NumberSpan) -> str:
    """A share at the stated precision, or exactly (up to 3 significant digits) when rounding would move it:
    12.5% stated as a whole percent is "12.5%", not "12%"."""
    rendered = render_like(actual, number)
    if number.is_percent and abs(float(rendered.rstrip("%")) - actual * 100) > 1e-9:
        return show(actual, number)
    return rendered


def _noun(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


def _count_target(
    sheet: Sheet,
    text: str,
    spans: list[EntitySpan],
    numbers: list[NumberSpan],
    number: NumberSpan,
    used: list[int],
) -> tuple[_Target | None, str]:
    """What ``number`` counts, or (None, reason) when it is not a count this family reads; the numbers read
    as conditions are appended to ``used``."""
    after = _NOUN_AFTER.match(text, number.end)
    of_runs = _OF_RUNS.match(text, number.end) if number.is_percent else None
    rate = _RATE_BEFORE.search(text, max(0, number.start - 40), number.start)
    state = next((s for s in spans if s.start >= number.end), None)
    if (
        after is None
        and state is not None
        and state.kind == "state"
        and not text[number.end : state.start].strip()
        and _TOTAL.search(text)
    ):
        # "the sweep has 8 runs (7 finished, 1 crashed)": a count of the runs in that state
        if not float(number.value).is_integer():
            return None, ""
        # a breakdown by state names each state exactly ("8 finished, 3 failed, 1 killed")
        mask = sheet.selection(state.kind, state.target, exact=True)
        if mask is None:
            return None, ""
        ids = sheet.ids(mask)
        return _Target(
            len(ids), len(sheet.index), f"runs {state.text} ({run_list(ids)})", tuple(ids), "state"
        ), ""
    if after is None and of_runs is None and rate is None:
        return None, ""
    if _RANKING_BEFORE.search(text, max(0, number.start - 12), number.start):
        return None, f"{number.text!r} ranks runs (top/first/last N), it does not count them"
    if after is not None and number.kind == "count_of":
        of_runs = None
    noun = after or of_runs
    lo, hi = clause(text, number.start, noun.end() if noun is not None else number.end)
    n_all = len(sheet.index)
    if after is not None and not number.is_percent:
        word = after["noun"].lower()
        if word.startswith(("issue", "problem", "patholog")):
            if not float(number.value).is_integer():
                return None, ""
            return _issue_target(sheet, spans, lo, hi, types=word.startswith("issue type")), ""
        if not float(number.value).is_integer():
            return None, ""
        if number.kind == "count_of":
            lo, hi = clause(text, number.start, after.end(), reach_back=True)
            return _share(sheet, text, spans, numbers, number, lo, hi, used)
        per = _PER.match(text, after.end())
        if per is not None:
            return _per_group(sheet, spans, number, per.end())
        if _ISSUES_ACROSS.search(text, lo, number.start):
            flags = sheet.issue_flags("any")
            if flags is None:
                return None, "the FactSheet tracks no issue flags"
            ids = sheet.ids(flags)
            return _Target(
                len(ids), n_all, f"runs with any issue ({run_list(ids)})", tuple(ids), "issue.any"
            ), ""
        masks, words = _selectors(sheet, text, spans, numbers, lo, hi, number, used)
        if not masks and not _TOTAL.search(text, lo, hi):
            return None, f"{number.text!r} counts runs without naming what they share"
        hit = _all(sheet, masks)
        ids = sheet.ids(hit)
        what = f"{_noun(len(ids), 'run')} {' and '.join(words)}" if words else "runs in the sweep"
        listed = f" ({run_list(ids)})" if words else ""
        return _Target(len(ids), n_all, what + listed, tuple(ids), "runs"), ""
    if of_runs is not None:
        lo, hi = clause(text, number.start, of_runs.end(), reach_back=True)
        return _share(sheet, text, spans, numbers, number, lo, hi, used)
    assert rate is not None
    word = rate["what"].split()[-1].lower()
    kind_level = _RATE_WORDS.get(word) or _RATE_WORDS.get(word.rstrip("s"))
    entity = nearest_before(spans, rate.end(), frozenset({"issue", "state"}))
    label = word
    if entity is not None and entity.end >= rate.start():
        m = sheet.mask(entity)
        if m is None:
            return None, ""
        label = entity.text
    elif kind_level is not None:
        kind, level = kind_level
        m = sheet.selection(kind, (level,))
        if m is None:
            return None, ""
    else:
        return None, ""
    if any(s.kind == "bucket" and s.start < number.start for s in spans):
        return None, ""  # a bucket's rate: the bucket family decides it
    group_spans = [s for s in spans if s.kind == "group"]
    groups, group_words = _selectors(sheet, text, group_spans, [], lo, hi, number, used)
    population = _all(sheet, groups)
    hit = m & population
    ids = sheet.ids(hit)
    scope = f" of {int(population.sum())} {'/'.join(group_words)} runs" if group_words else ""
    return _Target(len(ids), int(population.sum()), f"{label} rate{scope}", tuple(ids), "rate"), "rate"


def _per_group(
    sheet: Sheet, spans: list[EntitySpan], number: NumberSpan, at: int
) -> tuple[_Target | None, str]:
    """ "4 runs per architecture": every level of the param has that many runs."""
    param = next((s for s in spans if s.start >= at and s.kind == "param"), None)
    if param is None or param.start - at > 2 or param.target[0] not in sheet.columns:
        return None, f"{number.text!r} counts runs per something the checker does not know"
    sizes = sheet.runs[param.target[0]].dropna().astype(str).value_counts(sort=False)
    listed = ", ".join(f"{level} {count}" for level, count in sizes.items())
    odd = sizes[sizes != number.value]
    count = int(number.value) if odd.empty else int(odd.iloc[0])
    what = f"runs per {param.target[0]} ({listed})"
    return _Target(count, len(sheet.index), what, (), param.target[0]), ""


def _share(
    sheet: Sheet,
    text: str,
    spans: list[EntitySpan],
    numbers: list[NumberSpan],
    number: NumberSpan,
    lo: int,
    hi: int,
    used: list[int],
) -> tuple[_Target | None, str]:
    """ "9 of 10 runs with batch size above 128 crashed", "25% of RoPE runs had NaN loss": the issue or state
    is what is counted; groups, buckets and param comparisons pick the population."""
    counted, words = _selectors(sheet, text, spans, numbers, lo, hi, number, used, outcome=True)
    any_issue = sheet.issue_flags("any")
    if not counted and any_issue is not None and _ANY_ISSUE.search(text, lo, hi):
        counted, words = [any_issue], ["with any issue"]
    if not counted:
        return None, f"{number.text!r} gives a share without naming the issue or state it counts"
    pop_masks, pop_words = _selectors(sheet, text, spans, numbers, lo, hi, number, used, outcome=False)
    if not pop_masks and number.denominator is not None and number.denominator != len(sheet.index):
        # "1 of 11 runs" when only 11 runs logged the metric the clause names: that is the population
        logged = _logged(sheet, spans, lo, hi)
        if logged is not None and int(logged.sum()) == number.denominator:
            pop_masks, pop_words = [logged], ["the metrics named logged"]
    population = _all(sheet, pop_masks)
    ids = sheet.ids(_all(sheet, counted) & population)
    among = f"with {' and '.join(pop_words)}" if pop_words else "in the sweep"
    what = f"{' and '.join(words)} among the {int(population.sum())} runs {among} ({run_list(ids)})"
    return _Target(len(ids), int(population.sum()), what, tuple(ids), "runs"), ""


def _logged(sheet: Sheet, spans: list[EntitySpan], lo: int, hi: int) -> pd.Series | None:
    """The runs that logged a finite value of every metric the clause names (in the summary or the history),
    or None when it names none."""
    metrics = [s.target[0] for s in spans if s.kind == "metric" and lo <= s.start and s.end <= hi]
    metrics = [m for m in metrics if m in sheet.columns]
    if not metrics:
        return None
    out = pd.Series(np.ones(len(sheet.index), dtype=bool), index=sheet.index)
    for m in metrics:
        logged = np.isfinite(sheet.numeric(m).to_numpy())
        if f"{m}.first" in sheet.columns:  # logged in the history, even if the summary is empty
            logged |= np.isfinite(sheet.numeric(f"{m}.first").to_numpy())
        out &= logged
    return out


def check_count(
    sheet: Sheet, claim: Claim, spans: list[EntitySpan], numbers: list[NumberSpan]
) -> Verdict | None:
    """The verdict on a count, share or rate, or None when ``claim.number`` is not one."""
    number = claim.number
    comparison = claim.comparison
    if number is None or comparison is None or number.kind in ("range", "interval", "sample_size"):
        return None
    text = claim.unit.text
    used: list[int] = []
    target, why = _count_target(sheet, text, spans, numbers, number, used)
    if target is None:
        return unresolved(claim, why) if why else None
    claim = with_claim(claim, attribute=target.attribute, runs=target.runs, uses=tuple(used))
    share = number.is_percent or why == "rate" or (number.value < 1 and not number.value.is_integer())
    if share:
        if target.population == 0:
            return unresolved(claim, f"no run is in the population of {number.text!r}")
        actual = target.count / target.population
        stated = f"{target.count} of {target.population}"
        if comparison.holds(actual):
            message = f"{target.what}: {stated} = {show(actual, number)}"
            return make_verdict(claim, "supported", SUPPORTED_COUNT, message, actual)
        message = f"{target.what}: {stated} = {show(actual, number)}, not {number.text}"
        fix = _share_fix(actual, number) if comparison.op == "eq" else None
        return make_verdict(claim, "contradicted", COUNT_MISMATCH, message, actual, fix)
    actual = float(target.count)
    ok = comparison.holds(actual)
    if number.kind == "count_of" and number.denominator is not None:
        ok = ok and number.denominator == target.population
    if ok:
        return make_verdict(claim, "supported", SUPPORTED_COUNT, f"{show(actual)} {target.what}", actual)
    if number.kind == "count_of" and number.denominator != target.population:
        message = f"{target.count} of {target.population} {target.what}, not {number.text}"
        fix = (
            f"{target.count} of {target.population}"
            if comparison.op == "eq" and "of" in number.text
            else None
        )
        return make_verdict(claim, "contradicted", COUNT_MISMATCH, message, actual, fix)
    message = f"{show(actual)} {target.what}, not {number.text}"
    fix = render_like(actual, number) if comparison.op == "eq" and number.kind != "word" else None
    return make_verdict(claim, "contradicted", COUNT_MISMATCH, message, actual, fix)


# -- table cells ---------------------------------------------------------------------------------------


def table_count(sheet: Sheet, claim: Claim) -> Verdict | None:
    """A count or rate in a table cell whose row label selects runs (an issue type, state, group, bucket).

    Under a plain "runs"/"count" header the cell counts the row's runs (a rate header: their share of the
    sweep); under a header naming an outcome ("finished", "failed", "with issues", "runs with any issue",
    "NaN rate") it counts the row's runs with that outcome (a rate: their share of the row).
    """
    unit, number, comparison = claim.unit, claim.number, claim.comparison
    if unit.kind != "table_cell" or number is None or comparison is None or not unit.table_header:
        return None
    header = unit.table_header
    if _BOUND_HEADERS.search(header):
        return None  # "95% CI low": an interval bound, not the row's share of the sweep
    rate = bool(_RATE_HEADERS.search(header)) or number.is_percent
    outcome = _header_outcome(sheet, header)
    if not rate and outcome is None and not _COUNT_HEADERS.match(header):
        return None
    row = [s for s in sheet.resolve(unit.row_label, unit.section) if s.kind in SELECTOR_KINDS]
    if not row:
        return None
    mask = sheet.select(row, exact=True)  # a state row counts that state exactly ("failed" beside "killed")
    if mask is None:
        return None
    label = row[0].text
    population = int(mask.sum())
    if outcome is not None:
        outcome_mask, outcome_label = outcome
        hit = sheet.ids(mask & outcome_mask)
        whole = population
        what = f"{label}: {len(hit)} of {population} runs {outcome_label} ({run_list(hit)})"
    else:
        hit = sheet.ids(mask)
        whole = len(sheet.index)
        what = f"{label}: {len(hit)} of {whole} runs ({run_list(hit)})"
    claim = with_claim(claim, attribute="runs", runs=tuple(hit))
    actual = len(hit) / whole if rate and whole else float(len(hit))
    if matches(number, actual, comparison.hedge) if comparison.op == "eq" else comparison.holds(actual):
        return make_verdict(claim, "supported", SUPPORTED_COUNT, what, actual)
    message = f"{what}, not {number.text}"
    return make_verdict(claim, "contradicted", COUNT_MISMATCH, message, actual, render_like(actual, number))


def _header_outcome(sheet: Sheet, header: str) -> tuple[pd.Series, str] | None:
    """What a column header says the cells count among the row's runs: an issue or state it names, or
    any issue ("with issues", "runs with any issue"); None for a plain count header."""
    spans = [s for s in sheet.resolve(header) if s.kind in _OUTCOME_KINDS]
    if spans:
        m = sheet.mask(spans[0])
        return (m, spans[0].text) if m is not None else None
    flags = sheet.issue_flags("any")
    if flags is not None and _ANY_ISSUE.search(header):
        return flags, "with any issue"
    return None
