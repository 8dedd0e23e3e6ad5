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
    DetectorSpec("RUN002", "short-run", "medium", _P + "short_run"),
    DetectorSpec("MET001", "metric-stuck", "high", _P + "metric_stuck"),
    # curves (group B rows)
    DetectorSpec("CRV001", "divergence", "high", _P + "divergence"),
    DetectorSpec("CRV002", "loss-spike", "medium", _P + "loss_spike"),
    DetectorSpec("CRV003", "plateau", "medium", _P + "plateau"),
    DetectorSpec("CRV004", "overfitting", "medium", _P + "overfitting"),
    DetectorSpec("CRV005", "underfitting", "low", _P + "underfitting"),
    DetectorSpec("CRV006", "bad-initial-loss", "medium", _P + "bad_initial_loss"),
    DetectorSpec("CRV007", "early-lr-decay", "low", _P + "early_lr_decay"),
    DetectorSpec("CRV008", "edge-of-stability", "medium", _P + "edge_of_stability"),
    # search space and ranking (group A rows)
    DetectorSpec("SSP001", "log-scale-sampled-uniformly", "medium", _P + "log_uniform"),
    DetectorSpec("SSP002", "best-at-boundary", "medium", _P + "best_at_boundary"),
    DetectorSpec("SSP003", "duplicate-configs", "low", _P + "duplicate_configs"),
    DetectorSpec("SSP004", "early-stopping-idle", "low", _P + "early_stopping_idle"),
    DetectorSpec("SSP005", "seed-variance", "medium", _P + "seed_variance"),
    DetectorSpec("SSP006", "outlier-run", "medium", _P + "outlier_run"),
    DetectorSpec("RNK001", "top-runs", "info", _P + "top_runs"),
    # hyperparameter effects (group C rows): last, they read the issues found above
    DetectorSpec("HPE001", "param-issue-rate", "medium", _P + "param_issue_rate"),
    DetectorSpec("HPE002", "interaction-risk", "medium", _P + "interaction_risk"),
    DetectorSpec("HPE003", "group-stability", "info", _P + "group_stability"),
    DetectorSpec("HPE004", "param-importance", "info", _P + "param_importance"),
)


def find_spec(code_or_name: str) -> DetectorSpec | None:
    """The registry row for a code (any case) or a name."""
    wanted = code_or_name.strip()
    for spec in REGISTRY:
        if spec.code.lower() == wanted.lower() or spec.name == wanted.lower():
            return spec
    return None
