"""NAN001 nan-or-inf-metric: a metric logged NaN or +-inf in some runs.

What: for every metric, the runs where it became NaN or infinite, with the first step at which each run
logged a NaN, +inf or -inf (its onset). From the history when there is one; otherwise from the summary,
where +-inf is always reported and NaN only in runs that logged other metrics (a run that failed before
logging anything has no values, not NaN values).

Why it matters: a NaN or inf loss is the clearest sign of divergence (learning rate too high, bad
initialisation, fp16 overflow, a bug), and every later value of that run is meaningless. The onset step
separates "diverged at once" (initialisation, lr far too high) from "diverged late" (instability).

Thresholds: none on what is reported (a single non-finite logged value is); `max_runs` (default 200)
caps the per-run records in the evidence, earliest onset first, while counts stay exact.

Known false positives: metrics that are legitimately infinite or undefined for a while (a perplexity
logged before the first evaluation as inf, a ratio with a zero denominator at step 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from reportgen.detectors.base import Context
from reportgen.detectors.curves import curve_stats
from reportgen.findings import Finding
from reportgen.sweep import Sweep


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_runs: int = Field(
        default=200, ge=1, description="per-run records listed in evidence (earliest first)"
    )


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    stats = curve_stats(sweep, ctx.cache)
    findings = []
    history_metrics = set(stats.index.get_level_values("metric")) if len(stats) else set()
    names = sweep.schema.metric_names
    runs = sweep.runs.set_index("run_id")
    # per run, how many metrics it logged: counted once, so a 10,000-metric export is not quadratic
    logged = runs[names].notna().sum(axis=1).to_numpy() if names else np.zeros(len(runs), int)
    any_inf = dict(zip(names, np.isinf(runs[names].to_numpy(dtype="float64")).any(axis=0), strict=True))
    any_nan = dict(zip(names, runs[names].isna().any(axis=0).to_numpy(), strict=True))
    for metric in names:
        if metric not in history_metrics and not (any_inf[metric] or any_nan[metric]):
            continue  # nothing non-finite in the summary: skip the per-metric frames
        if metric in history_metrics:
            onsets = _from_history(stats.xs(metric, level="metric"))
            source = "history"
        else:
            onsets = _from_summary(runs, metric, logged)
            source = "summary"
        if onsets.empty:
            continue
        runs_with_metric = int(
            sweep.runs[metric].notna().sum()
            if source == "summary"
            else stats.xs(metric, level="metric").shape[0]
        )
        run_ids = onsets.index.tolist()
        evidence = {
            "metric": metric,
            "source": source,
            "n_runs": len(run_ids),
            "n_runs_with_metric": max(runs_with_metric, len(run_ids)),
            "runs": _records(onsets, ctx.thresholds.max_runs),
            "n_runs_listed": min(len(run_ids), ctx.thresholds.max_runs),
        }
        if source == "history":
            steps = onsets["first_bad_step"]
            evidence["onset_steps"] = sorted(float(v) for v in steps.unique())
            evidence["onset_step_counts"] = {
                _key(k): int(v) for k, v in steps.value_counts().sort_index().items()
            }
        title = f"{metric} became NaN or inf in {len(run_ids)} run" + ("s" if len(run_ids) != 1 else "")
        findings.append(ctx.finding(title=title, run_ids=run_ids, evidence=evidence, key=metric))
    return findings


def _from_history(stats: pd.DataFrame) -> pd.DataFrame:
    bad = stats[["nan_step", "posinf_step", "neginf_step"]]
    bad = bad[bad.notna().any(axis=1)]
    out = pd.DataFrame(
        {
            "first_bad_step": bad.min(axis=1),
            "first_nan_step": bad["nan_step"],
            "first_inf_step": bad[["posinf_step", "neginf_step"]].min(axis=1),
        }
    )
    out.index = out.index.astype(str)
    return out


def _from_summary(runs: pd.DataFrame, metric: str, logged: np.ndarray) -> pd.DataFrame:
    """Runs whose summary ``metric`` is inf, or NaN while the run logged some other metric."""
    values = runs[metric].to_numpy(dtype="float64")
    logged_other = (logged - ~np.isnan(values)) > 0
    bad = np.isinf(values) | (np.isnan(values) & logged_other)
    picked = runs.index[bad].astype(str)
    return pd.DataFrame({"summary_value": values[bad]}, index=picked)


def _records(onsets: pd.DataFrame, limit: int) -> list[dict[str, object]]:
    """Per-run evidence, earliest onset first, at most `limit` runs. Steps that never happened are None
    (JSON null); summary values stay floats, NaN and inf included."""
    ordered = onsets.sort_values(onsets.columns[0], kind="stable").head(limit)
    table = ordered.astype(object).where(ordered.notna() | ~ordered.columns.str.endswith("_step"), None)
    table.insert(0, "run_id", ordered.index.astype(str))
    return table.to_dict(orient="records")


def _key(step: float) -> str:
    """JSON object keys are text: integral steps without a trailing .0."""
    return str(int(step)) if float(step).is_integer() else repr(float(step))
