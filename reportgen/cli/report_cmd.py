"""`reportgen report EXPORT [-o report.md|report.html|report.json]`: the fact-checked sweep report.

The writer is chosen with ``--llm``: ``openai`` when ``OPENAI_API_KEY`` or ``OPENAI_BASE_URL`` is set and
non-empty, else ``offline`` (jinja2 prose from the findings, no key needed). ``local`` starts llama.cpp's
server in this process for the run (``--model-path`` or the bundled SmolLM2, see ``llm.local_server``).
The format comes from the ``-o`` suffix or ``--format`` (Markdown on stdout by default). Progress goes to
stderr, only on a terminal and without ``--quiet``. ``--record`` writes the LLM exchanges, scrubbed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

from reportgen.cli.detect_cmd import add_threshold_arguments
from reportgen.cli.llm_args import add_model_arguments, openai_model
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
    add_model_arguments(w)
    w.add_argument(
        "--deadline", type=float, default=300.0, help="seconds for all LLM work before falling back"
    )
    w.add_argument(
        "--record",
        type=Path,
        metavar="FILE.json",
        help="write every LLM request and response here, secrets scrubbed (for bug reports and replays)",
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


def _writer(kind: str, args: argparse.Namespace, stack: contextlib.ExitStack):  # type: ignore[no-untyped-def]
    """The writer for ``kind``; a local server is started on ``stack`` and stops when it closes."""
    if kind == "offline":
        if args.record is not None:
            raise UsageError("--record needs an LLM writer (--llm openai or --llm local)")
        from reportgen.report.offline_writer import OfflineWriter

        return OfflineWriter()
    if kind == "local":
        from reportgen.llm.local_server import LocalServer, local_writer

        server = stack.enter_context(LocalServer(args.model_path))
        client = server.http_client(args.record)
        return local_writer(server.base_url, server.model_name, time.monotonic() + args.deadline, client)
    recorder = None
    if args.record is not None:
        from reportgen.llm.replay import recording_client

        secret = os.environ.get("OPENAI_API_KEY", "")
        recorder = stack.enter_context(recording_client(args.record, secrets=[secret] if secret else []))
    model = openai_model(args)
    from reportgen.llm.openai_writer import OpenAIWriter

    # one deadline for every call of the report; the composer falls back to the offline text after it
    return OpenAIWriter(model=model, deadline=time.monotonic() + args.deadline, http_client=recorder)


def run_report(args: argparse.Namespace) -> int:
    from reportgen.atomic import write_text_atomic
    from reportgen.config import load_detect_config
    from reportgen.detectors.run import run_detectors
    from reportgen.facts import build_factsheet
    from reportgen.io.load import load_sweep
    from reportgen.report.compose import compose

    fmt = output_format(args)
    kind = choose_llm(args.llm)
    progress = _Progress(args.quiet)
    with contextlib.ExitStack() as stack:  # a local server stops when the block ends, Ctrl-C included
        if kind == "local":
            progress("starting llama.cpp on 127.0.0.1")
        writer = _writer(kind, args, stack)  # before loading: a bad writer setup fails fast
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
