"""Shared pieces of the search-space and ranking detectors: which params define a config and which is a
seed, which runs may be ranked by the objective, and evidence values as plain Python (`plain`) and
title text (`value_text`).

Rankable runs follow `states.comparable_mask`: the finished ones, or every run when the export has no run
states at all (a tabular benchmark grid, a bare CSV marks every run unknown, and dropping them all would
leave nothing to rank). Runs known to be incomplete (crashed, failed, killed, pruned, running, queued)
are not rankable: their objective is an intermediate value.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from reportgen.detectors.stats import log_factorials
from reportgen.states import comparable_mask
from reportgen.sweep import ParamSpec, Sweep

INCOMPLETE_STATES = ("crashed", "failed", "killed", "pruned", "running", "queued")

# a seed is named so: seed, data_seed, train.seed, random_state, seed_2 (not "seedling", not "nseeds")
_SEED = re.compile(r"(?:^|[^a-z])(?:seed|random_state)(?:$|[^a-z])", re.IGNORECASE)


def is_seed(name: str) -> bool:
    """Whether a param name says it is a random seed."""
    return bool(_SEED.search(name))


def seed_params(sweep: Sweep) -> list[str]:
    """Non-constant params named as seeds."""
    return [p.name for p in sweep.schema.params if not p.constant and is_seed(p.name)]


def config_params(sweep: Sweep) -> list[str]:
    """The params that define a config: not a seed, present in the runs table, and varying, which
    includes a param with one value that some runs lack (a conditional param: set vs unset differ)."""
    runs = sweep.runs
    out = []
    for p in sweep.schema.params:
        if is_seed(p.name) or p.name not in runs.columns:
            continue
        missing = runs[p.name].isna()
        if not p.constant or (missing.any() and not missing.all()):
            out.append(p.name)
    return out


def numeric_params(sweep: Sweep) -> list[ParamSpec]:
    """Non-constant numeric or int params (not seeds) present in the runs table."""
    cols = set(sweep.runs.columns)
    return [
        p
        for p in sweep.schema.params
        if p.kind in ("numeric", "int") and not p.constant and not is_seed(p.name) and p.name in cols
    ]


def objective_table(sweep: Sweep, rankable_only: bool = True) -> pd.DataFrame | None:
    """Runs with a finite objective value, best first (ties by run id), as columns run_id, state,
    last_step, value; None when the sweep has no objective or its column is missing.

    `rankable_only` keeps comparable runs only (see the module docstring).
    """
    objective = sweep.schema.objective
    runs = sweep.runs
    if objective is None or objective.metric not in runs.columns:
        return None
    values = pd.to_numeric(runs[objective.metric], errors="coerce").astype("float64")
    keep = np.isfinite(values.to_numpy())
    if rankable_only:
        keep &= comparable_mask(runs["state"])[0].to_numpy()
    table = pd.DataFrame(
        {
            "run_id": runs["run_id"].astype(str).to_numpy()[keep],
            "state": runs["state"].astype(str).to_numpy()[keep],
            "last_step": runs["last_step"].to_numpy(dtype="float64")[keep],
            "value": values.to_numpy()[keep],
        }
    )
    ascending = objective.direction == "min"
    return table.sort_values(["value", "run_id"], ascending=[ascending, True], kind="stable").reset_index(
        drop=True
    )


def plain(value: Any) -> Any:
    """The one JSON-ready converter of the search-space, ranking and hyperparameter-effect detectors: numpy
    and pandas scalars become int/float/bool/str, NaN and inf floats stay floats (they are evidence; a
    Finding writes them as NaN/Infinity) and only an absent value (None, pd.NA, pd.NaT) becomes None.
    A caller that means "absent" by a NaN (a mean of nothing, a statistic not computed) says so itself."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def value_text(value: Any) -> str:
    """A param or metric value for a title, as the export writes it: integral numbers without a trailing
    .0 (20, not 20.0), other floats in full (Python's shortest round-trip repr: 0.1, 1e-05), never a
    numpy repr such as np.float64(0.1), and other values as their string."""
    value = plain(value)
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed in log space with shared log-factorials (no scipy)."""
    if k >= n:
        return 1.0
    if k < 0:
        return 0.0
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    lf = log_factorials(n)
    i = np.arange(k + 1)
    log_pmf = lf[n] - lf[i] - lf[n - i] + i * math.log(p) + (n - i) * math.log1p(-p)
    top = log_pmf.max()
    return float(min(1.0, math.exp(top) * np.exp(log_pmf - top).sum()))
