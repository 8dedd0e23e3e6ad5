"""Which runs have which issues, from the findings of the run-health and curve detectors that ran earlier.

The hyperparameter-effect detectors (param-issue-rate, interaction-risk, group-stability) do not judge runs
themselves: a run "has an issue" when an earlier per-run detector named it in a finding. Only findings
about runs being unhealthy count (`ISSUE_TYPES`); informational findings (top runs, group tables,
importances) never do, and neither does underfitting: "still improving at the end, train longer" is
advice about the budget, not a run gone wrong. A pruned run is not an issue: crashed-run reports
crashed, failed and killed runs (and runs stuck in `running` whose process is gone), not runs a
scheduler stopped on purpose.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from reportgen.findings import Finding
from reportgen.states import comparable_mask
from reportgen.sweep import Sweep

# Finding names of per-run issue detectors, in the order their columns appear.
ISSUE_TYPES: tuple[str, ...] = (
    "nan-or-inf-metric",
    "crashed-run",
    "short-run",
    "divergence",
    "loss-spike",
    "plateau",
    "overfitting",
    "bad-initial-loss",
    "metric-stuck",
)


def is_issue(finding: Finding) -> bool:
    """A finding that marks its runs unhealthy: a per-run issue type, except short-run's report of pruned
    runs (a scheduler stopping a trial on purpose is the sweep working, not failing)."""
    return finding.name in ISSUE_TYPES and finding.evidence.get("kind") != "pruned"


def run_issues(sweep: Sweep, prior: Iterable[Finding]) -> pd.DataFrame:
    """One row per run (index `run_id`, in runs order), one bool column per issue type found among
    `prior` (in `ISSUE_TYPES` order; types nobody reported have no column), plus `any`."""
    index = pd.Index(sweep.runs["run_id"].astype(str).to_numpy(), name="run_id")
    named: dict[str, set[str]] = {}
    for finding in prior:
        if is_issue(finding):
            named.setdefault(finding.name, set()).update(finding.run_ids)
    # one hashed membership test per issue type in Arrow (pandas' isin on text walks the ids in Python)
    ids = pa.array(index.to_numpy(dtype=object), type=pa.string())
    columns = {
        name: pc.is_in(ids, value_set=pa.array(list(named[name]), type=pa.string())).to_numpy(
            zero_copy_only=False
        )
        for name in ISSUE_TYPES
        if name in named
    }
    out = pd.DataFrame(columns, index=index, dtype=bool)
    out["any"] = out.any(axis=1) if columns else False
    return out.astype(bool)


def completed_runs(sweep: Sweep) -> tuple[pd.Series, str]:
    """Runs whose objective can be compared (`states.comparable_mask`) and the rule used."""
    return comparable_mask(sweep.runs["state"])
