"""SSP003 duplicate-configs: runs that repeat another run's config exactly.

What: runs grouped by the values of every non-constant param (missing values compare equal to each
other, as a conditional param absent in both runs). When the sweep has a seed param (seed, data_seed,
random_state, ...), the seed is part of the config: runs that differ only in their seed are deliberate
repeats and are not reported; runs with the same seed too are duplicates. When there is no seed param,
identical params mean a duplicate. Runs that crashed, failed or were killed are left out: a rerun after a
crash is a retry, not a duplicate. One finding lists every group of two or more runs, with its config,
runs and states (a param a run does not have, and an objective a run does not have, are null). When no
param other than a seed varies with a value in some compared run (no params, only constant ones, or
columns that are empty in every run), nothing says two runs are the same experiment: nothing is
reported.

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

import pandas as pd

from reportgen.detectors.base import Context
from reportgen.detectors.configs import config_params, objective_table, plain, seed_params
from reportgen.findings import Finding
from reportgen.states import FAILED_STATES
from reportgen.sweep import Sweep


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    runs = sweep.runs
    pool = runs[~runs["state"].isin(FAILED_STATES)]
    if len(pool) < 2:
        return []
    config = [p for p in config_params(sweep) if pool[p].notna().any()]
    if not config:
        return []  # no param with a value varies: nothing says two runs are the same experiment
    seeds = seed_params(sweep)
    keys = config + seeds
    # NaN != NaN in a plain groupby key; dropna=False keeps missing values as their own level
    sizes = pool.groupby(keys, dropna=False, sort=False)["run_id"].transform("size")
    group_no = pool.groupby(keys, dropna=False, sort=True).ngroup()
    dup = pool[sizes.to_numpy() > 1].assign(_group=group_no[sizes > 1].to_numpy())
    if dup.empty:
        return []
    objective = sweep.schema.objective
    dup = dup.assign(run_id=dup["run_id"].astype(str), state=dup["state"].astype(str))
    table = objective_table(sweep, rankable_only=False)
    by_group = dup.groupby("_group", sort=True)
    frame = pd.DataFrame({"run_ids": by_group["run_id"].agg(list), "states": by_group["state"].agg(list)})
    if table is not None:
        # a run without a finite objective is not in the table: its objective is absent (None)
        value = table.set_index("run_id")["value"].to_dict()
        objective_of = [plain(value[rid]) if rid in value else None for rid in dup["run_id"]]
        column = pd.Series(objective_of, index=dup.index, dtype=object)  # keeps None, not NaN
        frame["objective"] = dup.assign(_v=column).groupby("_group", sort=True)["_v"].agg(list)
    first = by_group.head(1).set_index("_group")[keys].reindex(frame.index).astype(object)
    frame["config"] = [
        {k: None if pd.isna(v) else plain(v) for k, v in record.items()}  # unset param: absent
        for record in first.to_dict("records")
    ]
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
