"""The detector contract: a registry row (`DetectorSpec`), per-run configuration (`DetectConfig`) and the
context each `detect(sweep, ctx)` receives.

A detector module exposes `detect(sweep, ctx) -> list[Finding]` and, when it has thresholds, a frozen
pydantic `Thresholds` model whose defaults and field descriptions are its documentation. Its module
docstring says what it detects, why it matters, its thresholds and its known false positives;
`reportgen explain` prints it. Modules are imported only when run, so the CLI starts fast.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reportgen.findings import Finding, Severity, fingerprint


class NoThresholds(BaseModel):
    """This detector has no thresholds."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class DetectorSpec:
    """One row of the registry: a stable code, a problem name, a default severity and the module."""

    code: str
    name: str
    severity: Severity
    module: str  # dotted path of the module holding detect() and Thresholds

    def load(self) -> ModuleType:
        return importlib.import_module(self.module)

    @property
    def thresholds_model(self) -> type[BaseModel]:
        model: type[BaseModel] = getattr(self.load(), "Thresholds", NoThresholds)
        return model

    @property
    def doc(self) -> str:
        return (self.load().__doc__ or "").strip()


class DetectConfig(BaseModel):
    """Which detectors run, with which thresholds and severities (`[tool.reportgen]`, `--config`, flags)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    select: list[str] | None = Field(default=None, description="codes or names to run (default: all)")
    ignore: list[str] = Field(default_factory=list, description="codes or names not to run")
    thresholds: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="per detector name: threshold overrides"
    )
    severity: dict[str, Severity] = Field(default_factory=dict, description="per detector name: severity")


@dataclass
class Context:
    """What one detector gets besides the sweep: its spec, thresholds, the findings of detectors that ran
    before it (registry order), and a cache shared by all detectors of this run (curve statistics)."""

    spec: DetectorSpec
    thresholds: Any
    severity: Severity
    prior: tuple[Finding, ...] = ()
    cache: dict[str, Any] = field(default_factory=dict)

    def finding(
        self,
        *,
        title: str,
        run_ids: list[str],
        evidence: dict[str, Any],
        key: str = "",
        severity: Severity | None = None,
    ) -> Finding:
        """A Finding stamped with this detector's code and name and a deterministic id.

        `key` distinguishes findings of one detector over the same runs (the metric, the param, the
        bucket); `severity` overrides the configured one for this finding only (e.g. info for a
        borderline case).
        """
        return Finding(
            id=fingerprint(self.spec.code, key, run_ids),
            code=self.spec.code,
            name=self.spec.name,
            severity=severity or self.severity,
            title=title,
            run_ids=list(run_ids),
            evidence=evidence,
        )
