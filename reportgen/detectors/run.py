"""Running every registered detector over a sweep, each isolated: one that raises is reported as an
error and the others still run (a bug in one check must not cost the user the rest of the analysis)."""

from __future__ import annotations

from pydantic import ValidationError

from reportgen.detectors.base import Context, DetectConfig, DetectorSpec
from reportgen.detectors.curves import CURVE_STATS_KEY
from reportgen.detectors.registry import REGISTRY, find_spec
from reportgen.errors import UsageError
from reportgen.findings import Detection, DetectorError, Finding
from reportgen.sweep import Sweep


def _selected(config: DetectConfig) -> list[DetectorSpec]:
    for ref in [*(config.select or []), *config.ignore, *config.thresholds, *config.severity]:
        if find_spec(ref) is None:
            known = ", ".join(s.name for s in REGISTRY)
            raise UsageError(f"unknown detector {ref!r} in the configuration; detectors are {known}")
    chosen = [s for s in REGISTRY if config.select is None or _named(s, config.select)]
    return [s for s in chosen if not _named(s, config.ignore)]


def _named(spec: DetectorSpec, refs: list[str]) -> bool:
    return any(find_spec(r) == spec for r in refs)


def _thresholds(spec: DetectorSpec, config: DetectConfig) -> object:
    overrides = next((v for k, v in config.thresholds.items() if find_spec(k) == spec), {})
    try:
        return spec.thresholds_model(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UsageError(f"threshold {spec.name}.{where}: {first['msg']}") from None


def seeded_cache(sweep: Sweep, cache: dict[str, object] | None = None) -> dict[str, object]:
    """`cache` (a new one when None) holding the sweep's exact curve statistics when it carries them (a
    history reduced out of core keeps only some rows; `curve_stats` over those would not be exact)."""
    cache = {} if cache is None else cache
    if sweep.exact_curve_stats is not None:
        cache.setdefault(CURVE_STATS_KEY, sweep.exact_curve_stats)
    return cache


def run_detectors(
    sweep: Sweep, config: DetectConfig | None = None, cache: dict[str, object] | None = None
) -> Detection:
    """All selected detectors in registry order; findings in that order, as each detector returns them.

    `cache` holds what detectors compute for the sweep (per-curve statistics, seeded with the sweep's
    exact ones when its history was reduced); pass the same dict to `build_factsheet` to reuse it.
    """
    config = config or DetectConfig()
    specs = _selected(config)
    prepared = [(spec, _thresholds(spec, config)) for spec in specs]  # bad thresholds fail before any work
    findings: list[Finding] = []
    errors: list[DetectorError] = []
    cache = seeded_cache(sweep, cache)
    for spec, thresholds in prepared:
        severity = next((v for k, v in config.severity.items() if find_spec(k) == spec), spec.severity)
        ctx = Context(spec=spec, thresholds=thresholds, severity=severity, prior=tuple(findings), cache=cache)
        try:
            findings.extend(spec.load().detect(sweep, ctx))
        except Exception as exc:  # isolate: report and go on
            message = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
            errors.append(DetectorError(code=spec.code, name=spec.name, error=message))
    skipped = [s.name for s in REGISTRY if s not in specs]
    return Detection(findings=findings, errors=errors, skipped=skipped)
