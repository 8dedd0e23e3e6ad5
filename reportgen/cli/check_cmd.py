"""`reportgen check DRAFT.md [...] --sweep EXPORT`: fact-check report drafts against a sweep.

Exit codes: 0 clean; 1 when an unsuppressed claim is at or above ``--fail-on`` (``contradicted`` by
default; ``unverifiable`` fails on unverifiable or contradicted claims); 2 usage or input error (from
main). ``--exit-zero`` turns 1 into 0. Results go to stdout or ``-o``; notes go to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from reportgen.cli.detect_cmd import add_threshold_arguments
from reportgen.cli.load_args import add_load_arguments, load_options_from
from reportgen.errors import InputError

if TYPE_CHECKING:
    from reportgen.factcheck.diagnostics import CheckResult

FORMATS = ("full", "concise", "json", "github", "sarif")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "check",
        help="fact-check Markdown report drafts against a sweep export",
        description=(
            "Mark every number-bearing claim of each draft supported, contradicted or unverifiable. "
            "Suppress a claim with <!-- reportgen: ignore CODE --> on its line or above its block."
        ),
    )
    p.add_argument("drafts", nargs="+", type=Path, metavar="DRAFT.md", help="Markdown drafts to check")
    p.add_argument(
        "--sweep", required=True, type=Path, metavar="EXPORT", help="the sweep export file or folder"
    )
    add_load_arguments(p)
    add_threshold_arguments(p)
    out = p.add_argument_group("output")
    out.add_argument(
        "--format",
        choices=FORMATS,
        default="full",
        dest="output_format",
        help="output format (default: full)",
    )
    out.add_argument(
        "--fail-on",
        choices=("contradicted", "unverifiable"),
        default="contradicted",
        help="exit 1 on claims this bad or worse (default: contradicted)",
    )
    out.add_argument("--exit-zero", action="store_true", help="exit 0 even when claims fail")
    out.add_argument(
        "--show-supported", action="store_true", help="also list supported claims (full, concise, sarif)"
    )
    out.add_argument("-o", "--output", type=Path, help="write to this file (atomically) instead of stdout")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(func=run_check)


def display_path(path: Path) -> str:
    """The path as diagnostics show it: relative to the working directory when inside it, ``/``-separated."""
    if path.is_absolute():
        try:
            return path.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return path.as_posix()
    return path.as_posix()


def read_draft(path: Path) -> str:
    """A draft's text, line breaks untouched (columns and lines must match the file)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such draft file", path=path) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a Markdown draft", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read the draft: {exc.strerror}", path=path) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start}); save the draft as UTF-8", path=path) from None


def _publish_summary(summary: str, omitted: int) -> None:
    """Append the job summary to ``$GITHUB_STEP_SUMMARY``; without it, say on stderr what was left out."""
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        try:
            with open(summary_file, "a", encoding="utf-8") as fh:
                fh.write(summary)
        except OSError as exc:
            raise InputError(f"cannot append the job summary: {exc.strerror}", path=summary_file) from None
    elif omitted:
        print(
            f"reportgen: {omitted} annotations left out (GitHub shows 10 errors and 10 warnings per step); "
            "set GITHUB_STEP_SUMMARY for a job summary listing all, or use --format full",
            file=sys.stderr,
        )


def _render(args: argparse.Namespace, results: list[CheckResult]) -> str:
    from reportgen import __version__
    from reportgen.render.check_github import render_github
    from reportgen.render.check_json import render_json
    from reportgen.render.check_sarif import render_sarif
    from reportgen.render.check_text import render_concise, render_full

    show = args.show_supported
    if args.output_format == "github":
        out = render_github(results)
        _publish_summary(out.summary, out.omitted)
        return out.annotations
    renderers = {
        "full": lambda: render_full(results, show_supported=show),
        "concise": lambda: render_concise(results, show_supported=show),
        "json": lambda: render_json(results),
        "sarif": lambda: render_sarif(results, tool_version=__version__, show_supported=show),
    }
    return renderers[args.output_format]()


def run_check(args: argparse.Namespace) -> int:
    from reportgen.atomic import write_text_atomic
    from reportgen.config import load_detect_config
    from reportgen.detectors.run import run_detectors
    from reportgen.factcheck.diagnostics import check_draft
    from reportgen.factcheck.entities import build_vocabulary
    from reportgen.facts import build_factsheet
    from reportgen.io.load import load_sweep

    drafts = [(display_path(path), read_draft(path)) for path in args.drafts]  # fail before the slow load
    # the same detector settings as `reportgen detect`, so both agree on which runs have which issue
    config = load_detect_config(args.config, sets=args.set)
    sweep = load_sweep(args.sweep, load_options_from(args))
    facts = build_factsheet(sweep, run_detectors(sweep, config))
    vocab = build_vocabulary(sweep, facts)
    results = [check_draft(text, facts, vocab, shown) for shown, text in drafts]
    text = _render(args, results)
    if args.output:
        write_text_atomic(args.output, text)
    else:
        print(text, end="")
    failures = sum(r.failures(args.fail_on) for r in results)
    return 0 if args.exit_zero or not failures else 1
