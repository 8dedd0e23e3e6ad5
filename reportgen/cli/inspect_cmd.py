"""`reportgen inspect EXPORT`: what was read and inferred."""

from __future__ import annotations

import argparse
from pathlib import Path

from reportgen.cli.load_args import add_load_arguments, load_options_from


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "inspect",
        help="show what reportgen reads and infers from a sweep export",
        description="Show runs per state, params with types and scales, metrics, the objective, the "
        "history and every warning raised while reading.",
    )
    p.add_argument("export", type=Path, help="export file or folder")
    add_load_arguments(p)
    p.add_argument("--format", choices=("text", "json"), default="text", dest="output_format")
    p.add_argument("-o", "--output", type=Path, help="write to this file (atomically) instead of stdout")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reportgen.atomic import write_text_atomic
    from reportgen.inspect import summarize
    from reportgen.io.load import load_sweep
    from reportgen.render.inspect_text import render_inspect

    sweep = load_sweep(args.export, load_options_from(args))
    summary = summarize(sweep)
    text = (
        summary.model_dump_json(indent=2) + "\n" if args.output_format == "json" else render_inspect(summary)
    )
    if args.output:
        write_text_atomic(args.output, text)
    else:
        print(text, end="")
    return 0
