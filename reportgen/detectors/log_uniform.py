"""SSP001 log-scale-sampled-uniformly: a positive param spanning two or more decades whose values were
drawn uniformly on the linear scale, so its low decades were hardly searched.

What: for every non-constant numeric or int param (not a seed) with only positive values whose range
(declared bounds when known, else the observed min and max) spans at least `min_decades` decades, the
share of runs below the range's geometric midpoint sqrt(low * high): log-uniform sampling puts half of the
runs there, linear-uniform sampling about 10^(-decades/2) of them (9% over two decades). The param is
reported when that share is at most `max_low_share` and a one-sided binomial test against one half gives
p below `max_p_value`, with at least `min_runs` runs. Every run that has a value counts (sampling
happens before any outcome). The evidence also gives the lowest decade's share against its expectation
under both schemes (1/decades log-uniform; 9 * low / (high - low) linear). A declared linear
distribution (a W&B `uniform`, an Optuna float without `log=True`) over two or more decades is reported
from the declaration alone, whatever the run count, and the evidence names it; a declared log
distribution is trusted and never reported.

Why it matters: learning rates, weight decays and regularisation strengths act multiplicatively; drawn
uniformly over 1e-5..1e-1, 90% of the runs land in the top decade and the region below 1e-2, where
good values often are, gets a handful of runs, so the sweep cannot say whether it is better there.
`ParamSpec.log_scale` only says a param's natural axis is logarithmic, not how it was sampled, so it is
not used as evidence here.

Thresholds: `min_decades` (default 2.0): range in decades (log10 of high / low) from which a log scale is
expected. `max_low_share` (default 0.25): highest share of runs below the geometric midpoint that still
counts as linear sampling (log-uniform expects 0.5, linear-uniform 0.09 over two decades). `max_p_value`
(default 0.01): one-sided binomial p-value, against a share of one half, needed before the observed
share is trusted. `min_runs` (default 10): runs with a value needed before the observed values are judged.

Known false positives: params whose natural scale is linear although they span decades (a batch size
grid of 16..2048 drawn uniformly on purpose, an integer count of layers starting at 1); ranges that start
at a tiny positive value standing in for zero (weight decay 1e-8..1e-2); adaptive samplers (TPE, Bayesian
optimisation) that concentrate late trials in the top decade because it is better there.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from reportgen.detectors.base import Context
from reportgen.detectors.configs import binomial_cdf, numeric_params, value_text
from reportgen.findings import Finding
from reportgen.sweep import ParamSpec, Sweep

# declared distributions that sample linearly (W&B names, Optuna's float/int without log)
_LINEAR_KINDS = {
    "uniform",
    "q_uniform",
    "int_uniform",
    "float",
    "int",
    "discrete_uniform",
    "normal",
    "q_normal",
}


_EPS = 1e-9  # log10(0.01 / 0.0001) is 1.9999999999999996 in floats


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min_decades: float = Field(default=2.0, gt=0, description="range in decades from which log is expected")
    max_low_share: float = Field(
        default=0.25, gt=0, lt=0.5, description="highest share below the geometric midpoint that is linear"
    )
    max_p_value: float = Field(
        default=0.01, gt=0, lt=1, description="one-sided binomial p-value against a share of one half"
    )
    min_runs: int = Field(
        default=10, ge=2, description="runs with a value needed to judge the sampled values"
    )


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    t: Thresholds = ctx.thresholds
    findings = []
    for param in numeric_params(sweep):
        found = _check(sweep, param, t)
        if found is not None:
            findings.append(ctx.finding(**found, key=param.name))
    return findings


def _check(sweep: Sweep, param: ParamSpec, t: Thresholds) -> dict[str, Any] | None:
    values = pd.to_numeric(sweep.runs[param.name], errors="coerce").to_numpy(dtype="float64")
    values = values[np.isfinite(values)]
    if values.size == 0 or (values <= 0).any():
        return None
    declared = param.declared
    declared_log = declared is not None and (bool(declared.log) or "log" in declared.kind.lower())
    if declared_log:
        return None
    low, high = float(values.min()), float(values.max())
    bounds_declared = False
    if declared is not None and declared.low is not None and declared.high is not None:
        low, high, bounds_declared = float(declared.low), float(declared.high), True
    if low <= 0 or high <= low:
        return None
    decades = math.log10(high / low)
    if decades < t.min_decades - _EPS:
        return None
    declared_linear = declared is not None and declared.kind.lower() in _LINEAR_KINDS and bounds_declared
    n = int(values.size)
    midpoint = math.sqrt(low * high)
    n_below = int((values < midpoint).sum())
    share_below = n_below / n
    p_value = binomial_cdf(n_below, n, 0.5)
    by_data = n >= t.min_runs and share_below <= t.max_low_share and p_value < t.max_p_value
    if not (by_data or declared_linear):
        return None
    decade_top = low * 10.0
    n_lowest = int((values <= decade_top).sum())
    evidence = {
        "param": param.name,
        "n_runs_with_value": n,
        "low": low,
        "high": high,
        "range_source": "declared" if bounds_declared else "observed",
        "decades": decades,
        "geometric_midpoint": midpoint,
        "n_below_midpoint": n_below,
        "share_below_midpoint": share_below,
        "expected_share_below_midpoint_log_uniform": 0.5,
        "expected_share_below_midpoint_linear_uniform": (midpoint - low) / (high - low),
        "p_value_vs_log_uniform": p_value,
        "lowest_decade_upper": decade_top,
        "n_lowest_decade": n_lowest,
        "share_lowest_decade": n_lowest / n,
        "expected_share_lowest_decade_log_uniform": 1.0 / decades,
        "expected_share_lowest_decade_linear_uniform": min(1.0, 9.0 * low / (high - low)),
        "declared_distribution": None if declared is None else declared.kind,
        "declared_log": None if declared is None else declared.log,
        "decided_by": "declared and data"
        if declared_linear and by_data
        else "declared"
        if declared_linear
        else "data",
    }
    # the decades and the midpoint are computed: evidence only; the bounds are values as exported/declared
    title = (
        f"{param.name} ranges from {value_text(low)} to {value_text(high)} but "
        + (f"is declared {declared.kind} (linear); " if declared_linear and declared is not None else "")
        + f"{n_below} of {n} runs sampled below its geometric midpoint (log-uniform sampling puts half there)"
    )
    return {"title": title, "run_ids": [], "evidence": evidence}
