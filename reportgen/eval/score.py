"""Scoring: the checker against labelled claims, and a writer backend by what the checker says of its report.

**Checker.** A label's verdict is the checker's verdict on its span: the verdicts on the label's line whose
column span overlaps the quote (the most severe of them: contradicted, then unverifiable, then supported;
none overlapping is "missing", counted as not supported). A wrong claim is *caught* when that verdict is
contradicted; a ``causal_n1`` claim (expected unverifiable) when it is not supported. On correct claims
(error type ``none``): the *false-alarm rate* is the share contradicted, the *unverifiable rate* the share
of those the data supports that the checker does not (unverifiable or missing); *agreement* is the share of
all labels whose verdict is exactly the expected one.

**Writer.** Per sweep: contradicted claims in the writer's prose before and after the repair loop
(``report.fact_check``), the share of the report's claims the checker supports, the high-severity findings
the report cites, whether the report's JSON is valid against the report's model, and LLM calls, tokens and
seconds (``report.manifest``).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from reportgen.eval.perturb import ERROR_TYPES, Case, Label
from reportgen.eval.sweeps import load_eval_sweep
from reportgen.factcheck.claims import Verdict
from reportgen.factcheck.verify import check_markdown

_SEVERITY = {"contradicted": 2, "unverifiable": 1, "supported": 0}


@dataclass
class LabelResult:
    case: str
    label: Label
    got: str  # supported | contradicted | unverifiable | missing
    code: str | None
    message: str | None

    @property
    def caught(self) -> bool:
        if self.label.error == "causal_n1":
            return self.got != "supported"
        return self.got == "contradicted"


@dataclass
class CheckerRun:
    results: list[LabelResult] = field(default_factory=list)
    seconds: float = 0.0
    claims_checked: int = 0  # every verdict the checker produced, labelled or not


def verdict_for(label: Label, verdicts: list[Verdict]) -> Verdict | None:
    """The verdict on exactly the label's span, else the most severe one overlapping it on its line (a
    heading's causal claim contains a comparison: the label on the whole heading takes the trend's
    verdict)."""
    exact = [
        v
        for v in verdicts
        if (v.line, v.column, v.end_line, v.end_column)
        == (label.line, label.column, label.line, label.end_column)
    ]
    if exact:
        return max(exact, key=lambda v: _SEVERITY[v.verdict])
    hits = [
        v
        for v in verdicts
        if v.line <= label.line <= v.end_line
        and (v.line < label.line or v.column < label.end_column)
        and (v.end_line > label.line or v.end_column > label.column)
    ]
    return max(hits, key=lambda v: _SEVERITY[v.verdict], default=None)


def run_checker(cases: list[Case]) -> CheckerRun:
    """Check every case's draft against its sweep (loading each sweep once) and match verdicts to labels."""
    out = CheckerRun()
    for case in cases:
        loaded = load_eval_sweep(case.sweep)
        start = time.perf_counter()
        verdicts = check_markdown(case.draft, loaded.facts, loaded.vocab)
        out.seconds += time.perf_counter() - start
        out.claims_checked += len(verdicts)
        for label in case.labels:
            v = verdict_for(label, verdicts)
            out.results.append(
                LabelResult(
                    case.name,
                    label,
                    v.verdict if v is not None else "missing",
                    v.code.split()[0] if v is not None else None,
                    v.message if v is not None else None,
                )
            )
    return out


def checker_scorecard(run: CheckerRun) -> dict[str, Any]:
    """Recall per error type, false-alarm and unverifiable rates on correct claims, throughput; the same
    per source (generated, hand-written) under ``by_source``."""
    out = _score(run.results)
    out["by_source"] = {
        source: _score([r for r in run.results if r.case.startswith(prefix)])
        for source, prefix in (("generated", "generated/"), ("hand_written", "cases/"))
    }
    out["claims_checked"] = run.claims_checked
    out["checker_seconds"] = round(run.seconds, 3)
    out["claims_per_second"] = round(run.claims_checked / run.seconds, 1) if run.seconds else None
    return out


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _score(results: list[LabelResult]) -> dict[str, Any]:
    per_type: dict[str, dict[str, Any]] = {}
    by_type: dict[str, list[LabelResult]] = defaultdict(list)
    for r in results:
        by_type[r.label.error].append(r)
    for error in ERROR_TYPES:
        rows = by_type.get(error, [])
        caught = sum(r.caught for r in rows)
        per_type[error] = {
            "claims": len(rows),
            "caught": caught,
            "recall": _rate(caught, len(rows)),
            "verdicts": dict(sorted(Counter(r.got for r in rows).items())),
        }
    correct = by_type.get("none", [])
    checkable = [r for r in correct if r.label.expected == "supported"]
    false_alarms = sum(r.got == "contradicted" for r in correct)
    not_supported = sum(r.got != "supported" for r in checkable)
    per_family: dict[str, Counter[str]] = defaultdict(Counter)
    for r in checkable:
        per_family[r.label.family][r.got] += 1
    agree = sum(r.got == r.label.expected for r in results)
    return {
        "labelled_claims": len(results),
        "cases": len({r.case for r in results}),
        "recall": per_type,
        "correct_claims": len(correct),
        "false_alarms": false_alarms,
        "false_alarm_rate": _rate(false_alarms, len(correct)),
        "unverifiable_rate": _rate(not_supported, len(checkable)),
        "agreement": _rate(agree, len(results)),
        "correct_by_family": {k: dict(sorted(v.items())) for k, v in sorted(per_family.items())},
    }


def failures(run: CheckerRun, limit: int = 5) -> dict[str, list[dict[str, Any]]]:
    """A few misses per error type and false alarms, for the scorecard and for whoever improves the
    checker."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in run.results:
        wrong = (r.label.error == "none" and r.got == "contradicted") or (
            r.label.error != "none" and not r.caught
        )
        key = "false_alarm" if r.label.error == "none" else r.label.error
        if wrong and len(out[key]) < limit:
            out[key].append(
                {
                    "case": r.case,
                    "line": r.label.line,
                    "quote": r.label.quote,
                    "got": r.got,
                    "code": r.code,
                    "message": r.message,
                    "why": r.label.why,
                }
            )
    return dict(out)
