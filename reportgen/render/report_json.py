"""A ``Report`` as JSON: the model's own fields, with NaN and infinities as the strings "nan", "inf",
"-inf" (JSON has no such numbers, and ``null`` would lose that a ratio was infinite)."""

from __future__ import annotations

import json
import math
from typing import Any

from reportgen.report.model import Report


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def render_json(report: Report) -> str:
    return (
        json.dumps(_finite(report.model_dump(mode="python")), indent=2, allow_nan=False, default=str) + "\n"
    )
