"""`reportgen` entry point: argument parsing, error-to-exit-code mapping, nothing else.

Exit codes: 0 success, 1 failing claims (`check`), 2 usage, input or internal error (one line on stderr;
the traceback only with --debug). Heavy imports (pandas, pyarrow) happen inside commands so `--help` stays
fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from reportgen import __version__
from reportgen.cli import check_cmd, detect_cmd, eval_cmd, inspect_cmd, report_cmd


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reportgen",
        description="Fact-checked pathology reports for hyperparameter sweeps.",
    )
    parser.add_argument("--version", action="version", version=f"reportgen {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    inspect_cmd.register(sub)
    detect_cmd.register(sub)
    check_cmd.register(sub)
    report_cmd.register(sub)
    eval_cmd.register(sub)
    formats = sub.add_parser("formats", help="list the export formats reportgen reads")
    formats.add_argument("--format", choices=("text", "json"), default="text", dest="output_format")
    formats.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    formats.set_defaults(func=_formats)
    return parser


def _formats(args: argparse.Namespace) -> int:
    import json

    from reportgen.io.load import loaders

    rows: list[dict[str, str | None]] = [
        {"name": s.name, "summary": s.summary, "extra": s.extra} for s in loaders()
    ]
    if args.output_format == "json":
        print(json.dumps({"schema_version": 1, "formats": rows}, indent=2))
    else:
        width = max(len(str(r["name"])) for r in rows)
        for r in rows:
            extra = f"  (pip install 'reportgen[{r['extra']}]')" if r["extra"] else ""
            print(f"{r['name']:<{width}}  {r['summary']}{extra}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from reportgen.errors import ReportgenError

    try:
        return int(args.func(args))
    except ReportgenError as exc:
        if args.debug:
            raise
        print(f"reportgen: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("reportgen: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal error must still be one line without --debug
        if args.debug:
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        print(
            f"reportgen: internal error: {type(exc).__name__}: {first} (rerun with --debug for the "
            "traceback)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
