"""The seed-000 report's issue table against the findings on the sweep behind it.

The report (shared/seeds/000_9ab8bf534450d193.txt) lists: nan_or_inf_metric in trials 2 and 4,
overfitting_suspect in trials 3 and 4, short_run in trial 2, and sells n = 1 learning-rate buckets as a
trend. Where the data supports it the findings agree; where the report is wrong they disagree.
"""

from __future__ import annotations

import pytest

from reportgen.detectors.run import run_detectors
from reportgen.io.load import load_sweep
from reportgen.io.options import LoadOptions
from tests.conftest import FIXTURES

SEED = FIXTURES / "seed000"


@pytest.fixture(scope="module")
def detection():
    return run_detectors(load_sweep(SEED / "runs.csv", LoadOptions(history=SEED / "history.csv")))


def _runs(detection, name: str) -> set[str]:
    return {rid for f in detection.by_name(name) for rid in f.run_ids}


def test_agrees_where_the_data_supports_the_report(detection) -> None:
    assert _runs(detection, "nan-or-inf-metric") == {"2", "4"}
    val = next(f for f in detection.by_name("nan-or-inf-metric") if f.evidence["metric"] == "val_loss")
    assert {r["run_id"]: r["first_bad_step"] for r in val.evidence["runs"]} == {"2": 4.0, "4": 13.0}
    assert _runs(detection, "short-run") == {"2"}
    assert "3" in _runs(detection, "overfitting")  # final val/train = 1.6 / 0.3


def test_disagrees_where_the_report_is_wrong(detection) -> None:
    # trial 4's "val/train ratio of inf" is a val_loss overflow with a rising train loss: divergence and
    # a non-finite metric, not overfitting
    assert "4" not in _runs(detection, "overfitting")
    assert "4" in _runs(detection, "divergence")
    # "(0.005, 0.01] and (0.01, 0.02] have issue rates of 1.0" rests on one run each: no learning-rate
    # bucket is significant, and the lr finding is informational
    lr = next(f for f in detection.by_name("param-issue-rate") if f.evidence["param"] == "lr")
    assert lr.severity == "info"
    assert all(f.severity == "info" for f in detection.by_name("param-issue-rate"))
