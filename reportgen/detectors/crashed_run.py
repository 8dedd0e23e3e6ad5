"""RUN001 crashed-run: runs that crashed, failed or were killed, and runs stuck in `running`.

What: the runs whose state is crashed, failed or killed, with counts per state and the distribution of
the steps at which they ended ("8 of 10 crashes ended at step 2"); separately, runs still marked running
whose last activity (created + runtime) is long before the sweep's latest activity: stale runs whose
process is gone but whose tracker was never told.

Why it matters: failures waste budget and bias every comparison made on finished runs; a crash step shared
by most failures points at one cause (an OOM at the first evaluation, a data loader error at an epoch
boundary) rather than at the hyperparameters.

Thresholds: `stale_after_hours` (default 6): a running run is stale when the sweep's latest activity is
that much later than its own. `common_step_share` (default 0.5): the share of failed runs that must end at
one step for that step to be called out.

Known false positives: runs killed on purpose (a manual stop of a bad config); a queue that starts runs
late makes old running runs look stale only if their runtime stopped growing, which an export cannot show.
"""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from reportgen.detectors.base import Context
from reportgen.findings import Finding
from reportgen.states import FAILED_STATES
from reportgen.sweep import Sweep


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    stale_after_hours: float = Field(default=6.0, gt=0, description="hours behind the latest activity")
    common_step_share: float = Field(default=0.5, gt=0, le=1, description="share ending at one step")


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    t: Thresholds = ctx.thresholds
    runs = sweep.runs
    findings = []
    failed = runs[runs["state"].isin(FAILED_STATES)]
    if len(failed):
        by_state = {s: int(n) for s, n in failed["state"].value_counts().items() if n}
        ended = failed["last_step"].dropna()
        counts = ended.value_counts().sort_index()
        evidence: dict[str, object] = {
            "n_runs": len(runs),
            "n_failed": len(failed),
            "failed_rate": len(failed) / len(runs),
            "by_state": by_state,
            "end_steps": {_key(step): int(n) for step, n in counts.items()},
            "n_without_steps": int(failed["last_step"].isna().sum()),
        }
        if len(counts):
            top_step, top_n = counts.idxmax(), int(counts.max())
            if top_n / len(failed) >= t.common_step_share and top_n > 1:
                evidence["common_end_step"] = float(top_step)
                evidence["common_end_step_runs"] = top_n
        states = ", ".join(f"{n} {s}" for s, n in by_state.items())
        title = f"{len(failed)} of {len(runs)} runs failed ({states})"
        findings.append(
            ctx.finding(title=title, run_ids=failed["run_id"].tolist(), evidence=evidence, key="failed")
        )
    stale = _stale(runs, t.stale_after_hours)
    if len(stale):
        hours = stale["hours_behind"]
        evidence = {
            "n_stale": len(stale),
            "hours_behind": {rid: float(h) for rid, h in zip(stale["run_id"], hours, strict=True)},
            "stale_after_hours": t.stale_after_hours,
        }
        title = f"{len(stale)} run(s) still marked running long after the sweep's latest activity"
        findings.append(
            ctx.finding(title=title, run_ids=stale["run_id"].tolist(), evidence=evidence, key="stale")
        )
    return findings


def _stale(runs: pd.DataFrame, after_hours: float) -> pd.DataFrame:
    """Running runs whose created + runtime lies `after_hours` before the latest such time in the sweep."""
    created = runs["created"]
    if created.isna().all():
        return runs.iloc[0:0]
    runtime = pd.to_timedelta(runs["runtime_s"].fillna(0.0), unit="s")
    active_until = created + runtime
    latest = active_until.max()
    behind = (latest - active_until).dt.total_seconds() / 3600.0
    mask = (runs["state"] == "running") & (behind >= after_hours)
    return runs.loc[mask, ["run_id"]].assign(hours_behind=behind[mask].to_numpy())


def _key(step: float) -> str:
    """JSON object keys are text: integral steps without a trailing .0."""
    return str(int(step)) if float(step).is_integer() else repr(float(step))
