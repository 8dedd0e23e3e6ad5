"""Statistics of param buckets, recomputed from the runs actually in each bucket (``FCT005``/``FCT006``).

A bucket is an interval as pandas writes it (``(0.005, 0.01]``), attached by entity resolution to a param.
Its runs are the runs whose param value lies in the interval, honouring which ends are closed. Forms read:

- "buckets A and B have issue rates of 1.0" (every bucket has the rate), "buckets A and B have issue rates
  of 0.5 and 0.5, respectively" (one rate per bucket, in order), "bucket C has an issue rate of 0.0";
- the rate is of any issue, or of the issue type named between the bucket and the number ("a NaN-loss rate
  of 1.0"), or of a state ("crash rate");
- "bucket A (n = 2)" / "bucket A holds 2 runs": the bucket's size.

The message always gives n and the runs, because a rate of 1.0 over one run is a different fact from a rate
of 1.0 over forty: the trend family uses the same sizes to call an n = 1 bucket weak evidence.
"""

from __future__ import annotations

import re

from reportgen.factcheck.claims import (
    COUNT_MISMATCH,
    SUPPORTED_COUNT,
    Claim,
    Verdict,
    make_verdict,
    unresolved,
    with_claim,
)
from reportgen.factcheck.context import Sheet
from reportgen.factcheck.entities import EntitySpan
from reportgen.factcheck.numbers import NumberSpan
from reportgen.factcheck.wording import render_like, run_list, show

_RATE = re.compile(r"(?i)\brates?\b")
_SIZE = re.compile(r"(?i)(?:\bn\s*=\s*$)|(?:\b(?:holds?|contains?|has|have|with)\s+$)")
_RUNS_AFTER = re.compile(r"(?i)\s+(?:runs?|trials?)\b")
_LIST = re.compile(r"(?i)\s*(?:of|was|were|is|are|=|:)?\s*(?:[-+]?[\d.]+%?\s*(?:,\s*and|,|and)?\s*)*")
_RESPECTIVELY = re.compile(r"(?i)\brespectively\b")
_STOP = re.compile(r";|\.\s|\bwhile\b|\bwhereas\b|\bbut\b")
_RATE_STATES = {"crash": "crashed", "failure": "failed", "success": "finished", "completion": "finished"}


def _outcome(sheet: Sheet, text: str, spans: list[EntitySpan], lo: int, hi: int) -> tuple[str, object] | None:
    """The flag a bucket rate is about: an issue or state named between the buckets and the number."""
    for s in spans:
        if lo <= s.start and s.end <= hi and s.kind in ("issue", "state"):
            mask = sheet.mask(s)
            return (s.text, mask) if mask is not None else None
    for word, state in _RATE_STATES.items():
        if re.search(rf"(?i)\b{word}\s+rates?\b", text[lo:hi]):
            return word, sheet.selection("state", (state,))
    flags = sheet.issue_flags("any")
    return ("any issue", flags) if flags is not None else None


def check_bucket(
    sheet: Sheet, claim: Claim, spans: list[EntitySpan], numbers: list[NumberSpan]
) -> Verdict | None:
    """The verdict on a bucket's rate or size, or None when ``claim.number`` is not one."""
    number, comparison, text = claim.number, claim.comparison, claim.unit.text
    if number is None or comparison is None:
        return None
    stop = 0
    for m in _STOP.finditer(text, 0, number.start):
        stop = m.end()
    buckets = [s for s in spans if s.kind == "bucket" and stop <= s.start and s.end <= number.start]
    if not buckets:
        return None
    size = _SIZE.search(text, max(0, number.start - 12), number.start) is not None
    if (
        size
        and not _RUNS_AFTER.match(text, number.end)
        and "n" not in text[max(0, number.start - 4) : number.start]
    ):
        size = False
    rate_word = None
    for m in _RATE.finditer(text, buckets[-1].end, number.start):
        rate_word = m
    # the number must be in the list right after the rate word ("rates of 0.5 and 0.5"), not further on
    rate = rate_word is not None and _LIST.fullmatch(text, rate_word.end(), number.start) is not None
    if not (rate or size):
        return None
    # which bucket: "respectively" pairs the k-th number after the rate word with the k-th bucket
    listed = [n for n in numbers if buckets[-1].end <= n.start]
    k = listed.index(number) if number in listed else 0
    # "rates of 0.5 and 0.0[, respectively]": as many numbers as buckets pair up in order
    in_list = [n for n in listed if rate_word is None or _LIST.fullmatch(text, rate_word.end(), n.start)]
    if len(buckets) > 1 and len(in_list) == len(buckets) and number in in_list:
        bucket_set = [buckets[in_list.index(number)]]
    elif _RESPECTIVELY.search(text, number.end) and len(listed) == len(buckets):
        bucket_set = [buckets[k]]
    else:
        bucket_set = buckets
    outcome = _outcome(sheet, text, spans, buckets[-1].end, number.start) if rate else None
    if rate and outcome is None:
        return unresolved(claim, "the sweep has no issue flags to compute a bucket's rate from")
    details: list[str] = []
    for bucket in bucket_set:
        members = sheet.mask(bucket)
        if members is None:
            return unresolved(claim, f"bucket {bucket.text} is not attached to a numeric param")
        ids = sheet.ids(members)
        param = bucket.target[0]
        where = f"{param} bucket {bucket.text} ({run_list(ids)}, n = {len(ids)})"
        if size:
            actual = float(len(ids))
        else:
            if not ids:
                return unresolved(
                    with_claim(claim, attribute=param), f"no run falls in {param} bucket {bucket.text}"
                )
            assert outcome is not None
            label, flags = outcome
            hit = sheet.ids(members & flags)  # type: ignore[operator]
            actual = len(hit) / len(ids)
            where += f": {len(hit)} of {len(ids)} with {label}"
        verdict_claim = with_claim(claim, attribute=param, runs=tuple(ids))
        if not comparison.holds(actual):
            message = f"{where} = {show(actual, number)}, not {number.text}"
            fix = render_like(actual, number) if comparison.op == "eq" else None
            return make_verdict(verdict_claim, "contradicted", COUNT_MISMATCH, message, actual, fix)
        details.append(f"{where} = {show(actual, number)}")
    supported = with_claim(claim, attribute=bucket_set[0].target[0])
    return make_verdict(supported, "supported", SUPPORTED_COUNT, "; ".join(details), actual)
