"""`reportgen eval`: score the checker on labelled claims and a writer on the bundled sweeps."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

BASELINE_NOTE = (
    "the naive baseline (the same model given the runs table as CSV, no detectors, no checker) needs an "
    "LLM: run with --llm openai (issue 9 brings a local model)"
)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "eval",
        help="score the fact-checker (per error type) and a report writer on the bundled eval suite",
        description="Run the bundled eval suite: the checker on generated and hand-written labelled claims "
        "(recall per error type, false alarms), and the writer on every bundled sweep.",
    )
    p.add_argument(
        "--cases", type=Path, default=None, help="hand-written cases folder (default: the bundled cases)"
    )
    p.add_argument(
        "--llm", choices=("offline", "openai"), default="offline", help="writer backend (default offline)"
    )
    p.add_argument("--model", default=None, help="model for --llm openai (default $REPORTGEN_MODEL)")
    p.add_argument("--seed", type=int, default=0, help="seed of the perturbation generator (default 0)")
    p.add_argument("--sweeps", default=None, help="comma-separated bundled sweeps to use (default: all)")
    p.add_argument("--checker-only", action="store_true", help="skip the writer")
    p.add_argument("--format", choices=("text", "json"), default="text", dest="output_format")
    p.add_argument("-o", "--output", type=Path, default=None, help="write the JSON scorecard here")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(func=run_eval)


def _writer_factory(args: argparse.Namespace):  # type: ignore[no-untyped-def]

    if args.llm == "offline":
        from reportgen.report.offline_writer import OfflineWriter

        return OfflineWriter
    model = _model(args)
    from reportgen.llm.openai_writer import OpenAIWriter

    return lambda: OpenAIWriter(model=model, deadline=time.monotonic() + 300)


def _model(args: argparse.Namespace) -> str:
    from reportgen.errors import UsageError

    model = args.model or os.environ.get("REPORTGEN_MODEL", "").strip()
    if not model:
        raise UsageError("--llm openai needs a model: pass --model or set REPORTGEN_MODEL")
    return str(model)


def run_eval(args: argparse.Namespace) -> int:
    from reportgen.atomic import write_text_atomic
    from reportgen.eval.runner import SCHEMA_VERSION, evaluate_checker, evaluate_writer, machine
    from reportgen.eval.sweeps import CASES_DIR

    start = time.perf_counter()
    card: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "machine": machine()}
    sweeps = [n.strip() for n in args.sweeps.split(",") if n.strip()] if args.sweeps else None
    if sweeps:
        from reportgen.errors import UsageError
        from reportgen.eval.sweeps import sweep_names

        unknown = sorted(set(sweeps) - set(sweep_names()))
        if unknown:
            raise UsageError(f"unknown sweep(s) {', '.join(unknown)}; bundled: {', '.join(sweep_names())}")
    card["checker"] = evaluate_checker(args.cases or CASES_DIR, args.seed, sweeps)
    if not args.checker_only:
        card["writer"] = evaluate_writer(_writer_factory(args), args.llm, sweeps)
    if args.llm == "openai" and not args.checker_only:
        from reportgen.eval.naive import evaluate_naive

        card["baseline"] = evaluate_naive(_model(args), sweeps)
    else:
        card["baseline"] = {"status": "not run", "reason": BASELINE_NOTE}
    card["seconds"] = round(time.perf_counter() - start, 2)
    text = json.dumps(card, indent=2) + "\n"
    if args.output is not None:
        write_text_atomic(args.output, text)
    sys.stdout.write(text if args.output_format == "json" else render_text(card))
    return 0


def render_text(card: dict[str, Any]) -> str:
    c = card["checker"]
    lines = [
        f"checker: {c['labelled_claims']} labelled claims in {c['cases']} cases "
        f"({c['by_source']['generated']['labelled_claims']} generated, "
        f"{c['by_source']['hand_written']['labelled_claims']} hand-written), seed {c['seed']}",
        "",
        f"{'error type':<34}{'claims':>8}{'caught':>8}{'recall':>8}   hand-written",
    ]
    hand = c["by_source"]["hand_written"]["recall"]
    for error, row in c["recall"].items():
        recall = "-" if row["recall"] is None else f"{row['recall']:.3f}"
        h = hand[error]
        hand_text = f"{h['caught']}/{h['claims']}" if h["claims"] else "-"
        lines.append(f"{error:<34}{row['claims']:>8}{row['caught']:>8}{recall:>8}   {hand_text}")
    lines += [
        "",
        f"correct claims: {c['correct_claims']}, false alarms {c['false_alarms']} "
        f"(rate {c['false_alarm_rate']}), unverifiable rate {c['unverifiable_rate']}",
        f"hand-written: agreement {c['by_source']['hand_written']['agreement']}, false-alarm rate "
        f"{c['by_source']['hand_written']['false_alarm_rate']}, unverifiable rate "
        f"{c['by_source']['hand_written']['unverifiable_rate']}",
        f"speed: {c['claims_checked']} claims in {c['checker_seconds']} s "
        f"({c['claims_per_second']} claims/s)",
    ]
    w = card.get("writer")
    if w:
        t = w["totals"]
        lines += [
            "",
            f"writer ({w['writer']}): {w['reports']} reports, contradicted before/after repair "
            f"{t['contradicted_before_repair']}/{t['contradicted_after_repair']}, verified share "
            f"{w['verified_share']}, high-severity coverage {w['high_severity_coverage']} "
            f"({t['high_severity_cited']}/{t['high_severity_findings']}), "
            f"schema-valid {w['schema_valid_rate']}, "
            f"calls {t['calls']}, tokens {t['tokens']}, {t['seconds']:.1f} s",
        ]
    b = card["baseline"]
    if b.get("status") == "run":
        lines += [
            "",
            f"naive baseline ({b['model']}, the runs table as CSV, no detectors, no checker): "
            f"{b['reports']} reports, "
            f"{b['contradicted']} contradicted claims, verified share {b['verified_share']}",
        ]
    else:
        lines += ["", f"baseline: {b['reason']}"]
    lines += [f"total: {card['seconds']} s"]
    return "\n".join(lines) + "\n"
