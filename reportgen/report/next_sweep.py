"""The next sweep: the searched space, changed only where a finding says so, as W&B YAML and Optuna code.

Rules, applied per param in this order (each change records the findings it rests on):

1. **Log scale.** A positive numeric range that ``log-scale-sampled-uniformly`` flags, that spans two or
   more decades, or that spans one decade and is named like a learning rate, weight decay or epsilon, is
   searched log-uniformly.
2. **Failing corners.** A bucket at the edge of a param's range whose issue rate is significantly higher
   than the rest (``param-issue-rate`` status ``elevated``) is cut off: the range ends where the bucket
   starts, or, for a level ("batch_size = 256"), at the next level inside.
3. **Best at the boundary.** When the best runs sit at an edge (``best-at-boundary``), the range is extended
   past that edge: by a factor of ``EDGE_FACTOR`` on a log axis, by half the range on a linear one
   (never past zero for a positive param).
4. **Narrowing.** A param the objective depends on (``param-importance`` with adjusted p <= 0.05) is
   narrowed to the span of the top runs, widened by ``NARROW_MARGIN`` (a factor on a log axis, a share of
   the span on a linear one), unless rule 2 or 3 already moved it.
5. **Failing levels.** A level of a categorical param where at least half of ``MIN_LEVEL_RUNS`` or more
   runs failed (``group-stability``) is dropped, if other levels remain.

Everything else is kept as searched (the declared distribution when the export has one, else the observed
range). Constant params are left out of the space. Interactions (``interaction-risk``) cannot be written in
a sweep config; they are listed as changes with no range effect so a reader sees them.
"""

from __future__ import annotations

import math
import re
from typing import Any

from reportgen.findings import Finding
from reportgen.report.model import NextSweep, ParamChange
from reportgen.sweep import ParamSpec, Sweep

EDGE_FACTOR = 10.0
NARROW_MARGIN = 2.0
MIN_LEVEL_RUNS = 3
_ALPHA = 0.05
# params searched on a log scale by convention once they span a decade
_SCALE_NAMES = re.compile(
    r"(?i)(?:^|_)(?:lr|learning_rate|weight_decay|wd|eps|epsilon|l2|reg|alpha|lambda)(?:$|_)"
)


def _num(value: float) -> str:
    return f"{value:.4g}"


def _space_of(p: ParamSpec) -> dict[str, Any] | None:
    d = p.declared
    if d is not None and d.choices:
        return {"values": list(d.choices)}
    if p.kind in ("categorical", "bool"):
        return None  # filled from the observed levels by the caller
    low = d.low if d is not None and d.low is not None else p.low
    high = d.high if d is not None and d.high is not None else p.high
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return None
    log = bool(d.log) if d is not None and d.log is not None else p.log_scale
    return {"low": float(low), "high": float(high), "log": log, "int": p.kind == "int"}


def _describe(space: dict[str, Any]) -> str:
    if "values" in space:
        return "{" + ", ".join(str(v) for v in space["values"]) + "}"
    scale = "log-uniform" if space["log"] else "uniform"
    return f"{scale} [{_num(space['low'])}, {_num(space['high'])}]"


def propose(sweep: Sweep, findings: list[Finding]) -> NextSweep | None:
    """The proposal, or None when the sweep has no varied param."""
    by_param: dict[str, list[Finding]] = {}
    for f in findings:
        param = f.evidence.get("param")
        if isinstance(param, str):
            by_param.setdefault(param, []).append(f)
    top = next((f for f in findings if f.name == "top-runs"), None)
    top_ids = [str(t["run_id"]) for t in (top.evidence.get("top", []) if top else [])]
    runs = sweep.runs.set_index(sweep.runs["run_id"].astype(str))
    space: dict[str, dict[str, Any]] = {}
    changes: list[ParamChange] = []
    for p in sweep.schema.params:
        if p.constant:
            continue
        current = _space_of(p)
        if current is None and p.kind in ("categorical", "bool") and p.name in runs:
            levels = sorted(runs[p.name].dropna().astype(str).unique().tolist())
            current = {"values": levels}
        if current is None:
            continue
        related = by_param.get(p.name, [])
        if "values" in current:
            current = _drop_failing_levels(p.name, current, related, changes)
        else:
            current = _numeric_rules(p, current, related, top_ids, runs, changes)
        space[p.name] = current
    for f in findings:
        if f.name == "interaction-risk":
            params = f.evidence.get("params", [])
            changes.append(
                ParamChange(
                    param=" x ".join(str(x) for x in params),
                    before="searched jointly",
                    after="avoid the combination (a sweep config cannot express it)",
                    why=f.title,
                    cites=[f.id],
                )
            )
    if not space:
        return None
    objective = sweep.schema.objective
    return NextSweep(
        changes=changes,
        space=space,
        wandb_yaml=_wandb_yaml(
            space, objective.metric if objective else None, objective.direction if objective else None
        ),
        optuna_space=_optuna_code(space),
    )


def _numeric_rules(
    p: ParamSpec,
    current: dict[str, Any],
    related: list[Finding],
    top_ids: list[str],
    runs: Any,
    changes: list[ParamChange],
) -> dict[str, Any]:
    log_flag = next((f for f in related if f.name == "log-scale-sampled-uniformly"), None)
    if log_flag is not None:
        current = {**current, "log": False}  # the runs show it was sampled uniformly, whatever it is called
    before = _describe(current)
    reasons: list[str] = []
    cites: list[str] = []
    low, high = current["low"], current["high"]
    positive = low > 0
    decades = math.log10(high / low) if positive and high > low else 0.0
    scale_like = bool(_SCALE_NAMES.search(p.name)) and decades >= 1
    if not current["log"] and positive and (log_flag is not None or decades >= 2 or scale_like):
        current = {**current, "log": True}
        reasons.append(f"the range spans {decades:.1f} decades: sample it log-uniformly")
        if log_flag is not None:
            cites.append(log_flag.id)
    moved = False
    observed = sorted({float(v) for v in runs[p.name] if _finite(v)}) if p.name in runs else []
    for f in related:
        if f.name != "param-issue-rate":
            continue
        for b in f.evidence.get("buckets", []):
            stats = (b.get("issues") or {}).get("any") or {}
            if stats.get("status") != "elevated":
                continue
            if b.get("left") is None:  # a level ("batch_size = 256") at an edge of the range
                current, cut = _cut_level(current, b.get("value"), observed)
                if cut:
                    reasons.append(cut)
                    cites.append(f.id)
                    moved = True
                continue
            left, right = float(b["left"]), float(b["right"])
            if right >= current["high"] and left > current["low"]:
                current = {**current, "high": left}
                reasons.append(f"runs above {_num(left)} failed significantly more often: cut that corner")
                cites.append(f.id)
                moved = True
            elif left <= current["low"] and right < current["high"]:
                current = {**current, "low": right}
                reasons.append(
                    f"runs at or below {_num(right)} failed significantly more often: cut that corner"
                )
                cites.append(f.id)
                moved = True
    edge = next((f for f in related if f.name == "best-at-boundary"), None)
    if edge is not None:
        side = edge.evidence.get("edge")
        lo, hi = current["low"], current["high"]
        if current["log"]:
            lo, hi = (lo, hi * EDGE_FACTOR) if side == "high" else (lo / EDGE_FACTOR, hi)
        else:
            span = hi - lo
            lo, hi = (
                (lo, hi + span / 2)
                if side == "high"
                else (max(lo - span / 2, 0.0 if positive else -math.inf), hi)
            )
        current = {**current, "low": lo, "high": hi}
        reasons.append(f"the best runs sit at the {side} edge: search past it")
        cites.append(edge.id)
        moved = True
    importance = next((f for f in related if f.name == "param-importance"), None)
    important = importance is not None and (importance.evidence.get("p_adjusted") or 1.0) <= _ALPHA
    if important and not moved and top_ids and p.name in runs:
        values = [float(v) for v in runs.loc[[r for r in top_ids if r in runs.index], p.name] if _finite(v)]
        if len(values) >= 2 and min(values) < max(values):
            lo, hi = min(values), max(values)
            if current["log"] and lo > 0:
                lo, hi = lo / NARROW_MARGIN, hi * NARROW_MARGIN
            else:
                pad = (hi - lo) * 0.1
                lo, hi = lo - pad, hi + pad
            lo, hi = max(lo, current["low"]), min(hi, current["high"])
            if (lo, hi) != (current["low"], current["high"]):
                current = {**current, "low": lo, "high": hi}
                reasons.append(f"{p.name} matters for the objective: narrow to where the top runs are")
                assert importance is not None
                cites.append(importance.id)
    if current["int"]:
        current = {**current, "low": math.floor(current["low"]), "high": math.ceil(current["high"])}
    if reasons:
        changes.append(
            ParamChange(
                param=p.name, before=before, after=_describe(current), why="; ".join(reasons), cites=cites
            )
        )
    return current


def _cut_level(current: dict[str, Any], value: Any, observed: list[float]) -> tuple[dict[str, Any], str]:
    """The range without a failing level at its edge: it ends at the next level inside."""
    if not _finite(value):
        return current, ""
    v = float(value)
    inside = [x for x in observed if x != v]
    if not inside:
        return current, ""
    if v >= current["high"] and v > min(inside):
        below = max(x for x in inside if x < v)
        return {
            **current,
            "high": below,
        }, f"runs at {_num(v)} failed significantly more often: stop at {_num(below)}"
    if v <= current["low"] and v < max(inside):
        above = min(x for x in inside if x > v)
        return {
            **current,
            "low": above,
        }, f"runs at {_num(v)} failed significantly more often: start at {_num(above)}"
    return current, ""


def _drop_failing_levels(
    param: str, current: dict[str, Any], related: list[Finding], changes: list[ParamChange]
) -> dict[str, Any]:
    group = next((f for f in related if f.name == "group-stability"), None)
    if group is None:
        return current
    failing = [
        str(g["level"])
        for g in group.evidence.get("groups", [])
        if not g.get("missing") and g["n_runs"] >= MIN_LEVEL_RUNS and g["n_failed"] * 2 >= g["n_runs"]
    ]
    keep = [v for v in current["values"] if str(v) not in failing]
    if not failing or not keep:
        return current
    changes.append(
        ParamChange(
            param=param,
            before=_describe(current),
            after=_describe({"values": keep}),
            why=f"at least half the runs with {param} = {', '.join(failing)} failed",
            cites=[group.id],
        )
    )
    return {"values": keep}


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _wandb_yaml(space: dict[str, dict[str, Any]], metric: str | None, direction: str | None) -> str:
    import yaml

    params: dict[str, Any] = {}
    for name, s in space.items():
        if "values" in s:
            params[name] = {"values": s["values"]}
        elif s["int"]:
            kind = "q_log_uniform_values" if s["log"] else "int_uniform"
            params[name] = {"distribution": kind, "min": int(s["low"]), "max": int(s["high"])}
            if s["log"]:
                params[name]["q"] = 1
        else:
            kind = "log_uniform_values" if s["log"] else "uniform"
            params[name] = {"distribution": kind, "min": float(s["low"]), "max": float(s["high"])}
    doc: dict[str, Any] = {"method": "bayes"}
    if metric:
        doc["metric"] = {"name": metric, "goal": "minimize" if direction == "min" else "maximize"}
    doc["parameters"] = params
    return yaml.safe_dump(doc, sort_keys=False)


def _optuna_code(space: dict[str, dict[str, Any]]) -> str:
    lines = ["def suggest(trial):", "    return {"]
    for name, s in space.items():
        if "values" in s:
            call = f"trial.suggest_categorical({name!r}, {s['values']!r})"
        elif s["int"]:
            log = ", log=True" if s["log"] else ""
            call = f"trial.suggest_int({name!r}, {int(s['low'])}, {int(s['high'])}{log})"
        else:
            log = ", log=True" if s["log"] else ""
            call = f"trial.suggest_float({name!r}, {s['low']!r}, {s['high']!r}{log})"
        lines.append(f"        {name!r}: {call},")
    lines.append("    }")
    return "\n".join(lines) + "\n"
