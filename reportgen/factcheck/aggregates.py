"""Statistics over runs: "the average val_loss of finished runs was 0.62", "the lowest val_loss was 0.515",
"the median lr of RoPE runs is 0.003" (``FCT005``/``FCT006``), and "ViT runs were the most stable"
(``FCT011``/``FCT012``).

An aggregate is a statistic word right before a param, metric or ratio ("average", "mean", "median"; or
"lowest"/"minimum"/"highest"/"maximum"/"best"/"worst" when the sentence names no run, which makes it a
claim about one run instead: see ``rankings``). It is computed over the runs the clause selects (a state, a
group, a bucket, an issue type; several intersect), else over all runs, in both cases the runs with a
finite value; the message gives n. "lowest"/"best" also accept the per-run curve minimum (``val_loss.min``)
when the summary does not match, since "the lowest val loss" may mean either.

"Most stable" / "least stable" with a group ("ViT runs were the most stable") ranks the levels of that
group's param by the share of runs that failed (crashed, failed, killed) or have any issue -- the
group-stability detector's notion of an unstable group; ties share the rank.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from reportgen.factcheck.claims import (
    COUNT_MISMATCH,
    RANKING_FALSE,
    SUPPORTED_COUNT,
    SUPPORTED_RANKING,
    Claim,
    Verdict,
    make_verdict,
    unresolved,
    with_claim,
)
from reportgen.factcheck.context import RUN_KINDS, SELECTOR_KINDS, Sheet
from reportgen.factcheck.counts import clause
from reportgen.factcheck.entities import EntitySpan
from reportgen.factcheck.markdown import Unit
from reportgen.factcheck.rankings import metric_goal
from reportgen.factcheck.wording import render_like, show
from reportgen.states import FAILED_STATES

_AVERAGE = re.compile(r"(?i)\b(?P<stat>average|mean|median)\s+(?:(?:final|summary|reported)\s+)?$")
_EXTREME = re.compile(
    r"(?i)\b(?:(?P<min>lowest|minimum|min|smallest)|(?P<max>highest|maximum|max|largest)|(?P<best>best)"
    r"|(?P<worst>worst))\s+(?:(?:final|overall)\s+)?$"
)
_STABLE = re.compile(r"(?i)\b(?P<how>most|least)\s+(?:stable|reliable)\b|\b(?P<un>most\s+unstable)\b")


def aggregate_of(
    sheet: Sheet, claim: Claim, spans: list[EntitySpan], attribute: EntitySpan
) -> Verdict | None:
    """The verdict on a statistic over runs of ``attribute``, or None when the number is not one."""
    number, comparison, text = claim.number, claim.comparison, claim.unit.text
    if number is None or comparison is None:
        return None
    window = text[max(0, attribute.start - 24) : attribute.start]
    average = _AVERAGE.search(window)
    extreme = _EXTREME.search(window) if average is None else None
    if extreme is not None and any(s.kind in RUN_KINDS for s in spans):
        return None  # "trial 4 had the highest lr, 0.02": a per-run value
    if average is None and extreme is None:
        return None
    column = attribute.target[0]
    if column not in sheet.columns or sheet.is_categorical(column):
        return unresolved(claim, f"{column} has no numeric values to aggregate")
    lo, hi = clause(text, attribute.start, number.end)
    selectors = [s for s in spans if lo <= s.start and s.end <= hi and s.kind in SELECTOR_KINDS]
    mask = sheet.select(selectors)
    values = sheet.numeric(column)
    if mask is not None:
        values = values[mask.to_numpy()]
    # runs the clause names ("the mean val loss of A2_rope runs", a display name shared by seeds) are the
    # population too, intersected with the selectors
    named = [s for s in spans if lo <= s.start and s.end <= hi and s.kind in RUN_KINDS]
    if named:
        ids = {r for s in named for r in s.target}
        values = values[[str(r) in ids for r in values.index]]
        selectors = selectors + named
    values = values[np.isfinite(values.to_numpy())]
    scope = f"{' and '.join(s.text for s in selectors)} runs" if selectors else "runs"
    if values.empty:
        return unresolved(claim, f"no {scope} have a finite {column}")
    candidates: list[tuple[str, float]]
    if average is not None:
        stat = average["stat"].lower()
        name = "median" if stat == "median" else "mean"
        candidates = [(name, float(values.median() if name == "median" else values.mean()))]
    else:
        direction = _direction(sheet, column, extreme)
        if direction is None:
            return unresolved(claim, f"whether lower or higher {column} is better is not known")
        candidates = [(direction, float(values.min() if direction == "min" else values.max()))]
        curve = sheet.numeric(f"{column}.{direction}") if f"{column}.{direction}" in sheet.columns else None
        if curve is not None:
            if mask is not None:
                curve = curve[mask.to_numpy()]
            curve = curve[np.isfinite(curve.to_numpy())]
            if not curve.empty:
                best = float(curve.min() if direction == "min" else curve.max())
                candidates.append((f"{direction} of the per-run {column}.{direction}", best))
    claim = with_claim(claim, attribute=column)
    n = len(values)
    for name, actual in candidates:
        if comparison.holds(actual):
            message = f"the {name} {column} of {n} {scope} is {show(actual, number)}"
            return make_verdict(claim, "supported", SUPPORTED_COUNT, message, actual)
    name, actual = candidates[0]
    message = f"the {name} {column} of {n} {scope} is {show(actual, number)}, not {number.text}"
    fix = render_like(actual, number) if comparison.op == "eq" else None
    return make_verdict(claim, "contradicted", COUNT_MISMATCH, message, actual, fix)


def _direction(sheet: Sheet, column: str, extreme: re.Match[str] | None) -> str | None:
    if extreme is None:
        return None
    if extreme["min"]:
        return "min"
    if extreme["max"]:
        return "max"
    goal = metric_goal(sheet, column)
    if goal is None:
        return None
    return goal if extreme["best"] else ("max" if goal == "min" else "min")


def check_stability(sheet: Sheet, index: int, unit: Unit, spans: list[EntitySpan]) -> list[Verdict]:
    """Verdicts on "most/least stable" claims about a group."""
    out: list[Verdict] = []
    text = unit.text
    for m in _STABLE.finditer(text):
        lo, hi = clause(text, m.start(), m.end())
        group = next((s for s in spans if s.kind == "group" and lo <= s.start and s.end <= hi), None)
        if group is None:
            continue
        param, level = group.target
        claim = Claim(unit, index, min(group.start, m.start()), max(group.end, m.end()), None, None, None,
                      param, (), tuple(spans))  # fmt: skip
        rates = _instability(sheet, param)
        if rates is None or level.lower() not in rates.index:
            out.append(unresolved(claim, f"{param} has no runs to compare stability on"))
            continue
        most_stable = m["how"] is not None and m["how"].lower() == "most"
        target = rates.min() if most_stable else rates.max()
        mine = float(rates[level.lower()])
        table = ", ".join(f"{k} {show(v * 100)}%" for k, v in rates.items())
        word = "most" if most_stable else "least"
        detail = f"share of runs that failed or have an issue per {param}: {table}"
        claim = with_claim(claim, runs=())
        if math.isclose(mine, float(target)):
            out.append(
                make_verdict(claim, "supported", SUPPORTED_RANKING, f"{level} is the {word} stable: {detail}")
            )
        else:
            out.append(
                make_verdict(
                    claim, "contradicted", RANKING_FALSE, f"{level} is not the {word} stable: {detail}", mine
                )
            )
    return out


def _instability(sheet: Sheet, param: str) -> pd.Series | None:
    if param not in sheet.columns:
        return None
    levels = sheet.runs[param].astype(str).str.lower().to_numpy()
    bad = np.isin(sheet.states, FAILED_STATES)
    flags = sheet.issue_flags("any")
    if flags is not None:
        bad = bad | flags.to_numpy()
    present = sheet.runs[param].notna().to_numpy()
    frame = pd.DataFrame({"level": levels[present], "bad": bad[present]})
    return frame.groupby("level", sort=True)["bad"].mean() if len(frame) else None


def table_aggregate(sheet: Sheet, claim: Claim) -> Verdict | None:
    """A table cell under "median val_loss" / "best val_loss" / "mean lr" in a row about a group of runs:
    the statistic over the row's runs (all with a finite value, or only the finished ones; either matches,
    as group tables often count finished runs only)."""
    unit, number, comparison = claim.unit, claim.number, claim.comparison
    if unit.kind != "table_cell" or number is None or comparison is None or not unit.table_header:
        return None
    header = unit.table_header
    attrs = [s for s in sheet.resolve(header) if s.kind in ("param", "metric", "ratio")]
    if not attrs:
        return None
    attr = attrs[-1]
    before = header[: attr.start]
    average = _AVERAGE.search(before)
    extreme = _EXTREME.search(before) if average is None else None
    if average is None and extreme is None:
        return None
    row = [
        s
        for s in sheet.resolve(unit.row_label, unit.section)
        if s.kind in SELECTOR_KINDS or s.kind in RUN_KINDS
    ]
    mask = sheet.select(row, kinds=SELECTOR_KINDS | RUN_KINDS)
    column = attr.target[0]
    if mask is None or column not in sheet.columns:
        return None
    values = sheet.numeric(column)
    finished = sheet.states == "finished"
    direction = None if average is not None else _direction(sheet, column, extreme)
    if average is None and direction is None:
        return unresolved(claim, f"whether lower or higher {column} is better is not known")
    candidates = []
    for scope, keep in (("runs", mask.to_numpy()), ("finished runs", mask.to_numpy() & finished)):
        v = values[keep]
        v = v[np.isfinite(v.to_numpy())]
        if v.empty:
            continue
        if average is not None:
            name = "median" if average["stat"].lower() == "median" else "mean"
            actual = float(v.median() if name == "median" else v.mean())
        else:
            name = str(direction)
            actual = float(v.min() if direction == "min" else v.max())
        candidates.append((f"the {name} {column} of the row's {len(v)} {scope}", actual))
    if not candidates:
        return unresolved(claim, f"the row's runs have no finite {column}")
    claim = with_claim(claim, attribute=column)
    for what, actual in candidates:
        if comparison.holds(actual):
            return make_verdict(
                claim, "supported", SUPPORTED_COUNT, f"{what} is {show(actual, number)}", actual
            )
    what, actual = candidates[0]
    message = f"{what} is {show(actual, number)}, not {number.text}"
    return make_verdict(claim, "contradicted", COUNT_MISMATCH, message, actual, render_like(actual, number))
