"""The seed-000 report (an unchecked LLM's report) checked against the seed-000 fixture, claim by claim.

The table is the complete verdict list: every claim the checker extracts, with the code that decided it.
Contradicted (the report is wrong about the data):

- line 4 "5 issues": the detectors flag 6 (nan-or-inf-metric 2, crashed-run, short-run, divergence and
  overfitting 1 each); the seed's tool did not count trial 2's crash or trial 4's divergence;
- lines 5 and 12: overfitting has 1 run (trial 3), not 2; trial 4's val_loss is inf (it diverged), which is
  not overfitting (line 12 also lists run 4 under overfitting);
- lines 17 and 37: "above 0.01" -- trial 2 has lr = 0.01;
- lines 24, 27, 38: "small batch sizes lead to shorter training times" / "batch sizes above 32 tend to result
  in longer training times" -- runtime_s of the finished runs falls as batch_size rises (rho = -1.00 and
  -0.89).

Weak evidence (unverifiable, FCT022): every causal claim resting on 1-2 runs -- "above 0.01 leads to NaN
loss" (n = 1), "correlation between learning rate and NaN loss" (n = 2), "high learning rates are
problematic" (p = 0.074), "small batch sizes correlate with short runs" (n = 1), "zero weight decay causes
overfitting" (n = 1). Unresolved (FCT010): "a lack of regularization leads to overfitting" (no param),
"which can cause NaN loss" (gradient clipping is not in the sweep), and the example values of the
recommendations (0.0001, `(32, 128)`), which are advice, not facts about the runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.factcheck.verify import check_markdown
from tests.conftest import fact_sheet

SEED_000 = Path(__file__).parents[2].parent / "shared" / "seeds" / "000_9ab8bf534450d193.txt"

# (line, claim text, code), in source order
EXPECTED = [
    (4, "5", "FCT006"),
    (4, "3", "FCT005"),
    (5, "2", "FCT005"),
    (5, "2", "FCT006"),
    (11, "2", "FCT005"),
    (11, "2", "FCT007"),
    (11, "4", "FCT007"),
    (12, "2", "FCT006"),
    (12, "3", "FCT007"),
    (12, "4", "FCT008"),
    (13, "1", "FCT005"),
    (13, "2", "FCT007"),
    (17, "Learning Rate above 0.01 Frequently Leads to NaN Loss", "FCT022"),
    (17, "above 0.01", "FCT003"),
    (18, "correlation between learning rate and NaN loss", "FCT022"),
    (18, "high learning rates are problematic", "FCT022"),
    (18, "1.0", "FCT005"),
    (18, "0.01", "FCT001"),
    (18, "0.02", "FCT001"),
    (18, "resulting in NaN loss", "FCT007"),
    (20, "1.0", "FCT005"),
    (21, "0.01", "FCT001"),
    (21, "0.02", "FCT001"),
    (23, "Small Batch Sizes Correlate with Short Runs", "FCT022"),
    (24, "correlation between batch size and short runs", "FCT022"),
    (24, "small batch sizes lead to shorter training times", "FCT021"),
    (24, "0.5", "FCT005"),
    (24, "0.5", "FCT005"),
    (24, "0.0", "FCT005"),
    (24, "batch sizes above 32 tend to result in longer training times", "FCT021"),
    (26, "0.5", "FCT005"),
    (26, "0.5", "FCT005"),
    (27, "0.0", "FCT005"),
    (27, "batch sizes above 32 tend to result in longer training times", "FCT021"),
    (29, "Zero", "FCT001"),
    (29, "Zero Weight Decay Causes Strong Overfitting", "FCT022"),
    (30, "zero", "FCT001"),
    (30, "a lack of regularization leads to overfitting", "FCT010"),
    (30, "0.0", "FCT001"),
    (30, "5.33", "FCT001"),
    (32, "0.0", "FCT001"),
    (32, "5.33", "FCT001"),
    (33, "inf", "FCT001"),
    (33, "0.0", "FCT001"),
    (37, "above 0.01", "FCT003"),
    (37, "correlation between learning rate and NaN loss", "FCT022"),
    (37, "high learning rates are problematic", "FCT022"),
    (37, "above 0.01", "FCT003"),
    (38, "correlation between batch size and short runs", "FCT022"),
    (38, "small batch sizes lead to shorter training times", "FCT021"),
    (38, "batch size above 32 to result in longer training times", "FCT021"),
    (39, "zero", "FCT001"),
    (39, "a lack of regularization leads to overfitting", "FCT010"),
    (39, "0.0001", "FCT010"),
    (40, "inf", "FCT001"),
    (40, "0.0", "FCT001"),
    (41, "which can cause NaN loss", "FCT010"),
    (42, "32", "FCT010"),
    (42, "128", "FCT010"),
]
VERDICT_OF = {
    **dict.fromkeys(["FCT001", "FCT004", "FCT005", "FCT007", "FCT011", "FCT020"], "supported"),
    **dict.fromkeys(["FCT002", "FCT003", "FCT006", "FCT008", "FCT012", "FCT021"], "contradicted"),
    **dict.fromkeys(["FCT010", "FCT022"], "unverifiable"),
}


def test_seed_report_every_claim() -> None:
    if not SEED_000.is_file():
        pytest.skip("../shared/seeds is not beside this checkout")
    verdicts = check_markdown(SEED_000.read_text(encoding="utf-8"), *fact_sheet("seed000"))
    got = [(v.line, v.text, v.code.split()[0]) for v in verdicts]
    assert got == EXPECTED
    for v in verdicts:
        assert v.verdict == VERDICT_OF[v.code.split()[0]] and v.message
    contradicted = sorted({v.line for v in verdicts if v.verdict == "contradicted"})
    assert contradicted == [4, 5, 12, 17, 24, 27, 37, 38]
