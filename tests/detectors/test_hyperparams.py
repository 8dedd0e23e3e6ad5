"""Hyperparameter-effect detectors (HPE001-HPE004): exact statistics, real-data ground truth (FC-Net grid,
nanoGPT ablation) and the seed-000 report's n=1 buckets, which must come out inconclusive."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen.detectors.base import DetectConfig
from reportgen.detectors.issues import run_issues
from reportgen.detectors.param_issue_rate import issue_rate_table
from reportgen.detectors.run import run_detectors
from reportgen.detectors.stats import fisher_exact, wilson_interval
from reportgen.findings import Finding
from reportgen.io.load import load_sweep
from reportgen.io.options import LoadOptions
from tests.conftest import FIXTURES

REAL = Path("/work/shared/realdata")
if not REAL.is_dir():
    REAL = Path(__file__).resolve().parents[3] / "shared" / "realdata"
FCNET = REAL / "hpolib-fcnet-slice"
NANOGPT = REAL / "wandb-nanogpt-ablation"
needs_real = pytest.mark.skipif(not FCNET.is_dir(), reason="shared real data not available")


def _hand_fisher(a: int, b: int, c: int, d: int) -> float:
    """Two-sided Fisher p by enumerating the hypergeometric tables with math.comb."""
    n_row, n_col, total = a + b, a + c, a + b + c + d
    pmf = {
        x: math.comb(n_col, x) * math.comb(total - n_col, n_row - x) / math.comb(total, n_row)
        for x in range(max(0, n_row + n_col - total), min(n_row, n_col) + 1)
    }
    return sum(p for p in pmf.values() if p <= pmf[a] * (1 + 1e-7))


def test_fisher_exact_matches_hand_computed_hypergeometric() -> None:
    # the lady tasting tea: [[3, 1], [1, 3]]: tables x=0..4 have weights 1, 16, 36, 16, 1 out of 70
    assert fisher_exact(3, 1, 1, 3) == pytest.approx(34 / 70, rel=1e-12)
    assert fisher_exact(4, 0, 0, 4) == pytest.approx(2 / 70, rel=1e-12)
    # 9 of 10 crashed in the bucket vs 1 of 30 in the rest
    assert fisher_exact(9, 1, 1, 29) == pytest.approx(_hand_fisher(9, 1, 1, 29), rel=1e-9)
    assert fisher_exact(9, 1, 1, 29) < 1e-6
    assert fisher_exact(0, 5, 0, 5) == 1.0  # no issues anywhere: nothing to test


def test_wilson_interval_is_honest_at_n_equal_one() -> None:
    low, high = wilson_interval(np.array([1, 0, 9]), np.array([1, 1, 10]))
    z2 = 1.959963984540054**2
    assert low[0] == pytest.approx(1 / (1 + z2), rel=1e-9)  # 1 of 1: (0.2065, 1.0]
    assert high[0] == 1.0 and low[1] == 0.0
    assert high[1] == pytest.approx(z2 / (1 + z2), rel=1e-9)
    assert low[2] == pytest.approx(0.5958499, abs=1e-6) and high[2] == pytest.approx(0.9821238, abs=1e-6)


def _finding(name: str, run_ids: list[str]) -> Finding:
    return Finding(id=f"x-{name}", code="XXX001", name=name, severity="high", title="t", run_ids=run_ids)


def test_run_issues_counts_issue_findings_only() -> None:
    sweep = load_sweep(FIXTURES / "seed000" / "runs.csv")
    prior = [
        _finding("nan-or-inf-metric", ["2", "4"]),
        _finding("overfitting", ["3", "4"]),
        _finding("top-runs", ["0", "1"]),  # informational: not an issue
        _finding("crashed-run", ["2", "not-a-run"]),
    ]
    issues = run_issues(sweep, prior)
    assert list(issues.columns) == ["nan-or-inf-metric", "crashed-run", "overfitting", "any"]
    assert list(issues.index) == [str(i) for i in range(8)]
    assert issues.index[issues["any"]].tolist() == ["2", "3", "4"]
    assert issues["crashed-run"].sum() == 1
    assert list(run_issues(sweep, []).columns) == ["any"] and not run_issues(sweep, [])["any"].any()


def test_pruned_runs_are_not_issues(make_sweep) -> None:
    sweep = make_sweep(
        "run_id,state,lr,val_loss\n"
        + "".join(
            f"r{i},{'pruned' if i < 6 else 'finished'},{0.001 * (i + 1)},{0.5 + i / 100}\n" for i in range(12)
        )
    )
    detection = run_detectors(sweep)
    assert not detection.by_name("crashed-run")
    assert not run_issues(sweep, detection.findings)["any"].any()
    assert not detection.by_name("param-issue-rate")


# --- HPE001 param-issue-rate -------------------------------------------------------------------------


def _fixture(name: str, variant: str = "trigger"):
    return load_sweep(FIXTURES / "detectors" / name / variant / "runs.csv")


def test_param_issue_rate_flags_batch_size_256() -> None:
    detection = run_detectors(_fixture("param-issue-rate"))
    findings = detection.by_name("param-issue-rate")
    assert [f.evidence["param"] for f in findings] == ["batch_size"]
    f = findings[0]
    assert f.severity == "medium"
    assert f.title == "batch_size=256: 9 of 10 runs have crashed-run vs 1 of 30 other runs"
    assert f.run_ids == [f"r{i}" for i in range(30, 40)]
    ev = f.evidence
    assert ev["bucketing"] == "levels" and ev["issue_types"] == ["crashed-run"]
    buckets = {b["label"]: b for b in ev["buckets"]}
    assert [b["n"] for b in ev["buckets"]] == [10, 10, 10, 10]
    crash = buckets["256"]["issues"]["crashed-run"]
    assert crash["k"] == 9 and crash["rate"] == 0.9 and crash["rest_k"] == 1 and crash["rest_n"] == 30
    assert crash["p_value"] == pytest.approx(_hand_fisher(9, 1, 1, 29), rel=1e-9)
    assert ev["n_tests"] == 8  # 4 buckets x (crashed-run, any)
    assert crash["p_adjusted"] == pytest.approx(8 * crash["p_value"], rel=1e-12)
    assert crash["status"] == "elevated"
    assert buckets["32"]["issues"]["crashed-run"]["status"] == "no-difference"  # 1 of 10 vs 9 of 30
    assert crash["ci_low"] == pytest.approx(0.5958499, abs=1e-6)


def test_seed000_report_buckets_are_inconclusive() -> None:
    """The seed report sold `(0.005, 0.01]` and `(0.01, 0.02]` (rate 1.0) as a trend: one run each."""
    sweep = load_sweep(
        FIXTURES / "seed000" / "runs.csv", LoadOptions(history=FIXTURES / "seed000" / "history.csv")
    )
    runs = sweep.runs
    issue = runs["run_id"].isin(["2", "3", "4"]).rename("issue")  # NaN/inf (2, 4) and overfitting (3, 4)
    table = issue_rate_table(runs["lr"], issue, bins=[0.0001, 0.005, 0.01, 0.02]).set_index("label")
    assert list(table.index) == ["(-0.0009, 0.005]", "(0.005, 0.01]", "(0.01, 0.02]"]
    for label in ("(0.005, 0.01]", "(0.01, 0.02]"):
        row = table.loc[label]
        assert (row["n"], row["k"], row["rate"], row["status"]) == (1, 1, 1.0, "inconclusive")
        assert row["ci_low"] == pytest.approx(0.2065493, abs=1e-6) and row["ci_high"] == 1.0
        assert row["p_value"] == pytest.approx(3 / 8)  # 1 of 1 vs 2 of 7: hypergeometric, hand-checked
        assert math.isnan(row["p_adjusted"])
    assert table.loc["(-0.0009, 0.005]", "n"] == 6
    # the report's batch-size buckets: two runs each, rate 0.5 and 0.0, all inconclusive
    batch = issue_rate_table(runs["batch_size"], issue, bins=[8, 16, 32, 64, 128]).set_index("label")
    assert list(batch.index) == ["(7.999, 16.0]", "(16.0, 32.0]", "(32.0, 64.0]", "(64.0, 128.0]"]
    assert batch["n"].tolist() == [2, 2, 2, 2] and batch["k"].tolist() == [1, 1, 1, 0]
    assert (batch["status"] == "inconclusive").all()
    # the default bucketing: 8 runs give 2 quantile buckets of 4, still under 5 runs: inconclusive
    default = issue_rate_table(runs["lr"], issue)
    assert default["method"].iloc[0] == "quantile" and default["n"].tolist() == [4, 4]
    assert (default["status"] == "inconclusive").all()
    assert default["bin_low"].tolist() == [0.0001, 0.0025] and default["bin_high"].tolist() == [0.0025, 0.02]
    # whatever issue detectors exist, the detector never calls an lr bucket a trend on 8 runs
    findings = run_detectors(sweep).by_name("param-issue-rate")
    assert not [f for f in findings if f.severity != "info"]
    for f in findings:
        assert all(not b["conclusive"] for b in f.evidence["buckets"] if b["n"] < 5)
    lr = [f for f in findings if f.evidence["param"] == "lr"]
    assert lr and lr[0].evidence["inconclusive_buckets"] == ["(-0.0009, 0.0025]", "(0.0025, 0.02]"]
    assert "no bucket's issue rate differs significantly" in lr[0].title


@pytest.fixture(scope="module")
def fcnet_runs() -> pd.DataFrame:
    sweeps = [
        load_sweep(FCNET / f"fcnet_slice_localization.lr_schedule-{s}.csv") for s in ("const", "cosine")
    ]
    return pd.concat([s.runs for s in sweeps], ignore_index=True)


@needs_real
def test_fcnet_divergence_rates_by_init_lr_and_batch_size(fcnet_runs) -> None:
    seeds = [f"val_loss_seed{i}" for i in range(4)]
    median = float(np.median(fcnet_runs[seeds].to_numpy()))
    assert median == pytest.approx(0.031, abs=5e-4)
    diverged = (fcnet_runs[seeds] > 10 * median).any(axis=1).rename("divergence")
    lr = issue_rate_table(fcnet_runs["init_lr"], diverged, kind="numeric").set_index("label")
    assert lr["method"].iloc[0] == "levels" and (lr["n"] == 10368).all()
    rates = lr["rate"].to_dict()
    # SOURCES.md: 0.4% at 5e-4, 21% at 1e-2, 64% at 5e-2, 79% at 1e-1
    assert rates["0.0005"] == pytest.approx(0.004, abs=5e-4) and lr.loc["0.0005", "k"] == 40
    assert rates["0.01"] == pytest.approx(0.21, abs=5e-3) and lr.loc["0.01", "k"] == 2228
    assert rates["0.05"] == pytest.approx(0.64, abs=5e-3) and lr.loc["0.05", "k"] == 6598
    assert rates["0.1"] == pytest.approx(0.79, abs=6e-3) and lr.loc["0.1", "k"] == 8134
    assert lr.loc[["0.05", "0.1"], "status"].tolist() == ["elevated", "elevated"]
    assert lr.loc["0.01", "status"] == "lower"  # 21% is below the 36% of all other configs
    batch = issue_rate_table(fcnet_runs["batch_size"], diverged, kind="int").set_index("label")
    assert batch.loc["8", "rate"] == pytest.approx(0.36, abs=5e-3) and batch.loc["8", "k"] == 5538
    assert batch.loc["64", "rate"] == pytest.approx(0.21, abs=5e-3) and batch.loc["64", "k"] == 3329
    assert batch.loc["8", "status"] == "elevated" and batch.loc["64", "status"] == "lower"
    # a numeric param with many values gets 5 quantile buckets with pandas' labels
    size = issue_rate_table(fcnet_runs["model_size"], diverged, kind="int")
    assert size["label"].tolist()[0] == "(6384.999, 14369.0]" and len(size) == 5
    assert size["n"].sum() == len(fcnet_runs)


# --- HPE002 interaction-risk -------------------------------------------------------------------------


def test_interaction_risk_finds_the_crashing_corner() -> None:
    findings = run_detectors(_fixture("interaction-risk")).by_name("interaction-risk")
    assert len(findings) == 1
    f = findings[0]
    assert f.title == (
        "batch_size=256 with max_lr=0.001: 13 of 15 runs have issues vs 14 of 30 with batch_size=256 and "
        "14 of 30 with max_lr=0.001"
    )
    assert f.run_ids == [f"r{i}" for i in range(45, 60)]
    cell = f.evidence["cells"][0]
    assert (cell["n"], cell["k"], cell["n_a"], cell["k_a"]) == (15, 13, 30, 14)
    assert cell["p_value"] == pytest.approx(_hand_fisher(13, 2, 3, 42), rel=1e-9)
    assert cell["p_within_a"] == pytest.approx(_hand_fisher(13, 2, 1, 14), rel=1e-9)
    assert f.evidence["n_cells_tested"] == 1  # the other cells have 1 issue each: below min_cell_issues
    assert f.evidence["issues_in_cells"]["crashed-run"] == 13


# --- HPE003 group-stability --------------------------------------------------------------------------


@needs_real
def test_group_stability_on_nanogpt_ablation() -> None:
    sweep = load_sweep(NANOGPT / "wandb_export.csv")
    findings = {f.evidence["param"]: f for f in run_detectors(sweep).by_name("group-stability")}
    assert {"pos_encoding", "norm_type", "activation_type", "residual_type"} <= set(findings)
    raw = pd.read_csv(NANOGPT / "wandb_export.csv")
    expected = raw.groupby("pos_encoding")["val/loss"].agg(["size", "min", "median"])
    groups = {g["level"]: g for g in findings["pos_encoding"].evidence["groups"]}
    assert set(groups) == set(expected.index) == {"alibi", "learned", "none", "rope"}
    for level, row in expected.iterrows():
        assert groups[level]["n_runs"] == row["size"] and groups[level]["n_finished"] == row["size"]
        assert groups[level]["best"] == pytest.approx(row["min"], rel=1e-12)
        assert groups[level]["median"] == pytest.approx(row["median"], rel=1e-12)
        assert groups[level]["n_failed"] == 0
        best_name = raw.loc[(raw["pos_encoding"] == level)].sort_values("val/loss")["Name"].iloc[0]
        assert groups[level]["best_config"]["pos_encoding"] == level
        assert best_name in groups[level]["best_run_id"]
    assert expected.loc["rope", "size"] == 4 and expected.loc["learned", "size"] == 52
    winner = expected["min"].idxmin()
    assert findings["pos_encoding"].evidence["best_group"] == winner
    assert f"pos_encoding={winner}" in findings["pos_encoding"].title


def test_group_stability_table_counts_crashes() -> None:
    f = run_detectors(_fixture("group-stability")).by_name("group-stability")[0]
    groups = {g["level"]: g for g in f.evidence["groups"]}
    assert groups["mlp"]["n_failed"] == 1 and groups["mlp"]["failed_rate"] == 0.25
    assert groups["mlp"]["n_objective"] == 3  # the crashed run has no val_loss
    assert groups["cnn"]["best"] == 0.3 and groups["cnn"]["best_run_id"] == "r00"
    assert f.run_ids == ["r00", "r04", "r08"]  # the best run of each group


# --- HPE004 param-importance -------------------------------------------------------------------------


@needs_real
def test_param_importance_init_lr_drives_fcnet_val_loss() -> None:
    sweep = load_sweep(FCNET / "fcnet_slice_localization.lr_schedule-const.csv")
    findings = {f.evidence["param"]: f for f in run_detectors(sweep).by_name("param-importance")}
    ev = findings["init_lr"].evidence
    assert ev["runs_used"].startswith("all runs") and ev["n_used"] == 31104
    assert ev["excluded"] == {"not_finished": 0, "objective_nan": 0, "objective_inf": 0}
    assert ev["importance_rank"] == 1 and ev["statistic"] == "eta_squared"
    runs = sweep.runs
    expected_rho = runs["init_lr"].rank().corr(runs["val_loss_seed0"].rank())
    assert ev["spearman_rho"] == pytest.approx(expected_rho, rel=1e-9)
    assert ev["spearman_rho"] > 0.3  # higher init_lr, higher (worse) val loss
    assert ev["eta_squared"] >= ev["spearman_rho"] ** 2
    assert ev["n_permutations"] == 321  # 10 million / 31,104 runs
    assert ev["p_value"] == ev["p_value_floor"] == 1 / 322
    assert ev["best_level"] == "0.0005"


def test_param_importance_counts_exclusions_and_ignores_noise() -> None:
    f = run_detectors(_fixture("param-importance")).by_name("param-importance")
    assert [x.evidence["param"] for x in f] == ["lr"]
    assert f[0].evidence["spearman_rho"] == pytest.approx(1.0)
    assert f[0].evidence["params"]["batch_size"]["p_adjusted"] > 0.05
    grouped = run_detectors(_fixture("group-stability")).by_name("param-importance")
    assert grouped and grouped[0].evidence["excluded"] == {
        "not_finished": 1,
        "objective_nan": 0,
        "objective_inf": 0,
    }
    assert grouped[0].evidence["n_used"] == 11


def test_param_importance_small_sweep_is_silent() -> None:
    sweep = load_sweep(FIXTURES / "seed000" / "runs.csv")  # 8 runs, 7 finished, one inf: below min_runs
    assert not run_detectors(sweep, DetectConfig(select=["HPE004"])).findings
