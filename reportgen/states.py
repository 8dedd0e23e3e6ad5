"""Canonical run states and the spellings each tracker uses for them.

Trackers disagree: W&B says finished/crashed/failed/killed/running, Optuna COMPLETE/PRUNED/FAIL/RUNNING/
WAITING, MLflow FINISHED/FAILED/KILLED/RUNNING/SCHEDULED, Ray TERMINATED/ERROR/RUNNING/PENDING/PAUSED.
Detectors reason about one closed set. `queued` and `unknown` extend DESIGN.md's six: a trial that never
started is not running (a stale-run detector would misfire), and an unrecognised spelling must stay
visible as itself (`state_raw`) rather than be guessed.
"""

from __future__ import annotations

from typing import Literal, get_args

import pandas as pd

State = Literal["finished", "crashed", "failed", "killed", "running", "pruned", "queued", "unknown"]
STATES: tuple[str, ...] = get_args(State)

# Why these choices: Ray's TERMINATED is a normal end; Ray's ERROR and Optuna's FAIL mean the trainable
# raised (or returned NaN), which is what W&B and MLflow call failed; W&B's crashed is the process dying.
SPELLINGS: dict[str, State] = {
    **dict.fromkeys(
        ["finished", "complete", "completed", "terminated", "success", "succeeded", "done", "ok"],
        "finished",
    ),
    **dict.fromkeys(["crashed", "crash", "lost"], "crashed"),
    **dict.fromkeys(["failed", "fail", "failure", "error", "errored"], "failed"),
    **dict.fromkeys(
        ["killed", "stopped", "cancelled", "canceled", "aborted", "interrupted", "preempted"], "killed"
    ),
    **dict.fromkeys(["running", "started", "in_progress", "active", "paused"], "running"),
    **dict.fromkeys(["pruned", "early_stopped", "early-stopped", "early stopped"], "pruned"),
    **dict.fromkeys(["waiting", "scheduled", "pending", "queued"], "queued"),
}


# Runs that ended without finishing: what crash and failure counts are made of. Pruned runs are not here:
# a scheduler stopping a trial on purpose is the sweep working.
FAILED_STATES: tuple[str, ...] = ("crashed", "failed", "killed")


def comparable_mask(states: pd.Series) -> tuple[pd.Series, str]:
    """Runs whose results can be ranked and compared: finished runs, or every run when the export has no
    run states at all (all `unknown`, as in a tabular benchmark). Returns the mask and the rule used."""
    text = states.astype(str)
    if len(text) and (text == "unknown").all():
        return pd.Series(True, index=states.index), "all runs: the export has no run states"
    return text.eq("finished"), "finished runs"


def canonical_states(raw: pd.Series) -> tuple[pd.Series, list[str]]:
    """Map raw state spellings (any case, any tracker) to the canonical set.

    Returns the canonical states as a categorical over `STATES` and one warning per unrecognised
    spelling (with its run count); such runs are kept with state `unknown`, never dropped.
    """
    text = raw.astype("string").str.strip()
    # Optuna's trials_dataframe writes "TrialState.COMPLETE" in some versions
    key = text.str.lower().str.replace(r"^trialstate\.", "", regex=True)
    mapped = key.map(SPELLINGS)
    warnings = []
    unknown = text[mapped.isna() & text.notna() & (text != "")]
    for spelling, count in unknown.value_counts().items():
        warnings.append(f"state {spelling!r} ({count} run(s)) is not a known state; kept as 'unknown'")
    states = mapped.fillna("unknown").astype(pd.CategoricalDtype(list(STATES)))
    return states, warnings
