"""How long a run was meant to be: the reference length that short-run and early-stopping-idle compare
each run's last step with.

The planned length comes from a param that names it (epochs, max_iters, max_steps, ...) when its values
are on the same axis as the logged steps: the finished runs must end near it (median ratio of last step to
planned length within `COMPARABLE`), which accepts 0- and 1-based step counters and rejects a `max_iters`
of 5000 when the tracker counts 522 logging steps. Otherwise the reference is the typical length, the
median last step of the finished runs. An export without run states (every run `unknown`, as in a W&B
chart export) has no finished runs; all its runs are the reference then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from reportgen.sweep import Sweep

PLANNED_NAMES = frozenset(
    {
        "epochs",
        "num_epochs",
        "n_epochs",
        "max_epochs",
        "total_epochs",
        "num_train_epochs",
        "max_iters",
        "max_iter",
        "num_iters",
        "n_iters",
        "n_iter",
        "iterations",
        "max_steps",
        "num_steps",
        "n_steps",
        "total_steps",
        "train_steps",
        "training_steps",
    }
)
COMPARABLE = (0.8, 1.25)


@dataclass(frozen=True)
class Reference:
    """The reference length of every run (`per_run`, aligned with `sweep.runs`) and where it came from."""

    source: Literal["planned", "typical"]
    per_run: np.ndarray
    param: str | None
    typical: float
    n_finished: int
    reference_state: str = "finished"


def planned_param_names(sweep: Sweep) -> list[str]:
    """Numeric params whose name (last dotted or slashed part, any case) says it is the planned length."""
    out = []
    for p in sweep.schema.params:
        leaf = p.name.replace("/", ".").rsplit(".", 1)[-1].lower()
        if p.kind in ("numeric", "int") and leaf in PLANNED_NAMES and p.name in sweep.runs.columns:
            out.append(p.name)
    return out


def reference_length(sweep: Sweep, min_finished: int) -> Reference | None:
    """The reference length, or None with fewer than `min_finished` finished runs that have a last step
    (`n_finished` counts the reference runs: the unknown-state ones when no run has a known state)."""
    runs = sweep.runs
    last = runs["last_step"].to_numpy(dtype="float64")
    states = runs["state"].astype(str)
    # an export without states (all unknown) has no finished runs; its runs are the reference then
    reference_state = "unknown" if len(states) and (states == "unknown").all() else "finished"
    finished = (states == reference_state).to_numpy() & np.isfinite(last)
    n_finished = int(finished.sum())
    if n_finished < max(1, min_finished):
        return None
    typical = float(np.median(last[finished]))
    best: tuple[float, str, np.ndarray] | None = None
    for name in planned_param_names(sweep):
        planned = pd.to_numeric(runs[name], errors="coerce").to_numpy(dtype="float64")
        ok = finished & np.isfinite(planned) & (planned > 0)
        if not ok.any():
            continue
        ratio = float(np.median(last[ok] / planned[ok]))
        if COMPARABLE[0] <= ratio <= COMPARABLE[1]:
            distance = abs(np.log(ratio))
            if best is None or distance < best[0]:
                best = (distance, name, planned)
    if best is not None:
        _, name, planned = best
        # a run without its own planned value is compared with the typical length
        per_run = np.where(np.isfinite(planned) & (planned > 0), planned, typical)
        return Reference("planned", per_run, name, typical, n_finished, reference_state)
    if typical <= 0:
        return None
    return Reference("typical", np.full(len(runs), typical), None, typical, n_finished, reference_state)
