"""HPE004 param-importance: how strongly each param goes with the objective, on the runs that can be compared.

What: on finished runs with a finite objective (all runs with a finite objective when the export has no
run states), for every non-constant param except seeds (`configs.is_seed`: a seed is not a
hyperparameter, and "seed matters" is noise or a bug, not an importance) with a value in at least
`min_runs` of them: for numeric and
int params Spearman's rank correlation with the objective (Pearson on average ranks, so ties share their
mean rank; a log-scale param gives the same rho as its log10, ranks do not see the transform), and for
params with at most `max_levels` distinct values and two runs per level on average (categorical, bool,
grids) eta-squared of the objective's ranks across the levels, which equals the Kruskal-Wallis H divided
by N - 1 and also catches effects that are not monotone (an lr that is best in the middle). `importance`
is the share of the objective's rank variance explained: eta-squared where it exists (it is never below
rho squared), else rho squared. The p-value comes from `n_permutations` permutations of the objective
(seeded, so the same data give the same p) and is Bonferroni-adjusted over the params tested. One info
finding per param whose adjusted p-value is below `alpha`, with the table of every param tested (so
"batch_size did not matter" is checkable too) and the runs left out and why (`excluded`: not finished,
objective NaN, objective inf; `n_param_missing`: comparable runs without a value of this param). The
title's "left out" counts every run not compared for this param: all runs minus the `n` compared, so the
runs without a value of the param are included.

Why it matters: reports rank hyperparameters by importance; a marginal rank statistic with its sample
size and a permutation p-value is the honest version of "lr matters most", and says when 8 runs cannot
tell.

Thresholds: `min_runs` (default 10): comparable runs needed at all, and with a value per param.
`max_levels` (default 20): most distinct values for the levels statistic. `n_permutations` (default 999):
permutations for the p-value (its floor is 1 / (1 + permutations)); on large sweeps fewer, so that
permutations x runs stays under 10 million, but never fewer than 199. `alpha` (default 0.05): adjusted
p-value below which a param gets a finding. `max_run_ids` (default 10): best runs listed in a finding.

Known false positives: importances are marginal, one param at a time: in a non-factorial search (random
or Bayesian) a param sampled together with a good region of another one inherits its importance, and a
sampler that concentrates on good values of a param makes it look less important. Runs that crashed are
left out, so a param whose bad values crash the run looks harmless here (param-issue-rate sees that).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from reportgen.detectors.base import Context
from reportgen.detectors.configs import is_seed, plain
from reportgen.detectors.issues import completed_runs
from reportgen.detectors.stats import (
    average_ranks,
    eta_squared_statistic,
    permutation_p_values,
    spearman_statistic,
)
from reportgen.findings import Finding
from reportgen.sweep import Sweep

PERMUTATION_BUDGET = 10_000_000
MIN_PERMUTATIONS = 199


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min_runs: int = Field(default=10, ge=3, description="comparable runs needed, overall and per param")
    max_levels: int = Field(default=20, ge=2, description="most distinct values for the levels statistic")
    n_permutations: int = Field(default=999, ge=19, description="permutations for the p-value")
    alpha: float = Field(default=0.05, gt=0, lt=1, description="Bonferroni-adjusted significance level")
    max_run_ids: int = Field(default=10, ge=1, description="best runs listed in a finding")


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    t: Thresholds = ctx.thresholds
    objective = sweep.schema.objective
    runs = sweep.runs.reset_index(drop=True)
    if objective is None or objective.metric not in runs or len(runs) < t.min_runs:
        return []
    completed, rule = completed_runs(sweep)
    completed = completed.reset_index(drop=True)
    y_all = pd.to_numeric(runs[objective.metric], errors="coerce").to_numpy(dtype="float64")
    usable = completed.to_numpy() & np.isfinite(y_all)
    excluded = {
        "not_finished": int((~completed).sum()),
        "objective_nan": int((completed & np.isnan(y_all)).sum()),
        "objective_inf": int((completed & np.isinf(y_all)).sum()),
    }
    if usable.sum() < t.min_runs:
        return []
    rows = _statistics(runs, y_all, usable, sweep, t)
    if not rows:
        return []
    table = pd.DataFrame(rows).set_index("param")
    table["p_adjusted"] = np.minimum(1.0, table["p_value"] * len(table))
    table["importance_rank"] = table["importance"].rank(ascending=False, method="min")
    summary = {str(p): _record(r) for p, r in table.iterrows()}
    better_first = runs.loc[usable].sort_values(objective.metric, ascending=objective.direction == "min")
    best_ids = better_first["run_id"].astype(str).head(t.max_run_ids).tolist()
    findings = []
    for param, row in table[table["p_adjusted"] < t.alpha].sort_values("importance_rank").iterrows():
        n_compared = int(row["n"])
        evidence: dict[str, Any] = {
            "param": str(param),
            "objective": objective.metric,
            "direction": objective.direction,
            "runs_used": rule + " with a finite objective",
            "n_runs": len(runs),
            "n_used": int(usable.sum()),
            "excluded": excluded,
            "n_param_missing": int(usable.sum()) - n_compared,
            "n_left_out": len(runs) - n_compared,
            **_record(row),
            "n_params_tested": len(table),
            "params": summary,
        }
        title = (
            f"{param} is #{int(row['importance_rank'])} of {len(table)} params for {objective.metric} "
            f"({n_compared} runs compared, {len(runs) - n_compared} left out)"
        )
        findings.append(ctx.finding(title=title, run_ids=best_ids, evidence=evidence, key=str(param)))
    return findings


def _statistics(
    runs: pd.DataFrame, y_all: np.ndarray, usable: np.ndarray, sweep: Sweep, t: Thresholds
) -> list[dict[str, Any]]:
    """Per param: rho and/or eta-squared and their permutation p-values; params sharing the same usable
    runs share one set of permutations (the usual case: no missing param values)."""
    by_mask: dict[bytes, list[tuple[str, str, np.ndarray]]] = {}
    for spec in sweep.schema.params:
        if spec.constant or spec.name not in runs or is_seed(spec.name):
            continue  # a seed is not a hyperparameter
        col = runs[spec.name]
        numeric = spec.kind in ("numeric", "int") and pd.api.types.is_numeric_dtype(col)
        mask = usable & col.notna().to_numpy()
        if mask.sum() < t.min_runs or col[mask].nunique() < 2:
            continue
        by_mask.setdefault(mask.tobytes(), []).append((spec.name, "numeric" if numeric else "levels", mask))
    rows = []
    for params in by_mask.values():
        mask = params[0][2]
        y_ranks = average_ranks(y_all[mask])
        stats = {}
        for name, kind, _ in params:
            x = runs[name].to_numpy()[mask]
            n_levels = int(pd.Series(x).nunique())
            if kind == "numeric":
                stats[(name, "rho")] = spearman_statistic(y_ranks, x.astype("float64"))
            if n_levels <= t.max_levels and len(x) >= 2 * n_levels:  # levels need repeats to compare
                stats[(name, "eta")] = eta_squared_statistic(y_ranks, x)
        n_perm = _permutations(t.n_permutations, len(y_ranks))
        p_values = permutation_p_values(y_ranks, stats, n_perm)
        for name, kind, _ in params:
            rho = stats.get((name, "rho"), (math.nan, None))[0]
            eta = stats.get((name, "eta"), (math.nan, None))[0]
            if math.isnan(rho) and math.isnan(eta):
                continue
            use_eta = not math.isnan(eta)
            x = runs[name].to_numpy()[mask]
            rows.append(
                {
                    "param": name,
                    "kind": kind,
                    "n": int(mask.sum()),
                    "n_levels": int(pd.Series(x).nunique()),
                    "spearman_rho": rho,
                    "eta_squared": eta,
                    "kruskal_wallis_h": eta * (mask.sum() - 1) if use_eta else math.nan,
                    "importance": eta if use_eta else rho * rho,
                    "statistic": "eta_squared" if use_eta else "spearman_rho",
                    "p_value": p_values[(name, "eta" if use_eta else "rho")],
                    "n_permutations": n_perm,
                    "p_value_floor": 1.0 / (1 + n_perm),
                    "best_level": _best_level(x, y_all[mask], sweep) if use_eta else None,
                }
            )
    return rows


def _permutations(wanted: int, n: int) -> int:
    """Fewer permutations on large sweeps (permutations x runs at most PERMUTATION_BUDGET), never fewer
    than MIN_PERMUTATIONS: at 30,000 runs a p-value floor of 1/322 is far below any useful alpha."""
    return min(wanted, max(MIN_PERMUTATIONS, PERMUTATION_BUDGET // max(n, 1)))


def _best_level(x: np.ndarray, y: np.ndarray, sweep: Sweep) -> Any:
    """The level with the best median objective."""
    objective = sweep.schema.objective
    medians = pd.Series(y).groupby(pd.Series(x).astype("string")).median()
    level = medians.idxmin() if objective is not None and objective.direction == "min" else medians.idxmax()
    return str(level)


# statistics a param may not have (rho for a categorical param, eta-squared for one with too many
# levels): NaN in the table means "not computed", so absent (None) in the evidence
_OPTIONAL = ("spearman_rho", "eta_squared", "kruskal_wallis_h")


def _record(row: pd.Series) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in (
        "kind",
        "n",
        "n_levels",
        "spearman_rho",
        "eta_squared",
        "kruskal_wallis_h",
        "importance",
        "statistic",
        "p_value",
        "n_permutations",
        "p_value_floor",
        "p_adjusted",
        "importance_rank",
        "best_level",
    ):
        value = row[key]
        absent = key in _OPTIONAL and isinstance(value, float) and math.isnan(value)
        out[key] = None if absent else plain(value)
    out["importance_rank"] = int(out["importance_rank"])
    return out
