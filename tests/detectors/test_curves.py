"""Curve detectors (CRV001-CRV008): which runs, which steps and which values they report, on the real
exports of ../shared/realdata (nanoGPT chart export, nanoGPT ablation, LCDB) and on hand-made edge cases."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen.detectors.bad_initial_loss import is_cross_entropy_name
from reportgen.detectors.base import Context
from reportgen.detectors.curve_shapes import is_grad_norm_name, is_lr_name, loss_metrics
from reportgen.detectors.registry import find_spec
from reportgen.findings import Finding
from reportgen.io.load import load_sweep
from reportgen.io.options import LoadOptions
from reportgen.sweep import Sweep
from tests.conftest import FIXTURES, REALDATA

CURVE_DETECTORS = [
    "divergence",
    "loss-spike",
    "plateau",
    "overfitting",
    "underfitting",
    "bad-initial-loss",
    "early-lr-decay",
    "edge-of-stability",
]
OVERFIT_ARMS_2026 = {
    "F2_context_512",
    "D2_swiglu",
    "A3_alibi",
    "A2_rope",
    "C3_12_heads",
    "baseline",
    "C2_8_heads",
    "B1_rmsnorm",
    "E1_scaled_residual",
}
NOT_OVERFIT_ARMS_2026 = {
    "D1_relu",
    "B2_post_ln",
    "C1_1_head",
    "A1_no_pos_encoding",
    "F1_context_128",
    "G1_ternary_weights",
    "E2_no_residuals",
}


def detect(name: str, sweep: Sweep, **thresholds) -> list[Finding]:
    spec = find_spec(name)
    assert spec is not None
    ctx = Context(spec=spec, thresholds=spec.thresholds_model(**thresholds), severity=spec.severity)
    return spec.load().detect(sweep, ctx)


def by_run(finding: Finding) -> dict[str, dict]:
    return {r["run_id"]: r for r in finding.evidence["runs"]}


def one(findings: list[Finding], key_part: str = "") -> Finding:
    picked = [f for f in findings if key_part in f.title]
    assert len(picked) == 1, [f.title for f in findings]
    return picked[0]


def wide(rows: dict[str, dict[str, list[float]]]) -> str:
    """A wide history CSV from {run_id: {metric: values per step 0..n-1}}."""
    metrics = list(next(iter(rows.values())))
    lines = ["run_id,step," + ",".join(metrics)]
    for run_id, curves in rows.items():
        for step in range(len(curves[metrics[0]])):
            lines.append(f"{run_id},{step}," + ",".join(repr(float(curves[m][step])) for m in metrics))
    return "\n".join(lines) + "\n"


def decay(n: int, start: float = 2.3, floor: float = 0.4, tau: float = 4.0) -> list[float]:
    t = np.arange(n, dtype=float)
    return list(floor + (start - floor) * np.exp(-t / tau))


# --- real exports ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chart() -> Sweep:
    if not REALDATA.is_dir():
        pytest.skip("../shared/realdata is not beside this checkout")
    return load_sweep(REALDATA / "wandb-chart-nanogpt-divergence" / "wandb_export.csv")


@pytest.fixture(scope="module")
def ablation() -> Sweep:
    if not REALDATA.is_dir():
        pytest.skip("../shared/realdata is not beside this checkout")
    folder = REALDATA / "wandb-nanogpt-ablation"
    return load_sweep(folder / "wandb_summary.csv", LoadOptions(history=folder / "history_data"))


@pytest.fixture(scope="module")
def lcdb() -> Sweep:
    if not REALDATA.is_dir():
        pytest.skip("../shared/realdata is not beside this checkout")
    return load_sweep(
        REALDATA / "lcdb-learning-curves" / "database-accuracy.openmlid-380-1457-1509-41167.csv",
        LoadOptions(run_key=("openmlid", "learner", "outer_seed", "inner_seed"), step="size_train"),
    )


def names(sweep: Sweep) -> pd.DataFrame:
    return sweep.runs.assign(run_id=sweep.runs["run_id"].astype(str)).set_index("run_id")[["name", "seed"]]


def run_of(sweep: Sweep, arm: str, seed: int) -> str:
    table = names(sweep)
    (run_id,) = table.index[(table["name"] == arm) & (table["seed"] == seed)]
    return str(run_id)


# CRV001 divergence


def test_chart_export_three_runs_diverge_with_their_minimum_onset_and_ratio(chart) -> None:
    f = one(detect("divergence", chart))
    assert f.severity == "high" and f.evidence["metric"] == "train/loss"
    runs = by_run(f)
    assert set(f.run_ids) == {
        "gpt2_char_to_token1729534595.422701",
        "gpt2_char_to_token1729491541.2756786",
        "gpt2_last_char_token_to_char1729587337.8266432",
    }
    assert f.evidence["n_runs_with_metric"] == 8
    r = runs["gpt2_char_to_token1729534595.422701"]  # falls to 3.66, jumps to 7-8.5, ends 6.96
    assert r["min"] == pytest.approx(3.66, abs=0.005) and r["min_step"] == 44.0
    assert r["onset_step"] == 61.0 and r["onset_value"] == pytest.approx(8.52, abs=0.01)
    assert r["last"] == pytest.approx(6.96, abs=0.01)
    assert r["end_ratio"] == pytest.approx(1.619, abs=0.001)
    assert r["peak_ratio"] == pytest.approx(8.52494 / 3.66004, rel=1e-4)
    r = runs["gpt2_char_to_token1729491541.2756786"]
    assert r["min"] == pytest.approx(3.76, abs=0.005) and r["onset_step"] == 37.0
    assert r["end_ratio"] == pytest.approx(1.820, abs=0.001)
    r = runs["gpt2_last_char_token_to_char1729587337.8266432"]  # 7.97 -> 14.3 spike -> ends 12.2
    assert r["min"] == pytest.approx(7.97, abs=0.005) and r["min_step"] == 72.0
    assert r["peak"] == pytest.approx(14.29, abs=0.01) and r["peak_step"] == r["onset_step"] == 84.0
    assert r["last"] == pytest.approx(12.23, abs=0.01)
    assert r["end_ratio"] == pytest.approx(1.4695, abs=0.001)
    assert f.evidence["onset_steps"] == [37.0, 61.0, 84.0]


def test_ablation_does_not_diverge_and_its_overfit_val_loss_is_left_to_overfitting(ablation) -> None:
    assert detect("divergence", ablation) == []
    # F2's val/loss ends 1.35x its minimum: a divergence rule on it would fire at min_ratio 1.3
    assert "val/loss" in loss_metrics(ablation)


def test_a_noisy_run_that_recovers_is_not_a_divergence(chart) -> None:
    f = one(detect("divergence", chart))
    # spiky runs that came back down (ends 1.12x its minimum)
    assert "gpt2_augmented_char_to_token1729630560.5729918" not in f.run_ids
    assert "gpt2_char_to_token1729578574.2848036" not in f.run_ids


# CRV002 loss-spike


def test_chart_export_spikes_that_recover(chart) -> None:
    f = one(detect("loss-spike", chart))
    runs = by_run(f)
    assert set(f.run_ids) == {
        "gpt2_augmented_char_to_token1729630560.5729918",
        "gpt2_last_char_token_to_char1729587337.8266432",
        "gpt2_char_to_token1729578574.2848036",
        "gpt2_char_to_token1729491541.2756786",
    }
    r = runs["gpt2_augmented_char_to_token1729630560.5729918"]  # 3.5 -> 7.62 at step 41 -> 3.58
    assert r["n_spikes"] == 1 and r["spike_steps"] == [41.0]  # steps 41-44 are one spike
    assert r["largest_value"] == pytest.approx(7.6217, abs=1e-4)
    assert r["largest_baseline"] == pytest.approx(3.497, abs=1e-3)
    assert r["largest_ratio"] == pytest.approx(2.1795, abs=1e-4)
    r = runs["gpt2_last_char_token_to_char1729587337.8266432"]
    assert r["spike_steps"] == [84.0, 92.0, 119.0] and r["largest_step"] == 84.0
    assert f.evidence["n_spikes"] == 8
    # the run that jumped at step 61 and never came back is a divergence, not a spike
    assert "gpt2_char_to_token1729534595.422701" not in f.run_ids


def test_ablation_has_no_spikes(ablation) -> None:
    assert detect("loss-spike", ablation) == []


# CRV003 plateau


def test_ablation_arm_without_residuals_plateaus_in_all_four_seeds(ablation) -> None:
    findings = detect("plateau", ablation)
    e2 = {run_of(ablation, "E2_no_residuals", s) for s in (2026, 3242, 3740, 6242)}
    train = next(f for f in findings if f.evidence["metric"] == "train/loss")
    val = next(f for f in findings if f.evidence["metric"] == "val/loss")
    assert set(train.run_ids) == set(val.run_ids) == e2
    assert train.title == "train/loss stopped improving after the warm-up in 4 of 64 runs"
    for r in train.evidence["runs"]:
        assert r["best_level"] == pytest.approx(3.31, abs=0.01)
        assert 0 <= r["improvement"] < 0.001
        assert r["total_improvement"] > 0.2  # it learned in the first eval interval, then stopped
    for r in val.evidence["runs"]:
        assert r["best_level"] == pytest.approx(3.355, abs=0.005)


def test_a_loss_that_bottoms_out_after_warmup_and_rises_is_not_a_plateau(make_sweep) -> None:
    n = 20
    rising = [2.3, 1.5, 1.0, *np.linspace(1.0, 1.4, n - 3)]  # best right after the warm-up, then +40%
    flat = [2.3, 1.5, 1.0, *[1.0 + 0.001 * (i % 2) for i in range(n - 3)]]
    sweep = make_sweep(
        "run_id,state\na,finished\nb,finished\n", wide({"a": {"loss": rising}, "b": {"loss": flat}})
    )
    f = one(detect("plateau", sweep))
    assert f.run_ids == ["b"]
    r = by_run(f)["b"]
    assert r["warmup_step"] == 2.0 and r["best_level"] == 1.0 and r["improvement"] == 0.0
    assert r["rise_after_best"] < 0.002
    assert detect("plateau", sweep, max_rise=1.0)[0].run_ids == ["a", "b"]


def test_chart_export_runs_keep_learning(chart) -> None:
    assert detect("plateau", chart) == []


# CRV004 overfitting


def test_ablation_overfitting_arms_seed_2026_and_measured_rises(ablation) -> None:
    f = one(detect("overfitting", ablation), "rose after its minimum")
    assert f.evidence["goal"] == "min" and f.evidence["criterion"] == "rise"
    table = names(ablation)
    flagged_2026 = {table.at[r, "name"] for r in f.run_ids if table.at[r, "seed"] == 2026}
    assert flagged_2026 == OVERFIT_ARMS_2026
    assert not flagged_2026 & NOT_OVERFIT_ARMS_2026
    runs = by_run(f)
    f2 = runs[run_of(ablation, "F2_context_512", 2026)]
    assert f2["best"] == pytest.approx(1.4797, abs=1e-4) and f2["best_step"] == 156.0
    assert f2["final"] == pytest.approx(2.0004, abs=1e-4) and f2["final_step"] == 520.0
    assert f2["rise"] == pytest.approx(0.5207, abs=1e-4)
    assert f2["rise_rel"] == pytest.approx(0.3519, abs=1e-4)  # SOURCES.md: +35%
    assert f2["train_final"] == pytest.approx(0.3683, abs=1e-4)  # train fell to about 0.35
    assert f2["train_at_best"] > 1.0
    assert f2["ratio"] == pytest.approx(5.4317, abs=1e-4)
    d2 = runs[run_of(ablation, "D2_swiglu", 2026)]
    assert d2["rise_rel"] == pytest.approx(0.2499, abs=1e-4)  # SOURCES.md: +25%
    assert d2["best"] == pytest.approx(1.5095, abs=1e-4) and d2["final"] == pytest.approx(1.8867, abs=1e-4)


def test_ablation_overfitting_over_all_seeds_every_f2_run_and_one_borderline_d1(ablation) -> None:
    f = one(detect("overfitting", ablation), "rose after its minimum")
    table = names(ablation)
    arms = table.loc[f.run_ids, "name"]
    assert set(arms.value_counts().to_dict().items()) == {(a, 4) for a in OVERFIT_ARMS_2026} | {
        ("D1_relu", 1)
    }
    borderline = by_run(f)[run_of(ablation, "D1_relu", 6242)]
    assert borderline["rise_rel"] == pytest.approx(0.1055, abs=1e-4)
    f2_rises = [
        by_run(f)[run_of(ablation, "F2_context_512", s)]["rise_rel"] for s in (2026, 3242, 3740, 6242)
    ]
    assert min(f2_rises) > 0.35 and max(f2_rises) < 0.375
    assert {
        by_run(f)[run_of(ablation, "F2_context_512", s)]["best_step"] for s in (2026, 3242, 3740, 6242)
    } == {
        130.0,
        156.0,
    }


def test_lcdb_score_gap_over_02_in_400_of_475_curves_of_dataset_1457(lcdb) -> None:
    findings = detect("overfitting", lcdb)
    gap = one(findings, "ended far below")
    assert gap.evidence["goal"] == "max"  # score: higher is better, gap = train - valid
    assert gap.evidence["train_metric"] == "score_train" and gap.evidence["val_metric"] == "score_valid"
    flagged_1457 = [r for r in gap.run_ids if r.startswith("1457/")]
    curves_1457 = lcdb.runs["openmlid"].astype(int).eq(1457).sum()
    assert (len(flagged_1457), int(curves_1457)) == (400, 475)
    # the evidence lists the 200 widest gaps (max_runs); the counts and run ids keep every run
    assert gap.evidence["n_runs"] == len(gap.run_ids) == 915 and gap.evidence["n_runs_listed"] == 200
    assert gap.evidence["n_runs_not_listed"] == 715 and len(gap.evidence["runs"]) == 200
    listed_gaps = [r["gap"] for r in gap.evidence["runs"]]
    assert listed_gaps == sorted(listed_gaps, reverse=True)
    assert gap.evidence["gap_unit"] == "fraction" and gap.evidence["gap_threshold"] == 0.2
    runs = by_run(one(detect("overfitting", lcdb, max_runs=10_000), "ended far below"))
    assert all(runs[r]["gap"] > 0.2 for r in flagged_1457)
    assert all(
        runs[r]["train_final"] - runs[r]["final"] == pytest.approx(runs[r]["gap"]) for r in flagged_1457
    )


def test_higher_is_better_rise_is_a_fall_from_the_maximum(lcdb) -> None:
    f = one(detect("overfitting", lcdb), "fell after its maximum")
    r = by_run(f)["1457/sklearn.discriminant_analysis.LinearDiscriminantAnalysis/1/2"]
    assert r["best"] == pytest.approx(0.5185) and r["best_step"] == 724.0
    assert r["final"] == pytest.approx(0.0889) and r["rise"] == pytest.approx(0.4296)
    assert r["train_final"] > r["train_at_best"]


# CRV005 underfitting


def test_ablation_runs_converged_or_overfit_so_none_underfits(ablation) -> None:
    assert detect("underfitting", ablation) == []
    # G1 seed 2026 ("0%, still improving" in SOURCES.md) is the one run whose val/loss still improves
    # at the end, by less than 1% over the last fifth
    findings = detect("underfitting", ablation, min_improvement=0.005)
    g1 = run_of(ablation, "G1_ternary_weights", 2026)
    f = one(findings)
    assert f.run_ids == [g1]
    r = by_run(f)[g1]
    assert 0.005 <= r["improvement_val"] < 0.01 and r["improvement_train"] > 0.04
    assert r["tail_start_step_val"] == 416.0 and r["last_step_val"] == 520.0


# CRV006 bad-initial-loss


def test_ablation_initial_loss_is_close_to_log_vocab_size(ablation) -> None:
    assert ablation.schema.num_classes == 65
    assert detect("bad-initial-loss", ablation) == []
    # the measurement behind it: first losses against ln(65) = 4.174
    findings = detect("bad-initial-loss", ablation, max_ratio=1.01)
    f = next(f for f in findings if f.evidence["metric"] == "train/loss")
    assert f.evidence["expected"] == pytest.approx(math.log(65))
    assert all(r["first_step"] == 0.0 for r in f.evidence["runs"])
    table = names(ablation)
    post_ln = {
        r["run_id"]: r["ratio"] for r in f.evidence["runs"] if table.at[r["run_id"], "name"] == "B2_post_ln"
    }
    others = [r["ratio"] for r in f.evidence["runs"] if r["run_id"] not in post_ln]
    assert len(post_ln) == 4 and all(1.31 < v < 1.35 for v in post_ln.values())  # 5.48-5.60: under 1.5
    assert min(others) > 0.97 and max(others) < 1.07  # 4.09-4.44


def test_chart_export_without_num_classes_is_not_judged(chart) -> None:
    assert chart.schema.num_classes is None
    assert detect("bad-initial-loss", chart) == []


# CRV007 early-lr-decay


def test_ablation_full_cosine_schedule_is_not_an_early_decay(ablation) -> None:
    assert detect("early-lr-decay", ablation) == []
    # with "early" stretched to the whole run, the cosine reaches 20% of its peak at 80% of the run
    f = one(
        detect("early-lr-decay", ablation, drop_fraction=0.2, early_share=1.0, min_recent_improvement=1e-6)
    )
    assert f.evidence["lr_metric"] == "lr" and f.evidence["loss_metric"] == "train/loss"
    assert all(r["drop_share"] == pytest.approx(0.8) for r in f.evidence["runs"])
    assert {r["peak_step"] for r in f.evidence["runs"]} == {26.0}


# CRV008 edge-of-stability


def test_fixture_edge_between_lr_001_and_01() -> None:
    folder = FIXTURES / "detectors" / "edge-of-stability" / "trigger"
    sweep = load_sweep(folder / "runs.csv", LoadOptions(history=folder / "history.csv"))
    f = one(detect("edge-of-stability", sweep))
    assert f.evidence["lr_param"] == "lr" and f.evidence["grad_norm_metric"] == "grad_norm"
    assert f.evidence["edge_lr"] == 0.1 and f.evidence["largest_stable_lr"] == 0.01
    assert sorted(f.run_ids) == ["lr2s0", "lr2s1", "lr3s0", "lr3s1"]
    levels = {lv["lr"]: (lv["n_runs"], lv["n_blown"]) for lv in f.evidence["levels"]}
    assert levels == {0.001: (2, 0), 0.01: (2, 0), 0.1: (2, 2), 1.0: (2, 2)}
    assert f.title == "grad_norm blew up in 4 of 4 runs with lr at or above 0.1"


def test_edge_within_runs_from_an_lr_ramp(make_sweep) -> None:
    # an lr range test: lr doubles every 5 steps from 1e-3; grad norm explodes once lr passes 0.1
    steps = np.arange(50)
    lr = 1e-3 * 2.0 ** (steps // 5)
    rows = {}
    for run, scale in (("a", 1.0), ("b", 1.1)):
        grad = np.where(lr * scale > 0.1, 100.0 * lr, 1.0 + 0.01 * (steps % 3))
        rows[run] = {"lr": list(lr), "train/grad_norm": list(grad), "train_loss": decay(50)}
    sweep = make_sweep("run_id,state\na,finished\nb,finished\n", wide(rows))
    f = one(detect("edge-of-stability", sweep))
    assert f.evidence["lr_metric"] == "lr" and f.evidence["grad_norm_metric"] == "train/grad_norm"
    runs = by_run(f)
    assert runs["a"]["blowup_step"] == 35.0 and runs["a"]["lr_at_blowup"] == pytest.approx(0.128)
    assert runs["b"]["blowup_step"] == 35.0  # 0.064 * 1.1 is still below 0.1
    assert f.evidence["min_lr_at_blowup"] == pytest.approx(0.128)


# --- edge cases ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CURVE_DETECTORS)
def test_all_nan_curves_and_runs_without_history_are_skipped(make_sweep, name) -> None:
    n = 12
    rows = {
        "a": {
            "train_loss": [math.nan] * n,
            "val_loss": [math.nan] * n,
            "lr": [0.1] * n,
            "grad_norm": [math.nan] * n,
        },
        "b": {
            "train_loss": [math.inf] * n,
            "val_loss": [math.nan] * n,
            "lr": [math.nan] * n,
            "grad_norm": [1.0] * n,
        },
    }
    sweep = make_sweep(
        "run_id,state,lr_param,num_classes\na,finished,0.1,10\nb,finished,0.2,10\nc,finished,0.3,10\n",
        wide(rows),
    )
    assert detect(name, sweep) == []


def test_divergence_needs_a_real_giveback_not_just_a_ratio(make_sweep) -> None:
    # near zero: 0.010 -> 0.014 is 1.4x the minimum but gives back 0.2% of what was learned
    tiny = [2.3, 1.0, 0.1, 0.01, 0.01, 0.01, 0.012, 0.014, 0.014, 0.014]
    big = [2.3, 1.0, 0.6, 0.5, 0.5, 0.9, 1.2, 1.3, 1.3, 1.3]
    sweep = make_sweep(
        "run_id,state\na,finished\nb,finished\n", wide({"a": {"loss": tiny}, "b": {"loss": big}})
    )
    f = one(detect("divergence", sweep))
    assert f.run_ids == ["b"]
    r = by_run(f)["b"]
    assert r["min"] == 0.5 and r["min_step"] == 3.0 and r["onset_step"] == 6.0 and r["end_level"] == 1.3
    assert r["gave_back"] == pytest.approx(0.8 / 1.8)


def test_spike_at_the_last_point_is_not_judged(make_sweep) -> None:
    base = decay(30, floor=0.6)
    last = [*base[:-1], 1.8]
    middle = list(base)
    middle[20] = 1.8
    sweep = make_sweep(
        "run_id,state\na,finished\nb,finished\n", wide({"a": {"loss": last}, "b": {"loss": middle}})
    )
    f = one(detect("loss-spike", sweep))
    assert f.run_ids == ["b"] and by_run(f)["b"]["spike_steps"] == [20.0]


def test_overfitting_direction_inferred_from_data_when_names_say_nothing(make_sweep) -> None:
    # "quality" has no goal in its name; train sits above val in every run, so higher is better
    n = 10
    rows = {
        r: {
            "train/quality": list(np.linspace(0.5, 0.99, n)),
            "val/quality": [*np.linspace(0.5, 0.7, 5), *[0.6] * 5],
        }
        for r in "ab"
    }
    sweep = make_sweep("run_id,state\na,finished\nb,finished\n", wide(rows))
    findings = detect("overfitting", sweep)
    rise = one(findings, "fell after its maximum")
    assert rise.evidence["goal"] == "max" and sorted(rise.run_ids) == ["a", "b"]
    r = by_run(rise)["a"]
    assert r["best"] == pytest.approx(0.7) and r["best_step"] == 4.0 and r["rise"] == pytest.approx(0.1)
    gap = one(findings, "ended far below")
    assert by_run(gap)["a"]["gap"] == pytest.approx(0.39)


def test_underfitting_skips_crashed_runs(make_sweep) -> None:
    t = np.arange(20)
    falling = {"train_loss": list(2.3 - 0.07 * t), "val_loss": list(2.4 - 0.07 * t)}
    sweep = make_sweep("run_id,state\na,finished\nb,crashed\n", wide({"a": falling, "b": falling}))
    f = one(detect("underfitting", sweep))
    assert f.run_ids == ["a"]
    r = by_run(f)["a"]
    assert r["tail_start_step_train"] == 16.0 and r["improvement_train"] == pytest.approx(0.21 / 1.075)


def test_early_lr_decay_ignores_warmup_and_reports_the_drop(make_sweep) -> None:
    t = np.arange(20)
    warm_then_step = np.where(t < 3, 0.1 * (t + 1) / 3, np.where(t < 6, 0.1, 0.005))
    loss = np.where(t <= 6, 2.3 - 0.15 * t, 1.4 - 0.01 * (t - 6))
    rows = {"a": {"lr": list(warm_then_step), "train_loss": list(loss)}}
    sweep = make_sweep("run_id,state\na,finished\n", wide(rows))
    f = one(detect("early-lr-decay", sweep))
    r = by_run(f)["a"]
    assert r["peak_lr"] == pytest.approx(0.1) and r["peak_step"] == 2.0  # the ramp is not a drop
    assert r["drop_step"] == 6.0 and r["drop_lr"] == 0.005
    assert r["drop_share"] == pytest.approx(6 / 19)
    assert r["loss_at_drop"] == pytest.approx(1.4)
    assert r["loss_before"] == pytest.approx(2.3 - 0.15 * 4)  # 1.9 steps earlier: the step-4 value


def test_bad_initial_loss_reports_expected_and_observed(make_sweep) -> None:
    rows = {
        "a": {"train_loss": decay(8, start=9.0), "mse_loss": decay(8, start=9.0)},
        "b": {"train_loss": decay(8), "mse_loss": decay(8)},
    }
    sweep = make_sweep("run_id,state,num_classes\na,finished,10\nb,finished,10\n", wide(rows))
    f = one(detect("bad-initial-loss", sweep))  # mse_loss is not a cross-entropy
    assert f.run_ids == ["a"] and f.evidence["metric"] == "train_loss"
    assert f.evidence["expected"] == pytest.approx(math.log(10))
    r = by_run(f)["a"]
    assert r["first"] == 9.0 and r["first_step"] == 0.0 and r["ratio"] == pytest.approx(9.0 / math.log(10))
    assert f.title == "train_loss started far above ln(num_classes) in 1 of 2 runs"


def test_metric_name_recognisers() -> None:
    assert all(is_lr_name(n) for n in ("lr", "learning_rate", "lr-Adam", "optimizer/lr", "train/lr_group0"))
    assert not any(is_lr_name(n) for n in ("min_lr", "lr_decay_iters", "warmup_lr", "clr", "lr_scale"))
    assert all(is_grad_norm_name(n) for n in ("grad_norm", "gradnorm", "grad/norm", "train/gradient_norm"))
    assert not any(is_grad_norm_name(n) for n in ("weight_norm", "norm_type", "grad_clip"))
    assert all(is_cross_entropy_name(n) for n in ("loss", "val/loss", "nll", "cross_entropy", "train_ce"))
    assert not any(
        is_cross_entropy_name(n) for n in ("mse_loss", "kl_loss", "loss_box_reg", "val/perplexity")
    )


def test_seed000_curve_findings() -> None:
    sweep = load_sweep(
        FIXTURES / "seed000" / "runs.csv", LoadOptions(history=FIXTURES / "seed000" / "history.csv")
    )
    f = one(detect("divergence", sweep))
    assert f.run_ids == ["4"]  # lr 0.02: train loss bottoms at 1.027 (epoch 8) and climbs to 1.383
    assert by_run(f)["4"]["min_step"] == 8.0 and by_run(f)["4"]["last"] == pytest.approx(1.383477)
    rise = one(detect("overfitting", sweep), "rose after its minimum")
    assert rise.run_ids == ["3"] and by_run(rise)["3"]["best_step"] == 7.0
    assert by_run(rise)["3"]["ratio"] == pytest.approx(1.6 / 0.3)
    # trials with lr <= 0.005 are still falling at epoch 20 (trial 0: train 10% lower over epochs 17-20)
    under = one(detect("underfitting", sweep))
    assert under.run_ids == ["0", "1", "5", "6", "7"]
    assert by_run(under)["0"]["improvement_train"] == pytest.approx(0.1043, abs=1e-4)
    assert by_run(under)["0"]["improvement_val"] == pytest.approx(0.0951, abs=1e-4)


def test_speed_on_a_large_history_is_a_few_seconds(tmp_path: Path) -> None:
    import time

    rng = np.random.default_rng(0)
    runs, steps = 300, 400
    run_idx = np.repeat(np.arange(runs), steps)
    step = np.tile(np.arange(steps), runs)
    train = 2.3 * np.exp(-step / 80) + 0.3 + rng.normal(0, 0.01, step.size)
    history = pd.DataFrame({"run_id": run_idx, "step": step, "train_loss": train, "val_loss": train + 0.1})
    history.to_csv(tmp_path / "h.csv", index=False)
    pd.DataFrame({"run_id": np.arange(runs), "state": "finished"}).to_csv(tmp_path / "r.csv", index=False)
    sweep = load_sweep(tmp_path / "r.csv", LoadOptions(history=tmp_path / "h.csv"))
    start = time.perf_counter()
    for name in CURVE_DETECTORS:
        detect(name, sweep)
    assert time.perf_counter() - start < 10


# --- review fixes ----------------------------------------------------------------------------------


def runs_csv(ids: str, extra: str = "") -> str:
    header = "run_id,state" + ("," + extra.split("=")[0] if extra else "")
    value = ("," + extra.split("=")[1]) if extra else ""
    return header + "\n" + "".join(f"{r},finished{value}\n" for r in ids)


def test_divergence_end_level_comes_after_the_minimum(make_sweep) -> None:
    # a: its lowest value is its last one (the jump to 5 came before it): it never diverged, even though
    # the median of its last two points (2.75) is 5.5x that minimum. b: the same jump at the very end.
    a = [*np.linspace(2, 1, 18), 5.0, 0.5]
    b = [*np.linspace(2, 1, 18), 0.5, 5.0]
    sweep = make_sweep(runs_csv("ab"), wide({"a": {"loss": a}, "b": {"loss": b}}))
    f = one(detect("divergence", sweep))
    assert f.run_ids == ["b"]
    r = by_run(f)["b"]
    assert r["min"] == 0.5 and r["min_step"] == 18.0 and r["end_level"] == 5.0  # only the point after it


def test_bad_initial_loss_one_finding_per_direction(make_sweep) -> None:
    starts = {"a": 9.0, "b": 8.0, "c": 7.0, "d": 0.5, "e": 0.6, "f": math.log(10)}
    rows = {r: {"train_loss": decay(8, start=s, floor=0.1)} for r, s in starts.items()}
    sweep = make_sweep(runs_csv("abcdef", "num_classes=10"), wide(rows))
    findings = detect("bad-initial-loss", sweep)
    above, below = one(findings, "above"), one(findings, "below")
    assert above.title == "train_loss started far above ln(num_classes) in 3 of 6 runs"
    assert below.title == "train_loss started far below ln(num_classes) in 2 of 6 runs"
    assert above.run_ids == ["a", "b", "c"] and below.run_ids == ["d", "e"]
    assert above.id != below.id and above.evidence["direction"] == "above"
    assert [r["run_id"] for r in below.evidence["runs"]] == ["d", "e"]  # furthest below first
    assert all(r["ratio"] < 1 for r in below.evidence["runs"])


def test_overfitting_score_gap_on_a_percent_scale_and_min_points(make_sweep) -> None:
    n = 10
    train = list(np.linspace(50, 95, n))
    rows = {
        "a": {"train/acc": train, "val/acc": list(np.linspace(50, 90, n))},  # 5 points behind: fine
        "b": {"train/acc": train, "val/acc": list(np.linspace(50, 65, n))},  # 30 points behind
    }
    sweep = make_sweep(runs_csv("ab"), wide(rows))
    gap = one(detect("overfitting", sweep), "ended far below")
    assert gap.run_ids == ["b"]  # on the fraction scale, 0.2, both gaps (5 and 30) would count
    assert gap.evidence["gap_unit"] == "percent points" and gap.evidence["gap_threshold"] == 20.0
    assert by_run(gap)["b"]["gap"] == pytest.approx(30.0)
    # a validation curve with fewer than min_points finite points is not judged by the gap check either
    short = [*np.linspace(50, 65, 2), *[math.nan] * (n - 2)]
    rows["b"]["val/acc"] = short
    sweep = make_sweep(runs_csv("ab"), wide(rows))
    assert [f for f in detect("overfitting", sweep) if "ended far below" in f.title] == []
    f = one(detect("overfitting", sweep, min_points=2), "ended far below")
    assert f.run_ids == ["b"] and f.evidence["n_runs_judged"] == 2


def test_loss_spike_ratio_is_above_one_for_a_negative_loss(make_sweep) -> None:
    n = 40
    loss = list(-1.0 - np.minimum(np.arange(n), 10) / 10)  # -1.0 down to -2.0, then flat
    loss[25] = -0.9  # 1.1 above a baseline of -2.0
    sweep = make_sweep(runs_csv("a"), wide({"a": {"loss": loss}}))
    f = one(detect("loss-spike", sweep))
    r = by_run(f)["a"]
    assert r["largest_baseline"] == pytest.approx(-2.0) and r["largest_value"] == pytest.approx(-0.9)
    assert r["largest_ratio"] == pytest.approx(1 + 1.1 / 2.0)  # not -0.9 / -2.0 = 0.45


def test_edge_of_stability_title_run_ids_and_counts_agree(make_sweep) -> None:
    # lr 0.01: 1 of 4 runs blows up (under min_blowup_share); lr 0.1: both do. The edge is 0.1.
    n = 20
    t = np.arange(n, dtype=float)
    lrs = {"s0": 0.001, "s1": 0.001, "m0": 0.01, "m1": 0.01, "m2": 0.01, "m3": 0.01, "h0": 0.1, "h1": 0.1}
    rows = {}
    for run, lr in lrs.items():
        blows = lr == 0.1 or run == "m0"
        grad = np.where((t >= 8) & blows, np.exp(t - 6), 1.0 + 0.01 * (t % 3))
        rows[run] = {"grad_norm": list(grad), "train_loss": decay(n)}
    runs = "run_id,state,lr\n" + "".join(f"{r},finished,{lr}\n" for r, lr in lrs.items())
    f = one(detect("edge-of-stability", make_sweep(runs, wide(rows))))
    e = f.evidence
    assert f.title == "grad_norm blew up in 2 of 2 runs with lr at or above 0.1 and in 1 of 6 runs below it"
    assert sorted(f.run_ids) == ["h0", "h1", "m0"] and e["n_runs"] == 3
    assert (e["n_blown_at_or_above_edge"], e["n_runs_at_or_above_edge"]) == (2, 2)
    assert (e["n_blown_below_edge"], e["n_runs_below_edge"]) == (1, 6)
    assert e["n_blown_at_or_above_edge"] + e["n_blown_below_edge"] == e["n_runs"] == len(f.run_ids)


def test_curve_table_is_a_view_of_the_cached_curve_stats(make_sweep) -> None:
    from reportgen.detectors import curve_shapes
    from reportgen.detectors.curves import curve_stats

    assert not hasattr(curve_shapes, "per_curve")  # one implementation of the per-curve statistics
    loss = [math.nan, 3.0, 1.0, 2.0, 1.0, math.inf, 1.5, math.nan]
    sweep = make_sweep(runs_csv("ab"), wide({"a": {"loss": loss}, "b": {"loss": [math.nan] * 8}}))
    cache: dict = {}
    table = curve_shapes.curve_table(sweep, "loss", cache)
    assert list(table.index) == ["a"]  # b has no finite point
    row = table.loc["a"].to_dict()
    assert row == {
        "n": 5,
        "first_step": 1.0,
        "first": 3.0,
        "last_step": 6.0,
        "last": 1.5,
        "min": 1.0,
        "max": 3.0,
        "min_step": 2.0,
        "max_step": 1.0,
    }
    stats = curve_stats(sweep, cache)
    assert stats is cache["curve_stats"] and math.isnan(stats.loc[("a", "loss"), "last"])  # last logged
    assert stats.loc[("a", "loss"), "finite_last"] == 1.5
    stats.loc[("a", "loss"), "finite_last"] = 99.0  # the table reads the cached statistics
    assert curve_shapes.curve_table(sweep, "loss", cache).loc["a", "last"] == 99.0


def test_evidence_lists_at_most_max_runs_worst_first_with_exact_counts(make_sweep) -> None:
    t = np.arange(20)
    ids = "abcde"
    # underfitting: all five still improving, e fastest (val slope grows with the run's index)
    rows = {
        r: {"train_loss": list(2.3 - 0.05 * t), "val_loss": list(2.4 - (0.02 + 0.01 * k) * t)}
        for k, r in enumerate(ids)
    }
    f = one(detect("underfitting", make_sweep(runs_csv(ids), wide(rows)), max_runs=2))
    assert f.run_ids == list(ids) and f.evidence["n_runs"] == 5  # ids and counts keep every run
    assert [r["run_id"] for r in f.evidence["runs"]] == ["e", "d"]
    assert (f.evidence["n_runs_listed"], f.evidence["n_runs_not_listed"]) == (2, 3)
    # loss-spike: spike heights grow with the run's index; the listed runs carry their spike steps
    rows = {}
    for k, r in enumerate(ids):
        loss = decay(40, floor=0.6)
        loss[20], loss[30] = 1.2 + 0.2 * k, 1.0
        rows[r] = {"loss": loss}
    f = one(detect("loss-spike", make_sweep(runs_csv(ids), wide(rows)), max_runs=3))
    assert f.evidence["n_runs"] == 5 and f.evidence["n_spikes"] == 10 and len(f.run_ids) == 5
    assert [r["run_id"] for r in f.evidence["runs"]] == ["e", "d", "c"]
    assert all(r["spike_steps"] == [20.0, 30.0] and r["n_spikes"] == 2 for r in f.evidence["runs"])
    assert f.evidence["n_runs_not_listed"] == 2


@pytest.mark.parametrize("name", CURVE_DETECTORS)
def test_titles_hold_names_and_counts_from_the_evidence(name) -> None:
    import re

    folder = FIXTURES / "detectors" / name / "trigger"
    sweep = load_sweep(folder / "runs.csv", LoadOptions(history=folder / "history.csv"))
    findings = detect(name, sweep)
    assert findings
    for f in findings:
        counts = {v for k, v in f.evidence.items() if k.startswith("n_") and isinstance(v, int)}
        text = f.title
        for label in (f.evidence.get(k) for k in ("metric", "val_metric", "train_metric", "lr_metric")):
            text = text.replace(str(label), "") if label else text
        text = text.replace(str(f.evidence.get("grad_norm_metric", "")), "")
        if "edge_lr" in f.evidence:  # the edge is named by the lr value as the export wrote it
            text = text.replace(f"at or above {f.evidence['edge_lr']:g}", "")
        numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", text)]
        assert all(n.is_integer() and int(n) in counts for n in numbers), (f.title, counts)
