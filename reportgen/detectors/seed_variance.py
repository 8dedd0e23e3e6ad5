"""SSP005 seed-variance: the same config run with different seeds disagrees as much as configs differ.

What: when the sweep has a seed param (seed, data_seed, random_state, ...), rankable runs (finished or
unknown state) with a finite objective are grouped by every other non-constant param; configs with at
least two runs are replicated. Over at least `min_configs` replicated configs it compares the pooled
within-config standard deviation of the objective (each config's variance weighted by its degrees of
freedom) with the standard deviation of the config means (the between-config spread). Two findings:
- `sweep`: the within-config std is at least `max_ratio` times the between-config spread: on this
  objective the sweep mostly measured seed noise, and its ranking of configs is not to be trusted.
- `top`: the best config (by mean) leads the runner-up by less than `top_gap_stds` pooled within-config
  stds: the winner is not distinguishable from the second at this number of seeds (low severity).
Without a seed param nothing is reported: columns such as the FC-Net grid's `val_loss_seed0..3` are
repeats stored side by side in one run, not seeds as runs.

Why it matters: a sweep picks the config with the best single number; if a config's seeds scatter as
widely as the configs do, that pick is largely luck and will not reproduce. The usual remedies are more
seeds per config, a less noisy objective (a mean over the last evaluations rather than the final one) or
a larger validation set.

Thresholds: `max_ratio` (default 1.0): the within/between ratio from which the sweep finding fires
("seeds disagree more than configs differ"). `top_gap_stds` (default 1.0): the best config's lead over
the second, in pooled within-config stds, below which the top finding fires. `min_configs` (default 3):
replicated configs needed for a between-config spread.

Known false positives: configs that genuinely do not matter (an ablation whose arms are all equivalent is
a result, not noise); a mix of seeds and another repeat axis (data subsample, fold) recorded under a
seed-like name; params missing from the export, which merge distinct configs into one and inflate the
within-config spread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from reportgen.detectors.base import Context
from reportgen.detectors.configs import config_params, objective_table, seed_params
from reportgen.findings import Finding
from reportgen.sweep import Sweep


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_ratio: float = Field(default=1.0, gt=0, description="within/between std ratio from which it fires")
    top_gap_stds: float = Field(
        default=1.0, ge=0, description="best config's lead over the second, in within-config stds"
    )
    min_configs: int = Field(default=3, ge=2, description="replicated configs needed")


@dataclass(frozen=True)
class SeedSpread:
    """Per-config statistics of the objective over seeds, and the pooled comparison."""

    configs: pd.DataFrame  # one row per replicated config, best mean first: n, mean, std, min, max, run_ids
    params: list[str]
    seeds: list[str]
    within_std: float
    between_std: float

    @property
    def ratio(self) -> float:
        return self.within_std / self.between_std if self.between_std > 0 else float("inf")


def seed_spread(sweep: Sweep) -> SeedSpread | None:
    """The within- and between-config spread of the objective, or None when it cannot be measured (no
    objective, no seed param, no other varying param, fewer than two replicated configs)."""
    seeds = seed_params(sweep)
    params = config_params(sweep)
    table = objective_table(sweep)
    if not seeds or not params or table is None or table.empty:
        return None
    runs = sweep.runs.assign(run_id=sweep.runs["run_id"].astype(str)).set_index("run_id")
    frame = runs.loc[table["run_id"], params + seeds].reset_index()
    frame["value"] = table["value"].to_numpy()
    grouped = frame.groupby(params, dropna=False, sort=False)
    stats = grouped["value"].agg(n="size", mean="mean", var="var", min="min", max="max")  # var: ddof 1
    stats["run_ids"] = grouped["run_id"].agg(list)
    stats = stats[stats["n"] >= 2]
    if len(stats) < 2:
        return None
    dof = stats["n"] - 1
    within = float(np.sqrt((stats["var"] * dof).sum() / dof.sum()))
    between = float(stats["mean"].std(ddof=1))
    objective = sweep.schema.objective
    ascending = objective is None or objective.direction == "min"
    stats = stats.assign(std=np.sqrt(stats["var"])).sort_values("mean", ascending=ascending, kind="stable")
    return SeedSpread(stats.reset_index(), params, seeds, within, between)


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    t: Thresholds = ctx.thresholds
    spread = seed_spread(sweep)
    if spread is None or len(spread.configs) < t.min_configs:
        return []
    objective = sweep.schema.objective
    assert objective is not None  # seed_spread needs it
    configs = spread.configs
    base: dict[str, Any] = {
        "objective": objective.metric,
        "direction": objective.direction,
        "seed_params": spread.seeds,
        "config_params": spread.params,
        "n_replicated_configs": len(configs),
        "n_runs": int(configs["n"].sum()),
        "within_config_std": spread.within_std,
        "between_config_std": spread.between_std,
        "ratio": spread.ratio,
    }
    findings = []
    if spread.ratio >= t.max_ratio:
        evidence = {
            **base,
            "max_ratio": t.max_ratio,
            "configs": _records(configs, spread.params),
        }
        # the stds, their ratio and the threshold are computed or configured numbers: evidence only
        title = (
            f"{objective.metric} varies across the seeds of one config about as much as across the "
            f"{len(configs)} replicated configs ({int(configs['n'].sum())} runs; the within-config std "
            "over the between-config std is at or above the max_ratio threshold)"
        )
        run_ids = [rid for ids in configs["run_ids"] for rid in ids]
        findings.append(ctx.finding(title=title, run_ids=run_ids, evidence=evidence, key="sweep"))
    best, second = configs.iloc[0], configs.iloc[1]
    gap = abs(float(best["mean"]) - float(second["mean"]))
    if spread.within_std > 0 and gap < t.top_gap_stds * spread.within_std:
        evidence = {
            **base,
            "top_gap_stds": t.top_gap_stds,
            "gap": gap,
            "gap_in_within_stds": gap / spread.within_std,
            "best": _records(configs.iloc[:1], spread.params)[0],
            "second": _records(configs.iloc[1:2], spread.params)[0],
        }
        title = (
            f"the best config by mean {objective.metric} ({int(best['n'])} seeds) leads the second "
            f"({int(second['n'])} seeds) by less than the seed-to-seed std"
        )
        run_ids = list(best["run_ids"]) + list(second["run_ids"])
        findings.append(
            ctx.finding(title=title, run_ids=run_ids, evidence=evidence, key="top", severity="low")
        )
    return findings


def _records(configs: pd.DataFrame, params: list[str]) -> list[dict[str, Any]]:
    """One evidence record per config: its param values (missing as None) and its objective stats."""
    values = configs[params].astype(object)
    config = values.where(values.notna(), None).to_dict("records")
    stats = configs[["n", "mean", "std", "min", "max", "run_ids"]].to_dict("records")
    return [{"config": c, **st} for c, st in zip(config, stats, strict=True)]
