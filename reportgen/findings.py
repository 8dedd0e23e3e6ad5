"""Findings: what a detector found, as typed data with raw numbers and a deterministic id.

Evidence holds numbers exactly as computed (never pre-rounded strings): the fact-checker compares report
text against them at the text's own stated precision, which it cannot do against a rounded copy. The id is
a fingerprint of the code, the runs and the finding's identifying key, so the same export gives the same
ids in the same order on every run.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["high", "medium", "low", "info"]
SEVERITY_ORDER: dict[str, int] = {"high": 0, "medium": 1, "low": 2, "info": 3}


class Finding(BaseModel):
    """One problem (or fact worth reporting) found in a sweep."""

    # NaN and inf are legitimate evidence (a val/train ratio of inf); JSON carries them as NaN/Infinity
    model_config = ConfigDict(frozen=True, ser_json_inf_nan="constants")

    id: str = Field(description="deterministic fingerprint: same export, same id")
    code: str = Field(description="stable code, e.g. NAN001; never reused")
    name: str = Field(description="kebab-case problem name, e.g. nan-or-inf-metric")
    severity: Severity
    title: str = Field(description="one line for people; numbers in it are counts or values as exported")
    run_ids: list[str] = Field(default_factory=list, description="run ids as the export names them")
    evidence: dict[str, Any] = Field(default_factory=dict, description="raw numbers, never rounded")


def fingerprint(code: str, key: str, run_ids: list[str]) -> str:
    """A short stable id from the code, the finding's key (metric, param, bucket...) and its runs."""
    payload = json.dumps([code, key, sorted(run_ids)], separators=(",", ":"))
    return f"{code}-{hashlib.sha256(payload.encode()).hexdigest()[:10]}"


class DetectorError(BaseModel):
    """A detector that raised: reported beside the findings of the others, which still ran."""

    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    error: str


class Detection(BaseModel):
    """Everything detection produced for one sweep."""

    model_config = ConfigDict(frozen=True, ser_json_inf_nan="constants")

    findings: list[Finding]
    errors: list[DetectorError] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list, description="detectors not run (disabled by config)")

    def by_name(self, name: str) -> list[Finding]:
        return [f for f in self.findings if f.name == name]
