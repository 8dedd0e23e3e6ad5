"""RUN002 short-run: runs that ended far short of the sweep's planned or typical length.

What: runs whose last logged step is below `short_fraction` of their reference length. The reference is
the planned length when a param names it (epochs, num_epochs, n_epochs, max_epochs, max_iters, max_steps,
total_steps, ...) and its values are on the step axis (the finished runs end near it); otherwise the
typical length, the median last step of the finished runs (of all runs when the export has no run
states, every run `unknown`). Short runs are reported in up to three findings by what ended them:
`stopped` (finished or unknown state: the run exited early without saying so), `failed` (crashed,
failed or killed: where the failures ended), `pruned` (stopped by the sweep's pruner or scheduler:
intended, reported at low severity). Runs still running or queued are not short,
only unfinished. A finished run that ended short while the sweep declares early termination is likely
the scheduler's doing; that `stopped` finding is lowered to low severity and says so.

Why it matters: a run that ended at a quarter of its budget is compared with full-length runs in every
table and plot: its objective is an early value, not a result, and a config can look bad (or good)
only because it was cut short. A finished run that is silently short points at a bug (a data loader that
ran dry, an exception swallowed by an early-stopping callback).

Thresholds: `short_fraction` (default 0.5): a run is short when its last step is below this share of its
reference length, so 0-based step counters (19 of 20 epochs) and runs a few steps short are not
reported. `min_finished` (default 3): finished runs with a last step needed to trust a reference length
(the planned length is checked against them; the typical one is their median).

Known false positives: sweeps whose runs are meant to differ in length without a param saying so (a
budget drawn per run under an unrecognised name); multi-fidelity methods (Hyperband, ASHA) whose
schedulers mark stopped runs finished when the sweep config is not given; runs that early-stop on
purpose inside the training script.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from reportgen.detectors.base import Context
from reportgen.detectors.configs import value_text
from reportgen.detectors.run_length import Reference, reference_length
from reportgen.findings import Finding, Severity
from reportgen.states import FAILED_STATES
from reportgen.sweep import Sweep

# finding key -> (states, how the title says they ended)
_KINDS: dict[str, tuple[tuple[str, ...], str]] = {
    "stopped": (("finished", "unknown"), "that did not fail ended"),
    "failed": (FAILED_STATES, "that did not finish ended"),
    "pruned": (("pruned",), "pruned"),
}


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    short_fraction: float = Field(
        default=0.5, gt=0, lt=1, description="share of the reference length below which a run is short"
    )
    min_finished: int = Field(default=3, ge=1, description="finished runs needed to trust a reference length")


def short_runs(sweep: Sweep, t: Thresholds) -> tuple[pd.DataFrame, Reference | None]:
    """Short runs (run_id, state, last_step, reference, fraction), in runs-table order, and the reference."""
    ref = reference_length(sweep, t.min_finished)
    runs = sweep.runs
    if ref is None:
        return runs.iloc[0:0][["run_id", "state", "last_step"]].assign(reference=[], fraction=[]), None
    last = runs["last_step"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = last / ref.per_run
    ended = ~runs["state"].isin(("running", "queued")).to_numpy()
    mask = ended & np.isfinite(fraction) & (fraction < t.short_fraction)
    out = pd.DataFrame(
        {
            "run_id": runs["run_id"].astype(str).to_numpy()[mask],
            "state": runs["state"].astype(str).to_numpy()[mask],
            "last_step": last[mask],
            "reference": ref.per_run[mask],
            "fraction": fraction[mask],
        }
    )
    return out, ref


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    t: Thresholds = ctx.thresholds
    short, ref = short_runs(sweep, t)
    if ref is None or short.empty:
        return []
    findings = []
    scheduler = sweep.schema.early_termination
    for key, (states, how) in _KINDS.items():
        part = short[short["state"].isin(states)]
        if part.empty:
            continue
        n = len(part)
        by_state = {str(s): int(c) for s, c in part["state"].value_counts().sort_index().items() if c}
        evidence = {
            "kind": key,
            "reference_source": ref.source,
            "planned_param": ref.param,
            "typical_last_step": ref.typical,
            "n_finished_reference": ref.n_finished,
            "reference_state": ref.reference_state,
            "short_fraction": t.short_fraction,
            "n_runs": len(sweep.runs),
            "n_short": n,
            "by_state": by_state,
            "early_termination": scheduler,
            "runs": [
                {
                    "run_id": rid,
                    "state": state,
                    "last_step": float(last),
                    "reference_length": float(reference_len),
                    "fraction": float(frac),
                }
                for rid, state, last, reference_len, frac in part[
                    ["run_id", "state", "last_step", "reference", "fraction"]
                ].itertuples(index=False)
            ],
        }
        severity: Severity | None = None
        if key == "pruned":
            severity = "low"
        elif key == "stopped" and scheduler:
            severity = "low"
            evidence["likely_scheduler"] = True
        runs = f"{n} run{'s' if n != 1 else ''}"
        if key == "pruned":
            title = f"{runs} {'was' if n == 1 else 'were'} pruned short of {_reference_text(ref, part)}"
        else:
            title = f"{runs} {how} far short of {_reference_text(ref, part)}"
        if key == "failed" or (key == "stopped" and len(by_state) > 1):
            title += ": " + ", ".join(f"{c} {s}" for s, c in by_state.items())
        if key == "pruned":
            title += " (pruning is intended)"
        findings.append(
            ctx.finding(
                title=title, run_ids=part["run_id"].tolist(), evidence=evidence, key=key, severity=severity
            )
        )
    return findings


def _reference_text(ref: Reference, part: pd.DataFrame) -> str:
    if ref.source == "planned":
        planned = part["reference"].unique()
        return f"the planned {ref.param}" + (f" ({value_text(planned[0])})" if len(planned) == 1 else "")
    runs = "finished runs" if ref.reference_state == "finished" else "runs, none with a state"
    # the median itself is computed: it is in the evidence (typical_last_step), not in the title
    return f"the typical length (the median last step of {ref.n_finished} {runs})"
