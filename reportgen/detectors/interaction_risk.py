"""HPE002 interaction-risk: a combination of two param values where runs have issues far more often than
with either value alone.

What: for every pair of non-constant params (seeds excluded: `configs.is_seed`, a seed is not a
hyperparameter) whose runs fall into at most `max_buckets_per_param` buckets each, the cells value x value
with at least `min_cell_runs` runs and `min_cell_issues` runs with any issue are tested. A cell is flagged
when its issue rate is above the rate of each of its two values on their own, Fisher's exact test of the cell
against all other runs gives a Bonferroni-adjusted p-value (times the number of cells tested over all pairs)
below `alpha`, and the cell is also significantly worse (two-sided Fisher p below `alpha`) than the other runs
that share each of its two values: the combination, not one param, carries the risk. One finding per pair (the
pair's cells in the evidence), the `max_findings` pairs with the smallest p-values. Only the `max_params`
params with the fewest buckets are paired (schema order breaks ties), which bounds the work to a few hundred
cells. The buckets are param-issue-rate's (`bucketize` with `bucket_options()`: levels, quantile intervals or
a missing bucket by HPE001's default `min_bucket_runs`, `max_buckets` and `max_levels`, one shared definition;
thresholds configured for HPE001 are not seen here). Titles name an interval bucket by the smallest and
largest value its runs have, as HPE001's do; the evidence keeps pandas' label too.

Why it matters: "batch_size=256 with max_lr=1e-3: 9 of 10 runs crashed" is invisible in one-param tables
when each value is fine with other partners; it tells the next sweep which corner to cut.

Thresholds: `min_cell_runs` (default 5) and `min_cell_issues` (default 2): support a cell needs to be
tested. `alpha` (default 0.05): significance (Bonferroni-adjusted against the rest; raw against each
marginal). `max_buckets_per_param` (default 6): params with more buckets are not paired. `max_params`
(default 10): most params paired. `max_findings` (default 5): most pairs reported. `max_run_ids`
(default 200): most run ids listed in one finding. `min_lift` (default 1.25): the cell's rate must be at
least this multiple of the higher of its two single-value rates, so a one-factor-at-a-time ablation
(every arm but one shares the baseline, whose cell then holds almost every run) is not read as an
interaction: there the cell's rate barely exceeds the single-value rates it is built from.

Known false positives: a grid that only visits some combinations makes a cell's "rest" unbalanced, and
a third param correlated with both (model size) can be the real cause; with few runs per cell the
Bonferroni correction makes misses more likely than false alarms.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from reportgen.detectors.base import Context
from reportgen.detectors.configs import is_seed, plain
from reportgen.detectors.issues import run_issues
from reportgen.detectors.param_issue_rate import Buckets, bucket_options, bucket_text, bucketize
from reportgen.detectors.stats import fisher_exact, log_factorials, wilson_interval
from reportgen.findings import Finding
from reportgen.sweep import Sweep


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min_cell_runs: int = Field(default=5, ge=2, description="runs a cell needs to be tested")
    min_cell_issues: int = Field(default=2, ge=1, description="runs with issues a cell needs to be tested")
    alpha: float = Field(default=0.05, gt=0, lt=1, description="significance level")
    max_buckets_per_param: int = Field(default=6, ge=2, description="params with more buckets are not paired")
    max_params: int = Field(default=10, ge=2, description="most params paired")
    max_findings: int = Field(default=5, ge=1, description="most pairs reported")
    max_run_ids: int = Field(default=200, ge=1, description="most run ids listed in one finding")
    min_lift: float = Field(
        default=1.25, ge=1, description="cell rate over the higher of its two single-value rates"
    )


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    t: Thresholds = ctx.thresholds
    issues = run_issues(sweep, ctx.prior)
    if not len(issues) or int(issues["any"].sum()) < t.min_cell_issues:
        return []
    flags = issues["any"].to_numpy()
    bucketed: dict[str, Buckets] = {}
    for spec in sweep.schema.params:
        if spec.constant or spec.name not in sweep.runs or is_seed(spec.name):
            continue  # a seed is not a hyperparameter
        b = bucketize(sweep.runs[spec.name].reset_index(drop=True), spec.kind, **bucket_options())
        if b is not None and len(b.table) <= t.max_buckets_per_param:
            bucketed[spec.name] = b
    names = sorted(bucketed, key=lambda n: len(bucketed[n].table))[: t.max_params]
    names = [n for n in bucketed if n in names]  # back to schema order
    lf = log_factorials(len(flags))  # once for every cell of every pair
    parts = [_cells(a, bucketed[a], b, bucketed[b], flags, t, lf) for a, b in combinations(names, 2)]
    parts = [p for p in parts if len(p)]
    if not parts:
        return []
    cells = pd.concat(parts, ignore_index=True)
    n_tests = len(cells)
    cells["p_adjusted"] = np.minimum(1.0, cells["p_value"] * n_tests)
    flagged = cells[
        (cells["p_adjusted"] < t.alpha)
        & (cells["p_within_a"] < t.alpha)
        & (cells["p_within_b"] < t.alpha)
        & (cells["rate"] >= t.min_lift * cells[["rate_a", "rate_b"]].max(axis=1))
        & (cells["rate"] > cells[["rate_a", "rate_b"]].max(axis=1))
    ]
    if flagged.empty:
        return []
    order = flagged.groupby(["param_a", "param_b"], sort=False)["p_value"].min().sort_values(kind="stable")
    run_ids = issues.index.to_numpy()
    findings = []
    for param_a, param_b in order.index[: t.max_findings]:
        pair = flagged[(flagged["param_a"] == param_a) & (flagged["param_b"] == param_b)]
        pair = pair.sort_values(["p_value", "label_a", "label_b"])
        in_cells = np.zeros(len(flags), dtype=bool)
        for _, row in pair.iterrows():
            in_cells |= (bucketed[param_a].codes == row["code_a"]) & (
                bucketed[param_b].codes == row["code_b"]
            )
        chosen = [str(r) for r in run_ids[in_cells]]
        top = pair.iloc[0]
        per_type = issues.to_numpy()[in_cells].sum(axis=0)
        evidence: dict[str, Any] = {
            "params": [param_a, param_b],
            "n_runs": len(flags),
            "n_runs_with_issues": int(flags.sum()),
            "n_cells_tested": n_tests,
            "alpha": t.alpha,
            "cells": [_record(r) for _, r in pair.iterrows()],
            "issues_in_cells": {c: int(v) for c, v in zip(issues.columns, per_type, strict=True)},
            "n_run_ids_omitted": max(0, len(chosen) - t.max_run_ids),
        }
        more = len(pair) - 1
        where_a, where_b = str(top["where_a"]), str(top["where_b"])
        title = (
            f"{where_a} with {where_b}: {int(top['k'])} of {int(top['n'])} runs have issues vs "
            f"{int(top['k_a'])} of {int(top['n_a'])} with {where_a} and "
            f"{int(top['k_b'])} of {int(top['n_b'])} with {where_b}"
            + (f" (+{more} more cell{'s' if more != 1 else ''})" if more else "")
        )
        findings.append(
            ctx.finding(
                title=title, run_ids=chosen[: t.max_run_ids], evidence=evidence, key=f"{param_a} x {param_b}"
            )
        )
    return findings


def _cells(
    name_a: str, a: Buckets, name_b: str, b: Buckets, flags: np.ndarray, t: Thresholds, lf: np.ndarray
) -> pd.DataFrame:
    """The tested cells of one pair: counts, marginal counts and the three Fisher p-values."""
    size_b = int(b.codes.max()) + 1
    cell = a.codes * size_b + b.codes
    n_cell = np.bincount(cell)
    k_cell = np.bincount(cell, weights=flags).astype("int64")
    n_a, k_a = np.bincount(a.codes), np.bincount(a.codes, weights=flags).astype("int64")
    n_b, k_b = np.bincount(b.codes), np.bincount(b.codes, weights=flags).astype("int64")
    support = np.flatnonzero((n_cell >= t.min_cell_runs) & (k_cell >= t.min_cell_issues))
    if not len(support):
        return pd.DataFrame()
    ca, cb = support // size_b, support % size_b
    total_n, total_k = len(flags), int(flags.sum())
    out = pd.DataFrame(
        {
            "param_a": name_a,
            "param_b": name_b,
            "code_a": ca,
            "code_b": cb,
            "label_a": a.table["label"].reindex(ca).to_numpy(),
            "label_b": b.table["label"].reindex(cb).to_numpy(),
            "where_a": [bucket_text(name_a, a.table.loc[c]) for c in ca],
            "where_b": [bucket_text(name_b, b.table.loc[c]) for c in cb],
            "n": n_cell[support],
            "k": k_cell[support],
            "n_a": n_a[ca],
            "k_a": k_a[ca],
            "n_b": n_b[cb],
            "k_b": k_b[cb],
        }
    )
    out["rate"] = out["k"] / out["n"]
    out["rate_a"] = out["k_a"] / out["n_a"]
    out["rate_b"] = out["k_b"] / out["n_b"]
    out["ci_low"], out["ci_high"] = wilson_interval(out["k"].to_numpy(), out["n"].to_numpy())
    out["p_value"] = [
        fisher_exact(k, n - k, total_k - k, total_n - n - total_k + k, lf)
        for n, k in zip(out["n"], out["k"], strict=True)
    ]
    # the cell against the other runs with the same value of a (then of b)
    out["p_within_a"] = [
        fisher_exact(k, n - k, km - k, nm - n - km + k, lf)
        for n, k, nm, km in zip(out["n"], out["k"], out["n_a"], out["k_a"], strict=True)
    ]
    out["p_within_b"] = [
        fisher_exact(k, n - k, km - k, nm - n - km + k, lf)
        for n, k, nm, km in zip(out["n"], out["k"], out["n_b"], out["k_b"], strict=True)
    ]
    return out


def _record(row: pd.Series) -> dict[str, Any]:
    ints = ("n", "k", "n_a", "k_a", "n_b", "k_b")
    floats = (
        "rate",
        "ci_low",
        "ci_high",
        "rate_a",
        "rate_b",
        "p_value",
        "p_adjusted",
        "p_within_a",
        "p_within_b",
    )
    return {
        "label_a": str(row["label_a"]),
        "label_b": str(row["label_b"]),
        "where_a": str(row["where_a"]),
        "where_b": str(row["where_b"]),
        **{k: plain(row[k]) for k in (*ints, *floats)},
    }
