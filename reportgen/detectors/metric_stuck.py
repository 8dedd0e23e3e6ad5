"""MET001 metric-stuck: a metric that is the same in every run, or an accuracy stuck at chance level.

What: for every metric with a known goal (a loss, an accuracy, a score: counters such as `iter` or a
logged `lr` have none and are skipped), two checks on its per-run value (the runs table's summary; the
last finite logged value when the metric exists only in the history):
- `constant`: at least `min_runs` runs have a value and all values are equal within
  `constant_tolerance` (relative), e.g. MRR = 0 everywhere. When the history has the metric, the
  evidence says whether every logged value of every run is that same value too.
- `chance`: an accuracy (name with acc/accuracy) within `chance_margin` of 1/num_classes when the
  number of classes is known (0.1 on 10 classes); values above 1 are read as percent. One finding per
  metric lists the runs at chance; it is high severity when every run is there, medium otherwise (some
  configs never learned). A constant value at chance is reported once, as chance.

Why it matters: a metric identical across different hyperparameters is not measuring the model (a
logging bug, a metric computed on the wrong split or an empty batch, labels all one class), and a
classifier at chance did not learn at all: every comparison made on that metric is noise.

Thresholds: `min_runs` (default 3): runs with a value needed before "the same in every run" means
anything. `constant_tolerance` (default 1e-6): relative spread (max - min over the largest magnitude)
under which values count as equal, so float formatting noise does not hide a stuck metric.
`chance_margin` (default 0.02): absolute distance from 1/num_classes (in fraction units) within which an
accuracy is at chance; 0.08 to 0.12 on 10 classes, 0.48 to 0.52 on 2.

Known false positives: a metric that is constant by design (a reported dataset size under a metric-like
name, a score clipped at its bound by every good config, such as accuracy 1.0 on an easy task);
imbalanced classes, where the chance accuracy is the majority-class share and not 1/num_classes;
top-k accuracies, whose chance level is k/num_classes (only names with top5/top_5 are skipped).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from reportgen.detectors.base import Context
from reportgen.detectors.configs import plain, value_text
from reportgen.detectors.curves import curve_stats
from reportgen.findings import Finding
from reportgen.sweep import Sweep

_ACCURACY = re.compile(r"acc(?:uracy)?(?![a-z])", re.IGNORECASE)
_TOP_K = re.compile(r"top[-_]?(?:[2-9]|\d\d)", re.IGNORECASE)


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min_runs: int = Field(default=3, ge=2, description="runs with a value needed to call a metric constant")
    constant_tolerance: float = Field(
        default=1e-6, ge=0, description="relative spread under which values count as equal"
    )
    chance_margin: float = Field(
        default=0.02, gt=0, lt=0.5, description="absolute distance from 1/num_classes that is at chance"
    )


def detect(sweep: Sweep, ctx: Context) -> list[Finding]:
    t: Thresholds = ctx.thresholds
    findings = []
    stats = curve_stats(sweep, ctx.cache)
    in_history = set(stats.index.get_level_values("metric")) if len(stats) else set()
    for spec in sweep.schema.metrics:
        if spec.goal is None:
            continue
        values, source = _values(sweep, stats, spec.name, in_history)
        if values.empty:
            continue
        found = _chance(sweep, spec.name, values, t) or _constant(
            sweep, stats, spec.name, values, t, in_history
        )
        if found is not None:
            found["evidence"]["source"] = source
            findings.append(ctx.finding(**found))
    return findings


def _values(sweep: Sweep, stats: pd.DataFrame, metric: str, in_history: set[str]) -> tuple[pd.Series, str]:
    """Finite per-run values of `metric`, indexed by run id (summary first, else last finite logged)."""
    if metric in sweep.runs.columns:
        values = pd.to_numeric(sweep.runs[metric], errors="coerce").astype("float64")
        values.index = sweep.runs["run_id"].astype(str)
        finite = values[np.isfinite(values.to_numpy())]
        if not finite.empty:
            return finite, "summary"
    if metric in in_history:
        h = sweep.history
        part = h[(h["metric"] == metric) & np.isfinite(h["value"].to_numpy())]
        last = part.groupby(part["run_id"].astype(str), observed=True, sort=True)["value"].last()
        return last.astype("float64"), "history"
    return pd.Series(dtype="float64"), "none"


def _constant(
    sweep: Sweep,
    stats: pd.DataFrame,
    metric: str,
    values: pd.Series,
    t: Thresholds,
    in_history: set[str],
) -> dict[str, Any] | None:
    if len(values) < t.min_runs:
        return None
    lo, hi = float(values.min()), float(values.max())
    scale = max(abs(lo), abs(hi))
    if hi - lo > t.constant_tolerance * scale:
        return None
    evidence: dict[str, Any] = {
        "metric": metric,
        "check": "constant",
        "value": lo if lo == hi else None,
        "min": lo,
        "max": hi,
        "n_runs_with_value": len(values),
        "n_runs": len(sweep.runs),
        "constant_tolerance": t.constant_tolerance,
    }
    if metric in in_history:
        logged = stats.xs(metric, level="metric")
        logged = logged[logged["finite_n"] > 0]
        evidence["history_min"] = float(logged["min"].min())
        evidence["history_max"] = float(logged["max"].max())
        evidence["history_constant"] = bool(
            logged["max"].max() - logged["min"].min() <= t.constant_tolerance * scale
        )
    what = f"= {value_text(lo)}" if lo == hi else f"between {value_text(lo)} and {value_text(hi)}"
    return {
        "title": f"{metric} is the same in all {len(values)} runs that report it ({metric} {what})",
        "run_ids": values.index.tolist(),
        "evidence": evidence,
        "key": f"{metric}:constant",
    }


def _chance(sweep: Sweep, metric: str, values: pd.Series, t: Thresholds) -> dict[str, Any] | None:
    k = sweep.schema.num_classes
    if k is None or k < 2 or not _ACCURACY.search(metric) or _TOP_K.search(metric):
        return None
    percent = bool(values.max() > 1.0)
    if (percent and values.max() > 100.0) or values.min() < 0.0:
        return None  # not an accuracy in [0, 1] or [0, 100]
    unit = 100.0 if percent else 1.0
    chance = unit / k
    distance = (values - chance).abs()
    at = values[distance <= t.chance_margin * unit]
    if at.empty:
        return None
    n, n_all = len(at), len(values)
    everywhere = n == n_all
    title = f"{metric} is at chance level (1/{k} classes) in " + (
        f"all {n} runs that report it" if everywhere else f"{n} of {n_all} runs that report it"
    )
    return {
        "title": title,
        "run_ids": at.index.tolist(),
        "evidence": {
            "metric": metric,
            "check": "chance",
            "num_classes": k,
            "num_classes_source": sweep.schema.num_classes_source,
            "chance_level": chance,
            "percent": percent,
            "chance_margin": t.chance_margin,
            "n_at_chance": n,
            "n_runs_with_value": n_all,
            "constant": bool(values.max() == values.min()),
            "runs": [{"run_id": rid, "value": plain(v)} for rid, v in at.items()],
        },
        "key": f"{metric}:chance",
        "severity": None if everywhere else "medium",
    }
