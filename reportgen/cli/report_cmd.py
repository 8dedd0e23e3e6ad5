"""`reportgen report EXPORT [-o report.md|report.html|report.json]`: the fact-checked sweep report.

The writer is chosen with ``--llm``: ``openai`` when ``OPENAI_API_KEY`` or ``OPENAI_BASE_URL`` is set and
non-empty, else ``offline`` (jinja2 prose from the findings, no key needed). The format comes from the
``-o`` suffix or ``--format`` (Markdown on stdout by default). Progress goes to stderr, only on a terminal
and without ``--quiet``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from reportgen.cli.detect_cmd import add_threshold_arguments
from reportgen.cli.load_args import add_load_arguments, load_options_from
from reportgen.errors import UsageError

FORMATS = {"md": "md", "markdown": "md", "html": "html", "htm": "html", "json": "json"}
LLMS = ("offline", "openai", "local")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "report",
        help="write the fact-checked sweep report (Markdown, HTML with plots, or JSON)",
        description=(
            "Detect what went wrong in a sweep, have a writer explain it, check every claim against the "
            "data, and write the report."
        ),
    )
    p.add_argument("export", type=Path, help="export file or folder")
    add_load_arguments(p)
    add_threshold_arguments(p)
    out = p.add_argument_group("output")
    out.add_argument(
        "-o", "--output", type=Path, help="report file: .md, .html or .json (default: Markdown on stdout)"
    )
    out.add_argument(
        "--format", choices=("md", "html", "json"), dest="output_format", help="override the suffix"
    )
    out.add_argument("--title", help="the report's title (default: from the export's name)")
    w = p.add_argument_group("writer")
    w.add_argument(
        "--llm", choices=LLMS, help="who writes the prose (default: openai if configured, else offline)"
    )
    w.add_argument("--model", help="model name for --llm openai (default: $REPORTGEN_MODEL)")
    w.add_argument(
        "--deadline", type=float, default=300.0, help="seconds for all LLM work before falling back"
    )
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(func=run_report)


def choose_llm(requested: str | None) -> str:
    """The writer to use: the flag, else openai when an OpenAI endpoint or key is configured."""
    if requested:
        return requested
    configured = any(os.environ.get(k, "").strip() for k in ("OPENAI_API_KEY", "OPENAI_BASE_URL"))
    return "openai" if configured else "offline"


def output_format(args: argparse.Namespace) -> str:
    if args.output_format:
        return str(args.output_format)
    if args.output is None:
        return "md"
    suffix = args.output.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise UsageError(
            f"{args.output}: unknown report format {suffix!r}; use .md, .html or .json, or --format"
        )
    return FORMATS[suffix]


class _Progress:
    """One-line progress on stderr, only when it is a terminal and not --quiet."""

    def __init__(self, quiet: bool) -> None:
        self.on = not quiet and sys.stderr.isatty()
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        if self.on:
            print(f"reportgen: {message} ({time.monotonic() - self.started:.1f}s)", file=sys.stderr)


def _writer(kind: str, args: argparse.Namespace):  # type: ignore[no-untyped-def]
    if kind == "offline":
        from reportgen.report.offline_writer import OfflineWriter

        return OfflineWriter()
    if kind == "local":
        raise UsageError("--llm local is not available yet; use --llm offline or an OpenAI-compatible server")
    from reportgen.llm.openai_writer import OpenAIWriter

    model = args.model or os.environ.get("REPORTGEN_MODEL", "").strip()
    if not model:
        raise UsageError("--llm openai needs a model: pass --model or set REPORTGEN_MODEL")
    # one deadline for every call of the report; the composer falls back to the offline text after it
    return OpenAIWriter(model=model, deadline=time.monotonic() + args.deadline)


def run_report(args: argparse.Namespace) -> int:
    from reportgen.atomic import write_text_atomic
    from reportgen.config import load_detect_config
    from reportgen.detectors.run import run_detectors
    from reportgen.facts import build_factsheet
    from reportgen.io.load import load_sweep
    from reportgen.report.compose import compose

    fmt = output_format(args)
    kind = choose_llm(args.llm)
    writer = _writer(kind, args)
    progress = _Progress(args.quiet)
    config = load_detect_config(args.config, sets=args.set)
    progress(f"loading {args.export}")
    sweep = load_sweep(args.export, load_options_from(args))
    progress(f"{len(sweep.runs)} runs loaded; detecting")
    detection = run_detectors(sweep, config)
    facts = build_factsheet(sweep, detection)
    progress(f"{len(detection.findings)} findings; writing with the {kind} writer")
    report = compose(sweep, detection, facts, writer, title=args.title, deadline_s=args.deadline)
    progress("rendering")
    text = _render(report, fmt)
    if args.output:
        write_text_atomic(args.output, text)
        progress(f"wrote {args.output}")
    else:
        print(text, end="")
    return 0


def _render(report, fmt: str) -> str:  # type: ignore[no-untyped-def]
    if fmt == "html":
        from reportgen.render.report_html import render_html

        return render_html(report)
    if fmt == "json":
        from reportgen.render.report_json import render_json

        return render_json(report)
    from reportgen.render.report_markdown import render_markdown

    return render_markdown(report)
