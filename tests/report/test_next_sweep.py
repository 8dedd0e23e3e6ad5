"""The next-sweep proposal: each rule on the fixture that triggers it, and both outputs are runnable."""

from __future__ import annotations

from pathlib import Path

import yaml

from reportgen.detectors.run import run_detectors
from reportgen.io.load import LoadOptions, load_sweep
from reportgen.report.next_sweep import propose
from tests.conftest import FIXTURES


def proposal(name: str):  # type: ignore[no-untyped-def]
    sweep = load_sweep(FIXTURES / "detectors" / name / "trigger" / "runs.csv", LoadOptions())
    detection = run_detectors(sweep)
    found = propose(sweep, detection.findings)
    assert found is not None
    return found, {f.id: f.name for f in detection.findings}


def change(found, param: str):  # type: ignore[no-untyped-def]
    [c] = [c for c in found.changes if c.param == param]
    return c


def test_best_at_the_edge_extends_the_range() -> None:
    found, names = proposal("best-at-boundary")
    c = change(found, "lr")
    assert (c.before, c.after) == ("log-uniform [0.0001, 0.1]", "log-uniform [0.0001, 1]")
    assert [names[i] for i in c.cites] == ["best-at-boundary"]
    assert found.space["lr"] == {"low": 0.0001, "high": 1.0, "log": True, "int": False}


def test_uniformly_sampled_log_param_goes_log_uniform() -> None:
    found, names = proposal("log-scale-sampled-uniformly")
    c = change(found, "lr")
    assert c.before.startswith("uniform") and c.after.startswith("log-uniform")
    assert "log-scale-sampled-uniformly" in [names[i] for i in c.cites]


def test_a_failing_level_at_the_edge_is_cut_off() -> None:
    found, names = proposal("param-issue-rate")
    c = change(found, "batch_size")
    assert c.after == "log-uniform [32, 128]" and "256" in c.why
    assert [names[i] for i in c.cites] == ["param-issue-rate"]


def test_yaml_and_optuna_space_run(tmp_path: Path) -> None:
    found, _ = proposal("param-issue-rate")
    doc = yaml.safe_load(found.wandb_yaml)
    assert doc["metric"] == {"name": "val_loss", "goal": "minimize"}
    assert doc["parameters"]["batch_size"] == {
        "distribution": "q_log_uniform_values",
        "min": 32,
        "max": 128,
        "q": 1,
    }
    namespace: dict = {}
    exec(found.optuna_space, namespace)  # the proposal is code the user runs: it must at least define suggest

    class Trial:
        def suggest_int(self, name, low, high, log=False):  # type: ignore[no-untyped-def]
            assert low <= high
            return low

        def suggest_float(self, name, low, high, log=False):  # type: ignore[no-untyped-def]
            assert 0 < low <= high if log else low <= high
            return low

        def suggest_categorical(self, name, choices):  # type: ignore[no-untyped-def]
            return choices[0]

    assert namespace["suggest"](Trial()) == {"batch_size": 32, "lr": 0.0001}


def test_optuna_space_runs_in_a_real_study() -> None:
    optuna = __import__("pytest").importorskip("optuna")
    found, _ = proposal("best-at-boundary")
    namespace: dict = {}
    exec(found.optuna_space, namespace)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda trial: namespace["suggest"](trial)["lr"], n_trials=5)
    assert len(study.trials) == 5 and all(0.0001 <= t.params["lr"] <= 1.0 for t in study.trials)
    assert study.trials[0].distributions["lr"].log
