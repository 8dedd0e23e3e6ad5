"""SSP002 best-at-boundary: the best runs sit at the edge of a param's searched range.

What: among rankable runs (finished, or of unknown state when the export has no states) with a finite
objective, the best `top_k` (at most a quarter of them, at least one) by the sweep's objective. For every
non-constant numeric or int param (not a seed) with at least three distinct values, the range is the
declared one (low/high, or the smallest and largest declared choice) when known, else the observed min
and max; a position in it is measured on a log axis when the param is positive and spans two or more
decades (or is declared log), else linearly. The param is reported when the best run and at least
`min_share` of the top runs sit within `edge_fraction` of the same edge, that share is at least
`min_lift` times the share of all rankable runs at that edge (on a grid a sixth of all runs sit on the
lowest of six levels, so the top runs piling up there is the signal, not being there), and the pile-up is
unlikely by chance: the hypergeometric tail P(X >= the number of top runs at the edge), X the number of
edge runs among `top_k` runs drawn without replacement from the rankable runs with a value, is below
`alpha`. That is the chance of the observed pile-up if the objective ignored the param (a random
ranking); on a 3-level grid of 12 runs the best 3 all sitting on one given edge has p = 4/220 = 0.018,
two of three 0.24, so only the first is reported. With `alpha` 0.05 a random objective fires on about
5% or fewer of sweeps per param and edge checked; the FC-Net grid's 5 best of 31,104 runs all at
init_lr 0.0005 (a sixth of the runs) has p about 1.3e-4. An edge at a
natural bound (a value of 0, or 1 for a param within [0, 1], such as dropout 0) cannot be widened; it is
still reported, at low severity, with `natural_bound` in the evidence.

Why it matters: when the optimum lies at the edge of the searched range, the real optimum is probably
outside it; the sweep's best result is a lower bound on what the method can do and the range should be
widened (or shifted) in that direction before drawing conclusions about the param.

Thresholds: `top_k` (default 5): how many best runs make "the best runs". `edge_fraction` (default 0.05):
share of the range (on the axis used) that counts as the edge. `min_share` (default 0.6): share of the
top runs that must sit at the same edge. `min_lift` (default 2.0): how many times more common that edge
must be among the top runs than among all rankable runs. `alpha` (default 0.05): the hypergeometric
p-value below which the pile-up counts (not corrected for the number of params: each param's edge is
its own question). `min_runs` (default 8): rankable runs with an objective needed at all.

Known false positives: edges that are hard limits rather than choices (the largest batch that fits in
memory, a model size capped by the budget); objectives that improve monotonically with cost (more units,
more epochs), where the edge is expected and widening it is a budget decision, not a search error;
derived columns recorded as params (a parameter count) follow the params they derive from.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from reportgen.detectors.base import Context
from reportgen.detectors.configs import numeric_params, objective_table, plain, value_text
from reportgen.detectors.stats import hypergeom_sf, log_factorials
from reportgen.findings import Finding
from reportgen.sweep import ParamSpec, Sweep


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    top_k: int = Field(default=5, ge=1, description="how many best runs make the best runs")
    edge_fraction: float = Field(
        default=0.05, ge=0, lt=0.5, description="share of the range that is the edge"
    )
    min_share: float = Field(default=0.6, gt=0, le=1, description="share of the top runs at the same edge")
    min_lift: float = Field(default=2.0, ge=1, description="edge share among top runs over that among all")
    alpha: float = Field(
        default=0.05, gt=0, le=1, description="hypergeometric p-value of the top runs' pile-up at the edge"
    )
    min_runs: int = Field(default=8, ge=2, description="rankable runs with an objective needed")


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    t: Thresholds = ctx.thresholds
    table = objective_table(sweep)
    if table is None or len(table) < t.min_runs:
        return []
    k = max(1, min(t.top_k, len(table) // 4))
    runs = sweep.runs.assign(run_id=sweep.runs["run_id"].astype(str)).set_index("run_id")
    findings = []
    for param in numeric_params(sweep):
        values = pd.to_numeric(runs[param.name].reindex(table["run_id"]), errors="coerce").to_numpy(
            dtype="float64"
        )
        found = _check(sweep, param, table, values, k, t)
        if found is not None:
            findings.append(ctx.finding(**found))
    return findings


def _range(param: ParamSpec, observed: np.ndarray) -> tuple[float, float, str]:
    declared = param.declared
    if declared is not None and declared.low is not None and declared.high is not None:
        return float(declared.low), float(declared.high), "declared"
    if declared is not None and declared.choices:
        numbers = [c for c in declared.choices if isinstance(c, (int, float)) and not isinstance(c, bool)]
        if len(numbers) == len(declared.choices):
            return float(min(numbers)), float(max(numbers)), "declared"
    return float(np.nanmin(observed)), float(np.nanmax(observed)), "observed"


def _check(
    sweep: Sweep, param: ParamSpec, table: pd.DataFrame, values: np.ndarray, k: int, t: Thresholds
) -> dict[str, Any] | None:
    have = np.isfinite(values)
    if have.sum() < t.min_runs or len(np.unique(values[have])) < 3:
        return None
    low, high, source = _range(param, values[have])
    if not high > low:
        return None
    declared_log = param.declared is not None and bool(param.declared.log)
    log_axis = low > 0 and (declared_log or math.log10(high / low) >= 2.0 - 1e-9)
    with np.errstate(invalid="ignore", divide="ignore"):
        if log_axis:
            position = (np.log(values) - math.log(low)) / (math.log(high) - math.log(low))
        else:
            position = (values - low) / (high - low)
    at_low = position <= t.edge_fraction
    at_high = position >= 1.0 - t.edge_fraction
    top = np.zeros(len(values), dtype=bool)
    top[:k] = True  # table is sorted best first
    if not have[0]:
        return None
    edge, at_edge = ("low", at_low) if at_low[0] else ("high", at_high) if at_high[0] else (None, None)
    if edge is None or at_edge is None:
        return None
    n_top_at_edge = int((at_edge & top).sum())
    share_top = n_top_at_edge / k
    base_share = float(at_edge[have].mean())
    if share_top < t.min_share or share_top < t.min_lift * base_share:
        return None
    # the top runs with a value drawn from the rankable runs with a value, edge runs marked
    n_have, n_edge = int(have.sum()), int(at_edge[have].sum())
    p_value = hypergeom_sf(n_top_at_edge, n_have, n_edge, int(have[:k].sum()), log_factorials(n_have))
    if p_value >= t.alpha:
        return None
    edge_value = low if edge == "low" else high
    natural = edge_value == 0.0 or (edge == "high" and edge_value == 1.0 and low >= 0.0)
    objective = sweep.schema.objective
    assert objective is not None  # objective_table returned rows
    top_rows = table.iloc[:k]
    edge_ids = [rid for rid, flag in zip(top_rows["run_id"], at_edge[:k], strict=True) if flag]
    evidence = {
        "param": param.name,
        "edge": edge,
        "edge_value": edge_value,
        "range_low": low,
        "range_high": high,
        "range_source": source,
        "axis": "log" if log_axis else "linear",
        "edge_fraction": t.edge_fraction,
        "objective": objective.metric,
        "direction": objective.direction,
        "top_k": k,
        "n_top_at_edge": n_top_at_edge,
        "share_top_at_edge": share_top,
        "n_rankable": int(have.sum()),
        "n_rankable_at_edge": int(at_edge[have].sum()),
        "share_rankable_at_edge": base_share,
        "p_value": p_value,
        "alpha": t.alpha,
        "natural_bound": natural,
        "top_runs": [
            {"run_id": rid, "objective": float(v), "value": plain(x), "at_edge": bool(e)}
            for rid, v, x, e in zip(
                top_rows["run_id"], top_rows["value"], values[:k], at_edge[:k], strict=True
            )
        ],
    }
    side = "lower" if edge == "low" else "upper"
    title = (
        f"{param.name}: {n_top_at_edge} of the best {k} runs by {objective.metric} sit at the {side} edge "
        f"of its {'declared' if source == 'declared' else 'searched'} range "
        f"({param.name} = {value_text(edge_value)})"
    )
    return {
        "title": title,
        "run_ids": edge_ids,
        "evidence": evidence,
        "key": f"{param.name}:{edge}",
        "severity": "low" if natural else None,
    }
