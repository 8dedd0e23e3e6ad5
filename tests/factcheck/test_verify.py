"""The verifier's first claim families against the seed-000 fixture and report, and drafts with inline
``<!-- expect: VERDICT [CODE] -->`` expectations."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.factcheck.claims import Verdict
from reportgen.factcheck.entities import Vocabulary
from reportgen.factcheck.markdown import find_directives
from reportgen.factcheck.verify import check_markdown
from reportgen.facts import FactSheet
from tests.conftest import fact_sheet

SEED_000 = Path(__file__).parents[2].parent / "shared" / "seeds" / "000_9ab8bf534450d193.txt"
ABOVE = "lr = 0.01 is not above 0.01"


@pytest.fixture
def sheet() -> tuple[FactSheet, Vocabulary]:
    return fact_sheet("seed000")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def seed() -> str:
    if not SEED_000.is_file():
        pytest.skip("../shared/seeds is not beside this checkout")
    return SEED_000.read_text(encoding="utf-8")


def check(markdown: str, sheet: tuple[FactSheet, Vocabulary]) -> list[Verdict]:
    return check_markdown(markdown, *sheet)


def source_text(markdown: str, v: Verdict) -> str:
    """The source text a verdict points at (single-line spans)."""
    assert v.line == v.end_line
    line = markdown.splitlines()[v.line - 1]
    return line[v.column - 1 : v.end_column - 1]


def on_line(verdicts: list[Verdict], markdown: str, needle: str, text: str) -> list[Verdict]:
    """Verdicts for claim ``text`` on the one source line containing ``needle``."""
    lines = [i + 1 for i, line in enumerate(markdown.splitlines()) if needle in line]
    assert len(lines) == 1, (needle, lines)
    return [v for v in verdicts if v.line == lines[0] and v.text == text]


# ------------------------------------------------------------------------------------------ the seed report


def test_seed_above_001_heading_is_contradicted(seed: str, sheet: tuple[FactSheet, Vocabulary]) -> None:
    verdicts = check(seed, sheet)
    [heading] = on_line(verdicts, seed, "### Learning Rate above 0.01", "above 0.01")
    assert (heading.verdict, heading.code, heading.message) == (
        "contradicted",
        "FCT003 comparison-false",
        ABOVE,
    )
    assert heading.expected == 0.01
    assert heading.fix == "at or above 0.01"
    assert source_text(seed, heading) == "above 0.01"
    assert heading.claim.runs == ("2", "4")


def test_seed_above_001_sentences_are_contradicted(seed: str, sheet: tuple[FactSheet, Vocabulary]) -> None:
    verdicts = check(seed, sheet)
    above = [v for v in verdicts if v.text == "above 0.01"]
    assert len(above) == 3  # the heading, the bold recommendation label and its sentence
    for v in above:
        assert (v.verdict, v.message, v.fix, v.expected) == ("contradicted", ABOVE, "at or above 0.01", 0.01)
        assert source_text(seed, v) == "above 0.01"
    label, sentence = on_line(above, seed, "Avoid setting learning rates above 0.01", "above 0.01")
    assert label.column < sentence.column  # the bold label and the sentence share one list-item line
    assert set(sentence.claim.runs) == {"2", "4"}  # the runs with NaN loss, which the sentence names


def test_seed_per_run_values_are_supported(seed: str, sheet: tuple[FactSheet, Vocabulary]) -> None:
    verdicts = check(seed, sheet)
    for needle, text, run, expected in [
        ("For example, trial_id 2 had a learning rate of 0.01", "0.01", "2", 0.01),
        ("For example, trial_id 2 had a learning rate of 0.01", "0.02", "4", 0.02),
        ("* Trial_id 2 had a learning rate of 0.01", "0.01", "2", 0.01),
        ("* Trial_id 2 had a learning rate of 0.01", "0.02", "4", 0.02),
        ("Specifically, trial_id 3 had a weight decay", "5.33", "3", 16 / 3),
        ("* Trial_id 3 had a weight decay of 0.0", "5.33", "3", 16 / 3),
        ("* Trial_id 3 had a weight decay of 0.0", "0.0", "3", 0.0),
    ]:
        [v] = on_line(verdicts, seed, needle, text)
        assert (v.verdict, v.code) == ("supported", "FCT001 supported-value"), v
        assert v.claim.runs == (run,)
        assert v.expected == pytest.approx(expected)
        assert source_text(seed, v) == text


def test_seed_mutations_are_contradicted_with_fact_and_fix(
    seed: str, sheet: tuple[FactSheet, Vocabulary]
) -> None:
    draft = seed.replace("ratio of 5.33", "ratio of 5.43").replace(
        "trial_id 2 had a learning rate of 0.01", "trial_id 2 had a learning rate of 0.02"
    )
    verdicts = check(draft, sheet)
    ratios = [v for v in verdicts if v.text == "5.43"]
    assert len(ratios) == 2
    for v in ratios:
        assert (v.verdict, v.code) == ("contradicted", "FCT002 value-mismatch")
        assert v.message == "trial 3's val_loss/train_loss is 5.3333, not 5.43"
        assert v.expected == pytest.approx(16 / 3)
        assert v.fix == "5.33"
        assert source_text(draft, v) == "5.43"
    [lr] = on_line(verdicts, draft, "For example, trial_id 2", "0.02")[:1]
    assert lr.claim.runs == ("2",)
    assert (lr.verdict, lr.code) == ("contradicted", "FCT002 value-mismatch")
    assert lr.message == "trial 2's lr is 0.01, not 0.02"
    assert (lr.expected, lr.fix) == (0.01, "0.01")
    # trial_id 4's 0.02 in the same sentence stays supported
    supported = [v for v in on_line(verdicts, draft, "For example, trial_id 2", "0.02") if v is not lr]
    assert [(v.verdict, v.claim.runs) for v in supported] == [("supported", ("4",))]


# ------------------------------------------------------------------------------ drafts with expectations

DRAFT = """\
# Learning rate findings

Trial 3 had a val_loss/train_loss ratio of 5.33. <!-- expect: supported FCT001 -->

Trial 3 had a val_loss/train_loss ratio of 5.4. <!-- expect: contradicted FCT002 -->

Trial 3 had a val/train ratio of about 5.5. <!-- expect: supported FCT001 -->

Trial 6 had a weight decay of 0.001. <!-- expect: contradicted FCT002 -->

Trial 6 had a weight decay of 0.01%. <!-- expect: supported FCT001 -->

Trial 2 did not have a learning rate of 0.01. <!-- expect: unverifiable FCT010 -->

Trial 7 had a learning rate of 1e-4. <!-- expect: supported FCT001 -->

Trials 2 and 4 had learning rates above 0.01. <!-- expect: contradicted FCT003 -->

Trials 4 and 6 had learning rates of at least 0.002. <!-- expect: supported FCT004 -->

Runs with NaN loss all had a learning rate above 0.005. <!-- expect: supported FCT004 -->

Crashed runs had a batch size below 16. <!-- expect: contradicted FCT003 -->

The sweep contained 5 issues across 3 trials. <!-- expect: contradicted FCT006 -->

Batch sizes above 32 tend to give longer training times. <!-- expect: contradicted FCT021 -->

A learning rate of 0.01 is a good default. <!-- expect: unverifiable FCT010 -->

## Learning rates of at least 0.01 produced NaN loss <!-- expect: unverifiable FCT022 -->

## Batch sizes of at most 8 <!-- expect: contradicted FCT003 -->

Trials 6 and 2 are the small-batch runs.

| Run | lr | batch_size |
| --- | --- | --- |
| trial 2 | 0.01 | 16 |
| trial 4 | 0.03 | 32 |
"""
# the table row's cells: (row line, cell text, verdict)
TABLE = [
    (39, "0.01", "supported"),
    (39, "16", "supported"),
    (40, "0.03", "contradicted"),
    (40, "32", "supported"),
]


def test_draft_expectations(sheet: tuple[FactSheet, Vocabulary]) -> None:
    verdicts = check(DRAFT, sheet)
    expectations = [d for d in find_directives(DRAFT) if d.kind == "expect"]
    assert len(expectations) == 16
    for d in expectations:
        here = [v for v in verdicts if v.line == d.line]
        assert here, (d.line, DRAFT.splitlines()[d.line - 1])
        want = [v for v in here if v.verdict == d.verdict and (not d.codes or v.code.split()[0] in d.codes)]
        assert want, (d.line, d.verdict, d.codes, [(v.text, v.verdict, v.code, v.message) for v in here])
    expected_lines = {d.line for d in expectations}
    stray = [v for v in verdicts if v.verdict == "contradicted" and v.line not in expected_lines]
    assert [(v.line, v.text) for v in stray] == [(40, "0.03")]


def test_draft_table_cells(sheet: tuple[FactSheet, Vocabulary]) -> None:
    verdicts = check(DRAFT, sheet)
    got = [(v.line, v.text, v.verdict) for v in verdicts if v.claim.unit.kind == "table_cell"]
    assert got == TABLE
    [wrong] = [v for v in verdicts if v.text == "0.03"]
    assert (wrong.message, wrong.expected, wrong.fix) == ("trial 4's lr is 0.02, not 0.03", 0.02, "0.02")


def test_draft_messages_and_fixes(sheet: tuple[FactSheet, Vocabulary]) -> None:
    by_line = {v.line: v for v in check(DRAFT, sheet)}
    assert by_line[5].message == "trial 3's val_loss/train_loss is 5.3333, not 5.4"
    assert by_line[5].fix == "5.3"
    assert by_line[9].message == "trial 6's weight_decay is 0.0001, not 0.001"
    assert by_line[9].fix == "0.0001"  # not "0.000": the stated precision would hide the fact
    assert by_line[17].message == ABOVE and by_line[17].fix == "at or above 0.01"
    assert by_line[23].message == "batch_size = 16 is not below 16"
    assert by_line[23].fix == "at or below 16"
    heading = by_line[33]
    assert heading.claim.runs == ("6", "2", "4")  # the runs its section names (table rows too)
    assert (heading.message, heading.expected, heading.fix) == (
        "batch_size = 16 is not at most 8",
        16,
        "above 8",
    )
