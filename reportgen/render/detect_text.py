"""Human-readable text for `reportgen detect` and `reportgen explain`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reportgen.findings import SEVERITY_ORDER, Detection


def render_detection(
    source: str, n_runs: int, detection: Detection, notes: Sequence[str] = (), max_runs: int = 8
) -> str:
    """Findings grouped by severity, most severe first, each with its code, title and runs; then what
    loading warned about (`notes`: repeated rows, unknown runs, a history reduced out of core), which
    qualifies the findings."""
    lines = [f"{source}: {n_runs} runs, {len(detection.findings)} findings"]
    ordered = sorted(detection.findings, key=lambda f: SEVERITY_ORDER[f.severity])  # stable within severity
    for f in ordered:
        shown = ", ".join(f.run_ids[:max_runs]) + (
            f", ... (+{len(f.run_ids) - max_runs})" if len(f.run_ids) > max_runs else ""
        )
        runs = f"  [{shown}]" if shown else ""
        lines.append(f"  {f.severity:<6} {f.code} {f.name:<28} {f.title}{runs}")
    for err in detection.errors:
        lines.append(f"  error  {err.code} {err.name:<28} detector failed: {err.error}")
    if detection.skipped:
        lines.append(f"  (not run: {', '.join(detection.skipped)})")
    lines.extend(f"  note: {note}" for note in notes)
    return "\n".join(lines) + "\n"


def render_explain(entry: dict[str, Any]) -> str:
    """One detector's documentation and thresholds."""
    lines = [f"{entry['code']} {entry['name']} (default severity: {entry['severity']})", "", entry["doc"], ""]
    if entry["thresholds"]:
        lines.append("thresholds:")
        for t in entry["thresholds"]:
            lines.append(f"  {t['name']} = {t['default']!r}  {t['description']}")
    else:
        lines.append("thresholds: none")
    return "\n".join(lines) + "\n"
