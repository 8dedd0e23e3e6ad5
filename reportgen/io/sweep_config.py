"""The sweep's own definition (`--sweep-config`): a W&B sweep YAML's method, metric, parameter
distributions and early termination, so later stages know the declared search space (for example a
`uniform` distribution over 1e-5..1e-1 where `log_uniform_values` was meant)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from reportgen.errors import InputError
from reportgen.io.raw import DeclaredParam, Direction

# W&B distributions whose bounds are log(value) rather than the value itself
_LOG_OF_BOUNDS = {"log_uniform", "q_log_uniform"}
_LOG = {
    "log_uniform",
    "log_uniform_values",
    "q_log_uniform",
    "q_log_uniform_values",
    "inv_log_uniform",
    "inv_log_uniform_values",
}


class SweepConfig:
    """What a W&B sweep YAML declares."""

    def __init__(
        self,
        method: str | None,
        objective: tuple[str, Direction] | None,
        params: list[DeclaredParam],
        early_termination: str | None,
    ) -> None:
        self.method = method
        self.objective = objective
        self.params = params
        self.early_termination = early_termination


def read_sweep_config(path: Path) -> SweepConfig:
    """Parse a W&B sweep YAML (or JSON) file."""
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise InputError("no such sweep config file", path=path) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid YAML ({str(exc).splitlines()[0]})", path=path) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("parameters"), dict):
        raise InputError("expected a W&B sweep config with a 'parameters' mapping", path=path)
    objective: tuple[str, Direction] | None = None
    metric = doc.get("metric")
    if isinstance(metric, dict) and metric.get("name"):
        goal = str(metric.get("goal", "minimize")).lower()
        direction: Direction = "max" if goal.startswith("max") else "min"
        objective = (str(metric["name"]), direction)
    params = [_param(path, str(name), spec) for name, spec in doc["parameters"].items()]
    early = doc.get("early_terminate")
    early_type = str(early.get("type")) if isinstance(early, dict) and early.get("type") else None
    return SweepConfig(doc.get("method"), objective, [p for p in params if p is not None], early_type)


def _param(path: Path, name: str, spec: Any) -> DeclaredParam | None:
    if not isinstance(spec, dict):
        raise InputError(f"parameter {name!r} must be a mapping (value/values/distribution)", path=path)
    if "parameters" in spec:  # nested parameter groups are flattened by W&B with "."
        return None
    if "value" in spec:
        return DeclaredParam(name=name, distribution="constant", choices=(spec["value"],))
    if "values" in spec:
        values = spec["values"]
        if not isinstance(values, list):
            raise InputError(f"parameter {name!r}: 'values' must be a list", path=path)
        return DeclaredParam(name=name, distribution="categorical", choices=tuple(values))
    dist = str(spec.get("distribution", "uniform" if "min" in spec else "")).strip()
    if not dist:
        raise InputError(f"parameter {name!r} has no value, values or distribution", path=path)
    low, high = spec.get("min"), spec.get("max")
    if dist in _LOG_OF_BOUNDS and low is not None and high is not None:
        low, high = math.exp(float(low)), math.exp(float(high))
    return DeclaredParam(
        name=name,
        distribution=dist,
        low=None if low is None else float(low),
        high=None if high is None else float(high),
        log=dist in _LOG,
        step=spec.get("q"),
    )
