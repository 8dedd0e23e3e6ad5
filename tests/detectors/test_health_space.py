"""Run-health (short-run, metric-stuck), search-space (SSP001-SSP006) and ranking (top-runs) detectors:
which runs and which values they report, on hand-made sweeps, the seed-000 fixture and real exports."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from reportgen.detectors.base import Context
from reportgen.detectors.registry import find_spec
from reportgen.detectors.seed_variance import seed_spread
from reportgen.detectors.top_runs import INCOMPLETE_NOTE
from reportgen.findings import Finding
from reportgen.io.load import load_sweep
from reportgen.io.options import LoadOptions
from reportgen.sweep import Sweep
from tests.conftest import FIXTURES


def detect(name: str, sweep: Sweep, **thresholds) -> list[Finding]:
    spec = find_spec(name)
    assert spec is not None
    ctx = Context(spec=spec, thresholds=spec.thresholds_model(**thresholds), severity=spec.severity)
    return spec.load().detect(sweep, ctx)


def csv(header: str, rows: list[str]) -> str:
    return header + "\n" + "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def seed000() -> Sweep:
    return load_sweep(
        FIXTURES / "seed000" / "runs.csv", LoadOptions(history=FIXTURES / "seed000" / "history.csv")
    )


# --- RUN002 short-run -------------------------------------------------------------------------------


def test_seed000_trial_2_ran_5_of_20_epochs_and_is_the_only_short_run(seed000) -> None:
    findings = detect("short-run", seed000)
    assert len(findings) == 1
    (f,) = findings
    assert f.run_ids == ["2"]
    assert f.evidence["kind"] == "failed" and f.evidence["by_state"] == {"crashed": 1}
    assert f.evidence["reference_source"] == "typical"  # no epochs param: median of 7 finished runs
    assert f.evidence["typical_last_step"] == 20.0 and f.evidence["n_finished_reference"] == 7
    (run,) = f.evidence["runs"]
    assert run == {
        "run_id": "2",
        "state": "crashed",
        "last_step": 5.0,
        "reference_length": 20.0,
        "fraction": 0.25,
    }


def test_short_run_uses_planned_epochs_and_keeps_pruned_apart(make_sweep) -> None:
    sweep = make_sweep(
        csv(
            "run_id,state,epochs,lr,epoch,val_loss",
            [
                "a,finished,20,0.1,20,0.5",
                "b,finished,20,0.2,19,0.6",  # 0-based counter: not short
                "c,finished,40,0.3,40,0.4",
                "d,finished,40,0.4,12,0.7",  # 12 of its own 40 epochs (the median run ended at 20)
                "e,pruned,20,0.5,3,0.9",
                "f,running,20,0.6,2,",  # still going: not short
                "g,killed,40,0.7,5,",
            ],
        )
    )
    findings = {f.evidence["kind"]: f for f in detect("short-run", sweep)}
    assert set(findings) == {"stopped", "failed", "pruned"}
    assert findings["stopped"].run_ids == ["d"]
    assert findings["stopped"].evidence["planned_param"] == "epochs"
    assert findings["stopped"].evidence["runs"][0]["fraction"] == 12 / 40
    assert findings["failed"].run_ids == ["g"] and findings["failed"].evidence["by_state"] == {"killed": 1}
    assert findings["pruned"].run_ids == ["e"] and findings["pruned"].severity == "low"
    assert "intended" in findings["pruned"].title


def test_short_run_ignores_a_planned_param_on_another_axis(make_sweep) -> None:
    # max_iters counts optimizer steps; the tracker's step counts logging events (about 1 per 10 iters)
    rows = [f"r{i},finished,5000,{0.1 * (i + 1)},500,0.5" for i in range(5)] + [
        "r9,finished,5000,0.9,100,0.8"
    ]
    findings = detect("short-run", make_sweep(csv("run_id,state,max_iters,lr,_step,val_loss", rows)))
    assert [f.run_ids for f in findings] == [["r9"]]
    assert findings[0].evidence["reference_source"] == "typical"
    assert findings[0].evidence["runs"][0]["fraction"] == 0.2


def test_short_run_on_a_chart_export_without_states(realdata: Path) -> None:
    # 8 runs of very different length (51 to 386 logged steps), no run states: all runs are the reference
    sweep = load_sweep(realdata / "wandb-chart-nanogpt-divergence" / "wandb_export.csv")
    (f,) = detect("short-run", sweep)
    assert f.evidence["kind"] == "stopped" and f.evidence["reference_state"] == "unknown"
    assert f.evidence["typical_last_step"] == 127.0 and f.evidence["n_finished_reference"] == 8
    assert [(r["run_id"].split("17")[0], r["last_step"]) for r in f.evidence["runs"]] == [
        ("gpt2_last_char_to_char", 50.0),
        ("gpt2_augmented_char_to_token", 56.0),
    ]


def test_short_run_lowers_severity_when_a_scheduler_is_declared(make_sweep, tmp_path: Path) -> None:
    config = tmp_path / "sweep.yaml"
    config.write_text("parameters:\n  lr: {min: 0.001, max: 0.1}\nearly_terminate: {type: hyperband}\n")
    rows = [f"r{i},finished,{0.01 * (i + 1)},27,0.5" for i in range(4)] + ["r9,finished,0.09,3,0.9"]
    sweep = make_sweep(csv("run_id,state,lr,epoch,val_loss", rows), sweep_config=config)
    (f,) = detect("short-run", sweep)
    assert f.run_ids == ["r9"] and f.severity == "low" and f.evidence["likely_scheduler"] is True


# --- MET001 metric-stuck ----------------------------------------------------------------------------


def test_metric_stuck_accuracy_at_chance_in_every_run_is_high(make_sweep) -> None:
    sweep = make_sweep(
        csv(
            "run_id,state,lr,num_classes,val_acc,iter",
            [f"r{i},finished,{10.0**-i},10,0.10{i},5000" for i in range(1, 5)],
        )
    )
    (f,) = detect("metric-stuck", sweep)  # `iter` is constant too but has no goal: not a quality metric
    assert f.evidence["check"] == "chance" and f.severity == "high"
    assert f.evidence["chance_level"] == 0.1 and f.evidence["num_classes"] == 10
    assert f.run_ids == ["r1", "r2", "r3", "r4"]
    assert [r["value"] for r in f.evidence["runs"]] == [0.101, 0.102, 0.103, 0.104]


def test_metric_stuck_some_runs_at_chance_in_percent_is_medium(make_sweep) -> None:
    sweep = make_sweep(
        csv(
            "run_id,state,lr,num_classes,val_accuracy",
            ["a,finished,0.1,2,50.5", "b,finished,0.01,2,91.0", "c,finished,0.001,2,88.0"],
        )
    )
    (f,) = detect("metric-stuck", sweep)
    assert f.run_ids == ["a"] and f.severity == "medium"
    assert f.evidence["percent"] is True and f.evidence["chance_level"] == 50.0


def test_metric_stuck_constant_mrr_zero(make_sweep) -> None:
    sweep = make_sweep(
        csv(
            "run_id,state,lr,val_mrr,val_loss",
            ["a,finished,0.1,0,0.9", "b,finished,0.01,0,0.7", "c,finished,0.001,0,0.8"],
        )
    )
    (f,) = detect("metric-stuck", sweep)
    assert f.evidence["check"] == "constant" and f.evidence["metric"] == "val_mrr"
    assert f.evidence["value"] == 0.0 and f.evidence["n_runs_with_value"] == 3
    assert f.run_ids == ["a", "b", "c"]


def test_metric_stuck_quiet_on_seed000_and_nanogpt(seed000, realdata: Path) -> None:
    assert detect("metric-stuck", seed000) == []
    sweep = load_sweep(realdata / "wandb-nanogpt-ablation" / "wandb_summary.csv")
    assert detect("metric-stuck", sweep) == []  # `iter` (5000) and `lr` (1e-4) are constant, but goal-less


# --- SSP001 log-scale-sampled-uniformly -------------------------------------------------------------


def test_log_uniform_fixture_counts_runs_below_the_geometric_midpoint() -> None:
    sweep = load_sweep(FIXTURES / "detectors" / "log-scale-sampled-uniformly" / "trigger" / "runs.csv")
    (f,) = detect("log-scale-sampled-uniformly", sweep)
    e = f.evidence
    assert e["param"] == "lr" and e["range_source"] == "observed"
    assert e["low"] == 0.00021 and e["high"] == 0.0955
    assert e["geometric_midpoint"] == pytest.approx(math.sqrt(0.00021 * 0.0955))
    assert e["n_below_midpoint"] == 1 and e["n_runs_with_value"] == 12
    assert e["p_value_vs_log_uniform"] == pytest.approx(13 / 4096)  # P(X <= 1), X ~ Bin(12, 1/2)
    assert e["decided_by"] == "data"


def test_log_uniform_declared_uniform_is_reported_from_the_declaration(make_sweep, tmp_path: Path) -> None:
    config = tmp_path / "sweep.yaml"
    config.write_text("parameters:\n  lr: {distribution: uniform, min: 0.00001, max: 0.1}\n")
    sweep = make_sweep(
        csv(
            "run_id,state,lr,val_loss", ["a,finished,0.05,0.5", "b,finished,0.08,0.6", "c,finished,0.02,0.4"]
        ),
        sweep_config=config,
    )
    (f,) = detect("log-scale-sampled-uniformly", sweep)
    assert f.evidence["declared_distribution"] == "uniform" and f.evidence["decided_by"] == "declared"
    assert f.evidence["range_source"] == "declared" and f.evidence["decades"] == pytest.approx(4.0)
    assert "declared uniform" in f.title
    log_config = tmp_path / "log.yaml"
    log_config.write_text("parameters:\n  lr: {distribution: log_uniform_values, min: 0.00001, max: 0.1}\n")
    rows = [f"r{i},finished,{0.01 + 0.008 * i},0.5" for i in range(12)]  # skewed, but declared log
    declared_log = make_sweep(csv("run_id,state,lr,val_loss", rows), sweep_config=log_config)
    assert detect("log-scale-sampled-uniformly", declared_log) == []


def test_log_uniform_quiet_on_log_grids_and_nonpositive_values(make_sweep, realdata: Path) -> None:
    grid = load_sweep(realdata / "hpolib-fcnet-slice" / "fcnet_slice_localization.lr_schedule-const.csv")
    assert detect("log-scale-sampled-uniformly", grid) == []  # init_lr 5e-4..1e-1: half the levels below
    rows = [f"r{i},finished,{0.01 * i},0.5" for i in range(12)]  # weight decay from 0: not log-able
    assert detect("log-scale-sampled-uniformly", make_sweep(csv("run_id,state,wd,val_loss", rows))) == []


# --- SSP002 best-at-boundary ------------------------------------------------------------------------


def test_best_at_boundary_fcnet_const_init_lr_at_lower_grid_edge(realdata: Path) -> None:
    sweep = load_sweep(realdata / "hpolib-fcnet-slice" / "fcnet_slice_localization.lr_schedule-const.csv")
    assert sweep.schema.objective is not None and sweep.schema.objective.metric == "val_loss_seed0"
    findings = {f.evidence["param"]: f for f in detect("best-at-boundary", sweep)}
    f = findings["init_lr"]
    e = f.evidence
    assert e["edge"] == "low" and e["edge_value"] == 0.0005 and e["axis"] == "log"
    assert e["n_top_at_edge"] == 5 and e["top_k"] == 5
    assert e["n_rankable"] == 31104 and e["share_rankable_at_edge"] == pytest.approx(1 / 6)
    assert e["top_runs"][0]["objective"] == pytest.approx(3.359553e-4)
    assert f.severity == "medium"
    # dropout 0 is a natural bound: reported, but low
    assert findings["dropout_1"].severity == "low" and findings["dropout_1"].evidence["natural_bound"]


def test_best_at_boundary_fcnet_cosine_init_lr_is_inside(realdata: Path) -> None:
    sweep = load_sweep(realdata / "hpolib-fcnet-slice" / "fcnet_slice_localization.lr_schedule-cosine.csv")
    params = {f.evidence["param"] for f in detect("best-at-boundary", sweep)}
    assert "init_lr" not in params  # best config has init_lr 0.001, second level; 3 of 5 at 5e-4 < 60%+lift
    assert "n_units_2" in params  # all 5 best have 512 units, the largest level


def test_best_at_boundary_fixture_and_grid_base_rate(make_sweep) -> None:
    sweep = load_sweep(FIXTURES / "detectors" / "best-at-boundary" / "trigger" / "runs.csv")
    (f,) = detect("best-at-boundary", sweep)
    assert f.run_ids == ["r09", "r10"] and f.evidence["edge"] == "high" and f.evidence["edge_value"] == 0.1
    assert f.evidence["share_rankable_at_edge"] == 0.2
    # 6 of 10 runs sit on the top level: the best two being there is no lift (1.0 < 2 * 0.6)
    rows = [f"r{i},finished,{0.1 if i < 6 else 0.01 if i < 8 else 0.001},{0.3 + 0.01 * i}" for i in range(10)]
    assert detect("best-at-boundary", make_sweep(csv("run_id,state,lr,val_loss", rows))) == []


# --- SSP003 duplicate-configs -----------------------------------------------------------------------


def test_duplicate_configs_seed_repeats_are_not_duplicates(make_sweep) -> None:
    sweep = make_sweep(
        csv(
            "run_id,state,lr,opt,seed,val_loss",
            [
                "a,finished,0.1,adam,1,0.5",
                "b,finished,0.1,adam,1,0.52",  # same seed: duplicate of a
                "c,finished,0.1,adam,2,0.51",  # other seed: a repeat
                "d,crashed,0.01,sgd,1,",
                "e,finished,0.01,sgd,1,0.7",  # rerun of crashed d: a retry
            ],
        )
    )
    (f,) = detect("duplicate-configs", sweep)
    assert f.run_ids == ["a", "b"] and f.evidence["n_extra_runs"] == 1
    (group,) = f.evidence["groups"]
    assert group["config"] == {"lr": 0.1, "opt": "adam", "seed": 1} and group["objective"] == [0.5, 0.52]


def test_duplicate_configs_without_seed_and_with_missing_values(make_sweep) -> None:
    sweep = make_sweep(
        csv(
            "run_id,state,opt,momentum,val_loss",
            [
                "a,finished,sgd,0.9,0.5",
                "b,finished,adam,,0.6",  # momentum unset for adam: b and c are the same config
                "c,finished,adam,,",
                "d,finished,sgd,0.9,0.4",
                "e,finished,sgd,0.8,0.45",
            ],
        )
    )
    (f,) = detect("duplicate-configs", sweep)  # categorical and conditional (missing) params group too
    assert f.evidence["seed_params"] == [] and f.evidence["n_groups"] == 2
    assert f.evidence["groups"] == [
        {
            "config": {"opt": "sgd", "momentum": 0.9},
            "run_ids": ["a", "d"],
            "states": ["finished", "finished"],
            "objective": [0.5, 0.4],
        },
        {
            "config": {"opt": "adam", "momentum": None},
            "run_ids": ["b", "c"],
            "states": ["finished", "finished"],
            "objective": [0.6, None],
        },
    ]


def test_duplicate_configs_quiet_on_real_grids(realdata: Path) -> None:
    nanogpt = load_sweep(realdata / "wandb-nanogpt-ablation" / "wandb_summary.csv")
    assert detect("duplicate-configs", nanogpt) == []  # 16 configs x 4 distinct seeds


# --- SSP004 early-stopping-idle ---------------------------------------------------------------------


def _hyperband(tmp_path: Path) -> Path:
    config = tmp_path / "sweep.yaml"
    config.write_text("parameters:\n  lr: {min: 0.001, max: 0.1}\nearly_terminate: {type: hyperband}\n")
    return config


def test_early_stopping_idle_fires_when_every_run_went_the_distance(make_sweep, tmp_path: Path) -> None:
    rows = [f"r{i},finished,{0.01 * (i + 1)},27,{0.5 + i / 100}" for i in range(6)]
    sweep = make_sweep(csv("run_id,state,lr,epoch,val_loss", rows), sweep_config=_hyperband(tmp_path))
    assert sweep.schema.early_termination == "hyperband"
    (f,) = detect("early-stopping-idle", sweep)
    assert f.evidence["n_ended"] == 6 and f.evidence["checked_lengths"] is True
    assert f.evidence["min_last_step_finished"] == 27.0


def test_early_stopping_idle_quiet_when_it_stopped_runs_or_is_not_declared(make_sweep, tmp_path) -> None:
    rows = [f"r{i},finished,{0.01 * (i + 1)},27,0.5" for i in range(5)]
    config = _hyperband(tmp_path)
    killed = make_sweep(
        csv("run_id,state,lr,epoch,val_loss", [*rows, "r9,killed,0.09,3,0.9"]), sweep_config=config
    )
    short = make_sweep(
        csv("run_id,state,lr,epoch,val_loss", [*rows, "r9,finished,0.09,3,0.9"]), sweep_config=config
    )
    undeclared = make_sweep(csv("run_id,state,lr,epoch,val_loss", [*rows, "r9,finished,0.09,27,0.9"]))
    assert detect("early-stopping-idle", killed) == []
    assert detect("early-stopping-idle", short) == []
    assert detect("early-stopping-idle", undeclared) == []


# --- SSP005 seed-variance ---------------------------------------------------------------------------


def test_seed_variance_nanogpt_seeds_agree_far_more_than_configs(realdata: Path) -> None:
    sweep = load_sweep(realdata / "wandb-nanogpt-ablation" / "wandb_summary.csv")
    spread = seed_spread(sweep)
    assert spread is not None and spread.seeds == ["seed"]
    assert len(spread.configs) == 16 and set(spread.configs["n"]) == {4}
    assert spread.within_std == pytest.approx(0.0098, abs=5e-5)
    assert spread.between_std == pytest.approx(0.4436, abs=5e-5)
    assert spread.ratio == pytest.approx(0.0221, abs=5e-4)
    best = spread.configs.iloc[0]
    assert best["linear_type"] == "ternary" and best["mean"] == pytest.approx(1.47045, abs=1e-5)
    # G1 leads F1_context_128 by 0.027, 2.75 within-config stds: distinguishable
    assert (spread.configs.iloc[1]["mean"] - best["mean"]) / spread.within_std == pytest.approx(
        2.75, abs=0.01
    )
    assert detect("seed-variance", sweep) == []


def test_seed_variance_fixture_numbers() -> None:
    sweep = load_sweep(FIXTURES / "detectors" / "seed-variance" / "trigger" / "runs.csv")
    by_key = {("top" if "gap" in f.evidence else "sweep"): f for f in detect("seed-variance", sweep)}
    groups = [[0.50, 0.70, 0.60], [0.55, 0.65, 0.75], [0.58, 0.52, 0.68]]
    within = math.sqrt(np.mean([np.var(g, ddof=1) for g in groups]))
    between = float(np.std([np.mean(g) for g in groups], ddof=1))
    e = by_key["sweep"].evidence
    assert e["within_config_std"] == pytest.approx(within) and e["between_config_std"] == pytest.approx(
        between
    )
    assert e["ratio"] > 1 and len(by_key["sweep"].run_ids) == 9
    # the best mean (lr=0.001: 0.5933) leads lr=0.1 (0.60) by 0.0067, far below the seed std
    assert by_key["top"].severity == "low" and by_key["top"].evidence["gap"] == pytest.approx(0.02 / 3)


def test_seed_variance_skips_fcnet_seed_columns(realdata: Path) -> None:
    sweep = load_sweep(realdata / "hpolib-fcnet-slice" / "fcnet_slice_localization.lr_schedule-cosine.csv")
    assert seed_spread(sweep) is None  # val_loss_seed0..3 are metrics of one run, not seeds as runs
    assert detect("seed-variance", sweep) == []


# --- SSP006 outlier-run -----------------------------------------------------------------------------


def test_outlier_run_fixture_r07() -> None:
    sweep = load_sweep(FIXTURES / "detectors" / "outlier-run" / "trigger" / "runs.csv")
    (f,) = detect("outlier-run", sweep)
    e = f.evidence
    assert f.run_ids == ["r07"] and e["value"] == 0.05 and e["second_run_id"] == "r05"
    values = np.array([0.62, 0.61, 0.60, 0.59, 0.58, 0.60, 0.05, 0.61, 0.62, 0.63, 0.64, 0.60])
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median)))
    assert e["median"] == median and e["mad"] == pytest.approx(mad)
    assert e["robust_z"] == pytest.approx((median - 0.05) / (1.4826 * mad))


def test_outlier_run_maximised_objective_and_small_sweeps(make_sweep) -> None:
    rows = [f"r{i},finished,{0.001 * (i + 1)},{0.70 + 0.01 * (i % 4)}" for i in range(11)] + [
        "r99,finished,0.5,0.99"
    ]
    sweep = make_sweep(csv("run_id,state,lr,val_acc", rows))
    assert sweep.schema.objective is not None and sweep.schema.objective.direction == "max"
    assert [f.run_ids for f in detect("outlier-run", sweep)] == [["r99"]]
    assert detect("outlier-run", sweep, min_runs=20) == []


# --- RNK001 top-runs --------------------------------------------------------------------------------


def test_top_runs_seed000(seed000) -> None:
    (f,) = detect("top-runs", seed000)
    assert f.run_ids == ["5", "6", "0", "1", "7"]  # trial 2 has no val_loss, trial 4's is inf
    top = f.evidence["top"]
    assert [e["value"] for e in top] == [0.514777, 0.582728, 0.646018, 0.690483, 0.737589]
    assert all(e["complete"] and e["last_step"] == 20.0 for e in top)
    assert f.evidence["n_ranked"] == 6


def test_top_runs_marks_an_incomplete_run() -> None:
    sweep = load_sweep(FIXTURES / "detectors" / "top-runs" / "trigger" / "runs.csv")
    (f,) = detect("top-runs", sweep)
    assert f.run_ids == ["a", "b", "c"]
    b = f.evidence["top"][1]
    assert b["state"] == "killed" and b["complete"] is False and b["note"] == INCOMPLETE_NOTE
    assert b["last_step"] == 4.0 and f.evidence["incomplete_run_ids"] == ["b"]
    assert "1 of them did not finish" in f.title


# --- edge cases across the group --------------------------------------------------------------------

GROUP = (
    "short-run",
    "metric-stuck",
    "log-scale-sampled-uniformly",
    "best-at-boundary",
    "duplicate-configs",
    "early-stopping-idle",
    "seed-variance",
    "outlier-run",
    "top-runs",
)


def test_no_objective_means_no_ranking(make_sweep) -> None:
    rows = [f"r{i},finished,{10.0 ** -(i % 5 + 1)},{i}" for i in range(12)]
    sweep = make_sweep(csv("run_id,state,lr,throughput", rows))
    assert sweep.schema.objective is None
    for name in ("best-at-boundary", "seed-variance", "outlier-run", "top-runs"):
        assert detect(name, sweep) == [], name


def test_all_runs_failed(make_sweep) -> None:
    rows = [f"r{i},crashed,{10.0 ** -(i % 5 + 1)},{i % 3},0," for i in range(12)]
    sweep = make_sweep(csv("run_id,state,lr,seed,step,val_loss", rows))
    # nothing finished: no reference length, nothing to rank, crashed runs are not duplicates
    assert {name: detect(name, sweep) for name in GROUP} == {name: [] for name in GROUP}


def test_categorical_only_params(make_sweep) -> None:
    rows = [
        f"r{i},finished,{['adam', 'sgd', 'adamw'][i % 3]},{['relu', 'gelu'][i % 2]},{0.5 + i / 100}"
        for i in range(12)
    ]
    sweep = make_sweep(csv("run_id,state,optimizer,activation,val_loss", rows))
    assert detect("log-scale-sampled-uniformly", sweep) == []
    assert detect("best-at-boundary", sweep) == []
    (dup,) = detect("duplicate-configs", sweep)  # 12 runs over 6 categorical configs, no seed
    assert dup.evidence["n_groups"] == 6 and dup.evidence["n_extra_runs"] == 6
    (top,) = detect("top-runs", sweep)
    assert top.run_ids == ["r0", "r1", "r2", "r3", "r4"]


# --- review fixes -----------------------------------------------------------------------------------


def test_best_at_boundary_rarely_fires_on_a_random_objective(make_sweep) -> None:
    # a 3-level lr grid of 12 runs whose objective ignores lr: the best 3 all on one edge has p = 4/220
    # per edge, 2 of 3 (which passed the share and lift rules alone, 76 of these 200 seeds) p = 0.24
    fired = 0
    for seed in range(200):
        objective = np.random.default_rng(seed).uniform(size=12)
        rows = [f"r{i:02d},finished,{[0.001, 0.01, 0.1][i % 3]},{float(objective[i])!r}" for i in range(12)]
        fired += bool(detect("best-at-boundary", make_sweep(csv("run_id,state,lr,val_loss", rows))))
    assert fired <= 10  # at most 5% of seeds


def test_best_at_boundary_reports_its_p_value(realdata: Path) -> None:
    sweep = load_sweep(realdata / "hpolib-fcnet-slice" / "fcnet_slice_localization.lr_schedule-const.csv")
    (f,) = [f for f in detect("best-at-boundary", sweep) if f.evidence["param"] == "init_lr"]
    # all 5 best of 31,104 runs on the level that holds a sixth of them: about (1/6)^5
    assert f.evidence["p_value"] == pytest.approx((1 / 6) ** 5, rel=0.01) and f.evidence["alpha"] == 0.05
    fixture = load_sweep(FIXTURES / "detectors" / "best-at-boundary" / "trigger" / "runs.csv")
    assert detect("best-at-boundary", fixture)[0].evidence["p_value"] == pytest.approx(1 / 45)


def test_duplicate_configs_quiet_when_no_param_has_a_value(make_sweep) -> None:
    rows = [f"r{i:02d},finished,,,{0.5 + i / 100}" for i in range(20)]
    sweep = make_sweep(csv("run_id,state,lr,momentum,val_loss", rows))
    assert detect("duplicate-configs", sweep) == []


def test_titles_hold_values_as_exported(seed000) -> None:
    (f,) = detect("outlier-run", load_sweep(FIXTURES / "detectors" / "outlier-run" / "trigger" / "runs.csv"))
    assert "(val_loss = 0.05; second best 0.58)" in f.title
    (short,) = detect("short-run", seed000)
    assert short.title == (
        "1 run that did not finish ended far short of the typical length "
        "(the median last step of 7 finished runs): 1 crashed"
    )
    (log,) = detect(
        "log-scale-sampled-uniformly",
        load_sweep(FIXTURES / "detectors" / "log-scale-sampled-uniformly" / "trigger" / "runs.csv"),
    )
    assert (
        log.title.startswith("lr ranges from 0.00021 to 0.0955 but 1 of 12 runs")
        and "decades" not in log.title
    )
    seeds = detect(
        "seed-variance", load_sweep(FIXTURES / "detectors" / "seed-variance" / "trigger" / "runs.csv")
    )
    assert all("ratio at least" not in s.title for s in seeds)
    # no numpy repr and no computed float in any title of the group, on every fixture
    for name in GROUP:
        for variant in ("trigger", "clean"):
            folder = FIXTURES / "detectors" / name / variant
            if not (folder / "runs.csv").exists():
                continue
            for finding in detect(name, load_sweep(folder / "runs.csv")):
                assert "np." not in finding.title and "+ decades" not in finding.title, finding.title


def test_early_stopping_idle_uses_short_runs(make_sweep, tmp_path: Path, monkeypatch) -> None:
    from reportgen.detectors import early_stopping_idle

    calls = []
    real = early_stopping_idle.short_runs
    monkeypatch.setattr(early_stopping_idle, "short_runs", lambda s, t: calls.append(t) or real(s, t))
    rows = [f"r{i},finished,{0.01 * (i + 1)},27,0.5" for i in range(5)]
    short = make_sweep(
        csv("run_id,state,lr,epoch,val_loss", [*rows, "r9,finished,0.09,3,0.9"]),
        sweep_config=_hyperband(tmp_path),
    )
    assert detect("early-stopping-idle", short, short_fraction=0.2) == []  # 3 of 27 < 0.2
    assert [(t.short_fraction, t.min_finished) for t in calls] == [(0.2, 3)]
