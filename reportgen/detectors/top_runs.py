"""RNK001 top-runs: the best runs by the objective, with their state and length.

What: the best `k` runs by the sweep's objective (its direction decides best), over every run with a
finite objective value whatever its state, ties broken by run id. Each entry gives the rank, run id and
name, state, logged steps and last step, and the objective value. A run that did not finish (crashed,
failed, killed, pruned, running, queued) keeps its place in the ranking but is marked `complete: false`
with the note "its best is from an incomplete run": its value was reached before it stopped and is not
comparable with a finished run's final value. Always fires when there is an objective and at least one
run with a value; it is information, not a problem.

Why it matters: the report's headline ("the best config reached X") must name runs, their state and how
long they trained, so a killed run's early value is not sold as the sweep's result and the fact-checker
has the ranking to check "best" and "top 3" claims against.

Thresholds: `k` (default 5): how many runs to list.

Known false positives: none as such (it always reports); an objective inferred from metric names may not
be the one the sweep optimised (`--objective` fixes it), and runs of unknown state are not marked
incomplete, since the export does not say.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from reportgen.detectors.base import Context
from reportgen.detectors.configs import INCOMPLETE_STATES, objective_table
from reportgen.findings import Finding
from reportgen.sweep import Sweep

INCOMPLETE_NOTE = "its best is from an incomplete run"


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    k: int = Field(default=5, ge=1, description="how many runs to list")


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    t: Thresholds = ctx.thresholds
    table = objective_table(sweep, rankable_only=False)
    objective = sweep.schema.objective
    if table is None or objective is None or table.empty:
        return []
    top = table.iloc[: t.k]
    runs = sweep.runs.assign(run_id=sweep.runs["run_id"].astype(str)).set_index("run_id")
    meta = runs.loc[top["run_id"], ["name", "steps"]]
    entries = []
    for rank, (rid, state, last, value, name, steps) in enumerate(
        zip(
            top["run_id"],
            top["state"],
            top["last_step"],
            top["value"],
            meta["name"].astype(str),
            meta["steps"].to_numpy(dtype="float64"),
            strict=True,
        ),
        start=1,
    ):
        complete = state not in INCOMPLETE_STATES
        entry = {
            "rank": rank,
            "run_id": rid,
            "name": name,
            "state": state,
            "steps": None if np.isnan(steps) else float(steps),
            "last_step": None if np.isnan(last) else float(last),
            "value": float(value),
            "complete": complete,
        }
        if not complete:
            entry["note"] = INCOMPLETE_NOTE
        entries.append(entry)
    incomplete = [e["run_id"] for e in entries if not e["complete"]]
    evidence = {
        "objective": objective.metric,
        "direction": objective.direction,
        "objective_source": objective.source,
        "k": t.k,
        "n_ranked": len(table),
        "n_runs": len(sweep.runs),
        "top": entries,
        "incomplete_run_ids": incomplete,
    }
    best = entries[0]
    title = (
        f"top {len(entries)} of {len(table)} runs by {objective.metric} ({objective.direction}): "
        f"best is run {best['run_id']} ({best['state']})"
    )
    if incomplete:
        title += f"; {len(incomplete)} of them did not finish"
    return [ctx.finding(title=title, run_ids=[e["run_id"] for e in entries], evidence=evidence, key="top")]
