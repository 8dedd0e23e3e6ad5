"""The eval suite guards the checker: on a subset of the bundled sweeps (plus every hand-written case), recall
per error type and the false-alarm rate must not get worse than the committed baseline
(``reportgen/eval/baseline.json``, ``test_subset``) by more than ``MARGIN``. After a deliberate change,
regenerate the baseline with ``python -m reportgen.eval.runner`` and commit it with the change.
"""

from __future__ import annotations

import json

import pytest

from reportgen.cli.main import main
from reportgen.eval.cases import load_cases
from reportgen.eval.perturb import ERROR_TYPES, generate
from reportgen.eval.runner import BASELINE, TEST_SUBSET, evaluate_checker
from reportgen.eval.sweeps import CASES_DIR, load_eval_sweep

MARGIN = 0.02  # absolute: recall may not drop, nor the false-alarm rate rise, by more than this


@pytest.fixture(scope="module")
def subset() -> dict:  # type: ignore[type-arg]
    return evaluate_checker(sweeps=TEST_SUBSET)


def test_recall_and_false_alarms_no_worse_than_baseline(subset) -> None:  # type: ignore[no-untyped-def]
    base = json.loads(BASELINE.read_text(encoding="utf-8"))["test_subset"]["checker"]
    for error in ERROR_TYPES:
        was, now = base["recall"][error]["recall"], subset["recall"][error]["recall"]
        if was is not None:
            assert now is not None and now >= was - MARGIN, (error, was, now, subset["examples_of_failures"])
    assert subset["false_alarm_rate"] <= base["false_alarm_rate"] + MARGIN, subset["examples_of_failures"]
    assert subset["unverifiable_rate"] <= base["unverifiable_rate"] + MARGIN


def test_generator_is_seeded_and_labels_point_at_their_quotes() -> None:
    loaded = load_eval_sweep("seed000")
    a, b, c = generate(loaded, 0), generate(loaded, 0), generate(loaded, 1)
    assert a == b and a.draft != c.draft
    lines = a.draft.splitlines()
    for label in a.labels:
        assert lines[label.line - 1][label.column - 1 : label.end_column - 1] == label.quote
    errors = {label.error for label in a.labels}
    assert "none" in errors and len(errors) >= 8
    assert len(a.labels) >= 200


def test_hand_written_cases_load() -> None:
    cases = load_cases(CASES_DIR)
    assert {c.name for c in cases} >= {
        "cases/seed000-report",
        "cases/group-stability-bullets",
        "cases/mlflow-tables-hedged",
    }
    assert all(c.labels for c in cases)


def test_cli_writes_scorecard(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "scorecard.json"
    args = ["eval", "--sweeps", "seed000", "--cases", str(CASES_DIR), "-o", str(out)]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "wrong_comparator" in text and "false alarms" in text and "naive baseline" in text
    card = json.loads(out.read_text(encoding="utf-8"))
    assert card["schema_version"] == 1 and card["checker"]["labelled_claims"] > 300
    assert card["writer"]["totals"]["contradicted_after_repair"] == 0
