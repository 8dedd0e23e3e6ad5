"""The FactSheet holds the numbers a report about the seed-000 sweep states, raw and addressable."""

from __future__ import annotations

import math

import pytest

from reportgen.detectors.run import run_detectors
from reportgen.facts import build_factsheet
from reportgen.io.load import load_sweep
from reportgen.io.options import LoadOptions
from tests.conftest import FIXTURES

SEED = FIXTURES / "seed000"


@pytest.fixture(scope="module")
def facts():
    sweep = load_sweep(SEED / "runs.csv", LoadOptions(history=SEED / "history.csv"))
    return build_factsheet(sweep, run_detectors(sweep))


def test_per_run_params_metrics_and_derived_values(facts) -> None:
    assert facts.run_value("2", "lr") == 0.01 and facts.run_value("4", "lr") == 0.02
    assert facts.run_value("3", "weight_decay") == 0.0
    assert facts.run_value("3", "val_loss/train_loss") == pytest.approx(1.6 / 0.3)
    assert math.isinf(facts.run_value("4", "val_loss/train_loss"))
    assert facts.run_value("2", "steps") == 5 and facts.run_value("2", "state") == "crashed"
    assert facts.run_value("2", "val_loss.nonfinite_step") == 4
    assert facts.run_value("4", "val_loss.nonfinite_step") == 13
    assert facts.run_value("3", "val_loss.min_step") < facts.run_value("3", "val_loss.last_step") == 20


def test_issue_flags_and_sweep_scalars(facts) -> None:
    assert facts.run_value("2", "issue.nan-or-inf-metric") and facts.run_value("4", "issue.nan-or-inf-metric")
    assert not facts.run_value("0", "issue.any")
    assert facts.sweep["runs"] == 8
    assert facts.sweep["state.crashed.count"] == 1 and facts.sweep["state.crashed.rate"] == 0.125
    assert facts.sweep["state.pruned.count"] == 0
    assert facts.sweep["issue.nan-or-inf-metric.count"] == 2
    assert facts.sweep["objective.metric"] == "val_loss" and facts.sweep["objective.direction"] == "min"
    assert facts.sweep["objective.best_run"] == "5"  # lowest final val_loss among finite values
    assert all(fid in facts.findings for fid in facts.findings)
