"""Every registered detector honours the contract on degenerate sweeps: empty, one run, an all-NaN
metric, no history; it is deterministic (same output twice) and its findings survive a JSON round trip.
A detector that raises here is a bug even though the runner would isolate it."""

from __future__ import annotations

import json

import pytest

from reportgen.detectors.base import Context, DetectConfig
from reportgen.detectors.registry import REGISTRY, find_spec
from reportgen.detectors.run import run_detectors
from reportgen.findings import Detection, Finding
from reportgen.io.load import load_sweep
from reportgen.io.options import LoadOptions
from tests.conftest import FIXTURES

SPECS = [pytest.param(spec, id=spec.name) for spec in REGISTRY]

HISTORY = "run_id,step,train_loss,val_loss\n" + "".join(
    f"{r},{s},{2.3 - 0.1 * s},{2.4 - 0.09 * s}\n" for r in ("a", "b", "c") for s in range(10)
)
CASES = {
    "empty": ("run_id,state,lr,val_loss\n", None),
    "one run": ("run_id,state,lr,val_loss\na,finished,0.1,0.5\n", None),
    "one run with history": (
        "run_id,state,lr\na,finished,0.1\n",
        "run_id,step,train_loss,val_loss\na,0,2.3,2.4\na,1,2.0,2.1\n",
    ),
    "all-NaN metric": (
        "run_id,state,lr,val_loss\na,finished,0.1,nan\nb,crashed,0.2,nan\nc,finished,0.3,nan\n",
        "run_id,step,val_loss\n" + "".join(f"{r},{s},nan\n" for r in "abc" for s in range(5)),
    ),
    "no history": (
        "run_id,state,lr,batch_size,val_loss\n"
        + "".join(
            f"r{i},{'finished' if i % 3 else 'crashed'},{10 ** -(i % 4 + 1)},{2 ** (i % 4 + 4)},"
            f"{0.5 + i / 10}\n"
            for i in range(12)
        ),
        None,
    ),
    "history only metrics": ("run_id,state,lr\na,finished,0.1\nb,finished,0.01\nc,killed,0.001\n", HISTORY),
}


def _run(spec, sweep) -> list[Finding]:
    thresholds = spec.thresholds_model()
    ctx = Context(spec=spec, thresholds=thresholds, severity=spec.severity)
    return spec.load().detect(sweep, ctx)


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("case", list(CASES))
def test_degenerate_sweeps_give_findings_or_nothing(make_sweep, spec, case) -> None:
    runs, history = CASES[case]
    sweep = make_sweep(runs, history)
    findings = _run(spec, sweep)
    assert all(isinstance(f, Finding) and f.code == spec.code and f.name == spec.name for f in findings)
    run_ids = set(sweep.runs["run_id"])
    assert all(set(f.run_ids) <= run_ids for f in findings)
    if case == "empty":
        assert findings == []


@pytest.mark.parametrize("spec", SPECS)
def test_deterministic_and_json_round_trip(spec) -> None:
    sweep = load_sweep(
        FIXTURES / "seed000" / "runs.csv", LoadOptions(history=FIXTURES / "seed000" / "history.csv")
    )
    first, second = _run(spec, sweep), _run(spec, sweep)
    assert first == second
    assert len({f.id for f in first}) == len(first)  # ids distinguish a detector's findings
    for f in first:
        assert Finding.model_validate_json(f.model_dump_json()) == _nan_safe(f)


def _nan_safe(f: Finding) -> Finding:
    """NaN != NaN, so compare through one more JSON trip (NaN tokens both sides)."""
    return Finding.model_validate_json(f.model_dump_json())


@pytest.mark.parametrize("spec", SPECS)
def test_docstring_says_what_why_thresholds_and_false_positives(spec) -> None:
    doc = spec.doc
    assert doc.startswith(f"{spec.code} {spec.name}:")
    for part in ("What:", "Why it matters:", "Thresholds:", "Known false positives:"):
        assert part in doc, f"{spec.name} docstring lacks {part!r}"
    for name, field in spec.thresholds_model.model_fields.items():
        assert name in doc and field.description, f"{spec.name}.{name} is not documented"


def test_registry_codes_and_names_are_unique_and_well_formed() -> None:
    codes = [s.code for s in REGISTRY]
    names = [s.name for s in REGISTRY]
    assert len(set(codes)) == len(codes) and len(set(names)) == len(names)
    assert all(c[:3].isalpha() and c[:3].isupper() and c[3:].isdigit() and len(c) == 6 for c in codes)
    assert all(n == n.lower() and " " not in n and "_" not in n for n in names)
    assert find_spec("nan001") is find_spec("nan-or-inf-metric") is REGISTRY[0]


def test_a_raising_detector_is_isolated(monkeypatch) -> None:
    sweep = load_sweep(FIXTURES / "seed000" / "runs.csv")
    spec = find_spec("crashed-run")
    module = spec.load()

    def boom(sweep, ctx):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(module, "detect", boom)
    detection = run_detectors(sweep)
    assert [e.name for e in detection.errors] == ["crashed-run"]
    assert "RuntimeError: simulated bug" in detection.errors[0].error
    assert detection.by_name("nan-or-inf-metric")  # the others still ran


def test_detection_json_round_trip_with_inf_evidence() -> None:
    sweep = load_sweep(FIXTURES / "seed000" / "runs.csv")
    detection = run_detectors(sweep, DetectConfig())
    text = detection.model_dump_json()
    assert "Infinity" in text  # trial 4's val_loss summary is inf
    assert json.loads(text)  # Python's json reads the NaN/Infinity tokens
    assert Detection.model_validate_json(text).model_dump_json() == text
