"""`reportgen eval`: score the checker on labelled claims and a writer on the bundled sweeps."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

from reportgen.cli.llm_args import add_model_arguments, openai_model

BASELINE_NOTE = (
    "the naive baseline (the same model given the runs table as CSV, no detectors, no checker) needs an "
    "LLM: run with --llm local or --llm openai"
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
        "--llm",
        choices=("offline", "openai", "local"),
        default="offline",
        help="writer backend (default offline)",
    )
    add_model_arguments(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the perturbation generator (default 0)")
    p.add_argument("--sweeps", default=None, help="comma-separated bundled sweeps to use (default: all)")
    p.add_argument("--checker-only", action="store_true", help="skip the writer")
    p.add_argument("--format", choices=("text", "json"), default="text", dest="output_format")
    p.add_argument("-o", "--output", type=Path, default=None, help="write the JSON scorecard here")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(func=run_eval)


def _writer_factory(args: argparse.Namespace, server: Any):  # type: ignore[no-untyped-def]
    """A new writer per sweep (each report gets its own usage and deadline)."""
    if args.llm == "offline":
        from reportgen.report.offline_writer import OfflineWriter

        return OfflineWriter
    if args.llm == "local":
        from reportgen.llm.local_server import local_writer

        return lambda: local_writer(
            server.base_url, server.model_name, time.monotonic() + 300, server.http_client()
        )
    model = openai_model(args)
    from reportgen.llm.openai_writer import OpenAIWriter

    return lambda: OpenAIWriter(model=model, deadline=time.monotonic() + 300)


def _baseline(args: argparse.Namespace, server: Any, sweeps: list[str] | None) -> dict[str, Any]:
    """The naive baseline with the same model, prompt budget, answer limit and sampling as the writer."""
    from reportgen.eval.naive import evaluate_naive

    if args.llm == "openai":
        return evaluate_naive(openai_model(args), sweeps)
    import openai

    from reportgen.llm.local_server import COMPLETION_TOKENS, LOCAL_BUDGET, SAMPLING, SEED, TIMEOUT_S

    client = openai.OpenAI(
        base_url=server.base_url,
        api_key="no-key",
        max_retries=0,
        timeout=TIMEOUT_S,
        http_client=server.http_client(),
    )
    return evaluate_naive(
        server.model_name,
        sweeps,
        client,
        prompt_budget=LOCAL_BUDGET.prompt_tokens,
        max_tokens=COMPLETION_TOKENS,
        options={"seed": SEED, "extra_body": SAMPLING},
    )


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
    with contextlib.ExitStack() as stack:  # a local server runs for the writer and baseline rows only
        server = None
        if args.llm == "local" and not args.checker_only:
            from reportgen.llm.local_server import LocalServer

            server = stack.enter_context(LocalServer(args.model_path))
            card["server"] = dataclasses.asdict(server.info) if server.info else None
        if not args.checker_only:
            card["writer"] = evaluate_writer(_writer_factory(args, server), args.llm, sweeps)
        if args.llm != "offline" and not args.checker_only:
            card["baseline"] = _baseline(args, server, sweeps)
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
            f"writer ({w['writer']}): {w['reports']} reports, verified share {w['verified_share']}, "
            f"high-severity coverage {w['high_severity_coverage']} "
            f"({t['high_severity_cited']}/{t['high_severity_findings']}), "
            f"schema-valid {w['schema_valid_rate']}, calls {t['calls']}, tokens {t['tokens']}, "
            f"{t['seconds']:.1f} s",
            f"  contradicted claims: first drafts {t['contradicted_before_repair']} of "
            f"{t['first_draft_claims']} (rate {w['contradicted_rate_before_repair']}), published "
            f"{t['contradicted_after_repair']} of {t['claims']} (rate {w['contradicted_rate_after_repair']})",
            f"  answers sent back: {t['schema_reasks']} for the schema or ids, {t['checker_reasks']} for "
            f"contradicted claims (share of calls {w['reask_share']}); sections given the offline text "
            f"{t['fallback_sections']}",
        ]
    b = card["baseline"]
    if b.get("status") == "run":
        lines += [
            "",
            f"naive baseline ({b['model']}, the runs table as CSV, no detectors, no checker): "
            f"{b['reports']} reports, {b['contradicted']} contradicted of {b['claims']} claims "
            f"(rate {b['contradicted_rate']}), verified share {b['verified_share']}",
        ]
    else:
        lines += ["", f"baseline: {b['reason']}"]
    lines += [f"total: {card['seconds']} s"]
    return "\n".join(lines) + "\n"
