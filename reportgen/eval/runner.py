"""``reportgen eval``: the checker on labelled claims, a writer on the bundled sweeps, one scorecard.

The scorecard (``SCHEMA_VERSION``) holds ``checker`` (``score.checker_scorecard``), ``writer`` (per sweep
and in total, for the backend asked for) and ``baseline`` (the naive baseline: the same model given the runs
table as CSV, ``eval/naive.py``; run with ``--llm openai``, else the reason it was not run).
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reportgen import __version__
from reportgen.eval.cases import load_cases
from reportgen.eval.perturb import generate
from reportgen.eval.score import checker_scorecard, failures, run_checker
from reportgen.eval.sweeps import CASES_DIR, load_eval_sweep, sweep_names

SCHEMA_VERSION = 1
DEFAULT_SEED = 0


def checker_cases(cases_dir: Path = CASES_DIR, seed: int = DEFAULT_SEED, sweeps: list[str] | None = None):  # type: ignore[no-untyped-def]
    """The generated case of every bundled sweep (or of ``sweeps``) and the hand-written cases."""
    names = sweep_names() if sweeps is None else sweeps
    generated = [generate(load_eval_sweep(n), seed) for n in names]
    return generated + load_cases(cases_dir)


def evaluate_checker(
    cases_dir: Path = CASES_DIR, seed: int = DEFAULT_SEED, sweeps: list[str] | None = None
) -> dict[str, Any]:
    run = run_checker(checker_cases(cases_dir, seed, sweeps))
    card = checker_scorecard(run)
    card["seed"] = seed
    card["examples_of_failures"] = failures(run)
    return card


def evaluate_writer(
    make_writer: Callable[[], Any], name: str, sweeps: list[str] | None = None
) -> dict[str, Any]:
    """Compose the report of every bundled sweep with the writer and check it back."""
    from reportgen.factcheck.verify import check_markdown
    from reportgen.render.report_json import render_json
    from reportgen.render.report_markdown import render_markdown
    from reportgen.report.compose import compose
    from reportgen.report.model import Report

    rows: list[dict[str, Any]] = []
    for sweep_name in sweep_names() if sweeps is None else sweeps:
        loaded = load_eval_sweep(sweep_name)
        start = time.perf_counter()
        writer = make_writer()
        report = compose(loaded.sweep, loaded.detection, loaded.facts, writer)
        seconds = time.perf_counter() - start
        markdown = render_markdown(report)
        verdicts = check_markdown(markdown, loaded.facts, loaded.vocab)
        try:
            Report.model_validate_json(render_json(report))
            valid = True
        except ValueError:
            valid = False
        high = [f.id for f in loaded.detection.findings if f.severity == "high"]
        fc, manifest = report.fact_check, report.manifest
        rows.append(
            {
                "sweep": sweep_name,
                "claims": len(verdicts),
                "supported": sum(v.verdict == "supported" for v in verdicts),
                "first_draft_claims": fc.first_draft_claims,
                "contradicted_before_repair": fc.first_draft_contradicted,
                "contradicted_after_repair": sum(v.verdict == "contradicted" for v in verdicts),
                "high_severity_findings": len(high),
                "high_severity_cited": sum(f in report.findings for f in high),
                "schema_valid": valid,
                "calls": manifest.calls,
                # answers sent back: for breaking the schema, citing unknown ids or being cut off (the
                # writer's own re-asks), and for contradicted claims (the checker's, in compose)
                "schema_reasks": writer.usage.reasks,
                "checker_reasks": manifest.reasks - writer.usage.reasks,
                "fallback_sections": len(fc.replaced_sections),
                "tokens": manifest.prompt_tokens + manifest.completion_tokens,
                "seconds": round(seconds, 3),
            }
        )
    total = (
        {k: sum(r[k] for r in rows) for k in rows[0] if k not in ("sweep", "schema_valid")} if rows else {}
    )
    return {
        "writer": name,
        "reports": len(rows),
        "verified_share": round(total["supported"] / total["claims"], 4)
        if rows and total["claims"]
        else None,
        "high_severity_coverage": (
            round(total["high_severity_cited"] / total["high_severity_findings"], 4)
            if rows and total["high_severity_findings"]
            else None
        ),
        "schema_valid_rate": round(sum(r["schema_valid"] for r in rows) / len(rows), 4) if rows else None,
        # contradicted claims per claim: the first drafts' prose, then the whole published report
        "contradicted_rate_before_repair": _rate(total, "contradicted_before_repair", "first_draft_claims"),
        "contradicted_rate_after_repair": _rate(total, "contradicted_after_repair", "claims"),
        "reask_share": (
            round((total["schema_reasks"] + total["checker_reasks"]) / total["calls"], 4)
            if rows and total["calls"]
            else None
        ),
        "totals": total,
        "per_sweep": rows,
    }


def _rate(total: dict[str, Any], part: str, whole: str) -> float | None:
    return round(total[part] / total[whole], 4) if total and total[whole] else None


def machine() -> dict[str, Any]:
    import os

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "reportgen": __version__,
    }


# the sweeps the test suite's quick eval runs (tests/eval): one of each kind of export, seconds in all
TEST_SUBSET = ["seed000", "group-stability", "param-issue-rate", "mlflow", "crashed-run"]
BASELINE = Path(__file__).resolve().parent / "baseline.json"


def write_baseline(path: Path = BASELINE) -> dict[str, Any]:
    """The committed baseline: the full checker scorecard, the test subset's, and the offline writer's."""
    import json

    card: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "machine": machine(),
        "command": "python -m reportgen.eval.runner",
        "checker": evaluate_checker(),
        "test_subset": {"sweeps": TEST_SUBSET, "checker": evaluate_checker(sweeps=TEST_SUBSET)},
        "writer": evaluate_writer(OfflineWriterFactory(), "offline"),
    }
    for c in (card["checker"], card["test_subset"]["checker"]):  # timings vary by machine
        for key in ("checker_seconds", "claims_per_second"):
            c.pop(key, None)
    for row in card["writer"]["per_sweep"]:
        row.pop("seconds", None)
    card["writer"]["totals"].pop("seconds", None)
    path.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return card


class OfflineWriterFactory:
    def __call__(self) -> Any:
        from reportgen.report.offline_writer import OfflineWriter

        return OfflineWriter()


if __name__ == "__main__":
    write_baseline()
