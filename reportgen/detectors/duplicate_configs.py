"""SSP003 duplicate-configs: runs that repeat another run's config exactly.

What: runs grouped by the values of every non-constant param (missing values compare equal to each
other, as a conditional param absent in both runs). When the sweep has a seed param (seed, data_seed,
random_state, ...), the seed is part of the config: runs that differ only in their seed are deliberate
repeats and are not reported; runs with the same seed too are duplicates. When there is no seed param,
identical params mean a duplicate. Runs that crashed, failed or were killed are left out: a rerun after a
crash is a retry, not a duplicate. One finding lists every group of two or more runs, with its config,
runs and states.

Why it matters: a duplicate spends budget without adding information (a grid launched twice, a random
sampler over a small discrete space, a resumed agent re-running its queue), and a duplicated config
weighs twice in every bucket statistic and importance estimate. When its runs disagree on the objective,
that spread is the sweep's noise floor.

Thresholds: none; two runs with the same config are reported.

Known false positives: repeats meant as such when the seed is not recorded as a param (set in code or by
run index); params missing from the export (a config key the tracker did not log) make distinct configs
look identical; Optuna's TPE and CMA-ES legitimately propose the same point twice on coarse discrete
spaces.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from reportgen.detectors.base import Context
from reportgen.detectors.configs import config_params, objective_table, seed_params
from reportgen.findings import Finding
from reportgen.states import FAILED_STATES
from reportgen.sweep import Sweep


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    runs = sweep.runs
    if not sweep.schema.params:
        return []  # no params: nothing says two runs are the same experiment
    seeds = seed_params(sweep)
    keys = config_params(sweep) + seeds
    pool = runs[~runs["state"].isin(FAILED_STATES)]
    if len(pool) < 2:
        return []
    if keys:
        # NaN != NaN in a plain groupby key; dropna=False keeps missing values as their own level
        sizes = pool.groupby(keys, dropna=False, sort=False)["run_id"].transform("size")
        group_no = pool.groupby(keys, dropna=False, sort=True).ngroup()
    else:  # every param is constant: all runs share one config
        sizes = pd.Series(len(pool), index=pool.index)
        group_no = pd.Series(0, index=pool.index)
    dup = pool[sizes.to_numpy() > 1].assign(_group=group_no[sizes > 1].to_numpy())
    if dup.empty:
        return []
    objective = sweep.schema.objective
    dup = dup.assign(run_id=dup["run_id"].astype(str), state=dup["state"].astype(str))
    table = objective_table(sweep, rankable_only=False)
    by_group = dup.groupby("_group", sort=True)
    frame = pd.DataFrame({"run_ids": by_group["run_id"].agg(list), "states": by_group["state"].agg(list)})
    if table is not None:
        value = table.set_index("run_id")["value"].reindex(dup["run_id"]).to_numpy()
        frame["objective"] = (
            dup.assign(_v=_nullable(value).to_numpy()).groupby("_group", sort=True)["_v"].agg(list)
        )
    first = by_group.head(1).set_index("_group")[keys].reindex(frame.index).astype(object)
    frame["config"] = first.where(first.notna(), None).to_dict("records") if keys else [{}] * len(frame)
    frame["_size"] = frame["run_ids"].str.len()
    frame["_first"] = frame["run_ids"].str[0]
    frame = frame.sort_values(["_size", "_first"], ascending=[False, True], kind="stable")
    columns = ["config", "run_ids", "states"] + (["objective"] if table is not None else [])
    groups: list[dict[str, Any]] = frame[columns].to_dict("records")
    n_runs = int(frame["_size"].sum())
    n_extra = n_runs - len(groups)
    evidence = {
        "params": keys,
        "seed_params": seeds,
        "n_groups": len(groups),
        "n_runs_in_groups": n_runs,
        "n_extra_runs": n_extra,
        "n_runs_compared": len(pool),
        "objective": None if objective is None else objective.metric,
        "groups": groups,
    }
    seed_note = " including the seed" if seeds else ""
    title = (
        f"{n_runs} runs share {len(groups)} config{'s' if len(groups) != 1 else ''} exactly{seed_note} "
        f"({n_extra} extra run{'s' if n_extra != 1 else ''})"
    )
    run_ids = [rid for ids in frame["run_ids"] for rid in ids]
    return [ctx.finding(title=title, run_ids=run_ids, evidence=evidence, key="duplicates")]


def _nullable(values: np.ndarray) -> pd.Series:
    """Floats with missing values as None (JSON null), not NaN."""
    return pd.Series(values, dtype=object).where(~np.isnan(values), None)
