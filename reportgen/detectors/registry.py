"""The one table of detectors: code -> name, default severity, module. Codes are never reused.

Order matters: detectors run top to bottom, and the hyperparameter-effect detectors read the per-run
issues found by the run-health and curve detectors above them (`ctx.prior`).
"""

from __future__ import annotations

from reportgen.detectors.base import DetectorSpec

_P = "reportgen.detectors."

REGISTRY: tuple[DetectorSpec, ...] = (
    # run health
    DetectorSpec("NAN001", "nan-or-inf-metric", "high", _P + "nan_metric"),
    DetectorSpec("RUN001", "crashed-run", "high", _P + "crashed_run"),
    # run health (group A rows)
    # curves (group B rows)
    # search space and ranking (group A rows)
    # hyperparameter effects (group C rows): last, they read the issues found above
)


def find_spec(code_or_name: str) -> DetectorSpec | None:
    """The registry row for a code (any case) or a name."""
    wanted = code_or_name.strip()
    for spec in REGISTRY:
        if spec.code.lower() == wanted.lower() or spec.name == wanted.lower():
            return spec
    return None
