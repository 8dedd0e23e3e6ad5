"""`reportgen detect EXPORT` (findings) and `reportgen explain [CODE|NAME]` (what a detector checks)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from reportgen.cli.load_args import add_load_arguments, csv_list, load_options_from
from reportgen.errors import UsageError

SCHEMA_VERSION = 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "detect",
        help="find sweep pathologies (NaN losses, crashes, divergence, overfitting, bad ranges...)",
        description="Run every registered detector over a sweep export and print the findings.",
    )
    p.add_argument("export", type=Path, help="export file or folder")
    add_load_arguments(p)
    g = add_threshold_arguments(p)
    g.add_argument("--select", help="comma-separated codes or names to run (default: all)")
    g.add_argument("--ignore", help="comma-separated codes or names not to run")
    p.add_argument("--format", choices=("text", "json"), default="text", dest="output_format")
    p.add_argument("-o", "--output", type=Path, help="write to this file (atomically) instead of stdout")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(func=run_detect)

    e = sub.add_parser("explain", help="what a detector checks, why, its thresholds and false positives")
    e.add_argument("detector", nargs="?", help="a code (NAN001) or name (nan-or-inf-metric); none lists all")
    e.add_argument("--format", choices=("text", "json"), default="text", dest="output_format")
    e.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    e.set_defaults(func=run_explain)


def add_threshold_arguments(p: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """--config and --set: detector settings (also read from [tool.reportgen.detect] in pyproject.toml)."""
    g = p.add_argument_group("detector settings")
    g.add_argument("--config", type=Path, help="TOML file with [tool.reportgen.detect] settings")
    g.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="DETECTOR.KEY=VALUE",
        help="override a threshold (repeatable), e.g. crashed-run.stale_after_hours=12",
    )
    return g


def run_detect(args: argparse.Namespace) -> int:
    from reportgen.atomic import write_text_atomic
    from reportgen.config import load_detect_config
    from reportgen.detectors.run import run_detectors
    from reportgen.io.load import load_sweep
    from reportgen.render.detect_text import render_detection

    config = load_detect_config(
        args.config, select=csv_list(args.select), ignore=csv_list(args.ignore), sets=args.set
    )
    sweep = load_sweep(args.export, load_options_from(args))
    detection = run_detectors(sweep, config)
    if args.output_format == "json":
        doc = {
            "schema_version": SCHEMA_VERSION,
            "sweep": {
                "source": sweep.source.model_dump(),
                "runs": len(sweep.runs),
                "states": {k: v for k, v in sweep.state_counts.items() if v},
                "objective": None if sweep.schema.objective is None else sweep.schema.objective.model_dump(),
                "warnings": sweep.warnings,
            },
            **json.loads(detection.model_dump_json()),
        }
        text = json.dumps(doc, indent=2, allow_nan=True) + "\n"
    else:
        text = render_detection(sweep.source.path, len(sweep.runs), detection, sweep.warnings)
    if args.output:
        write_text_atomic(args.output, text)
    else:
        print(text, end="")
    return 0


def _explain_entry(spec: Any) -> dict[str, Any]:
    model = spec.thresholds_model
    thresholds = [
        {"name": name, "default": field.default, "description": field.description or ""}
        for name, field in model.model_fields.items()
    ]
    return {
        "code": spec.code,
        "name": spec.name,
        "severity": spec.severity,
        "doc": spec.doc,
        "thresholds": thresholds,
    }


def run_explain(args: argparse.Namespace) -> int:
    from reportgen.detectors.registry import REGISTRY, find_spec
    from reportgen.render.detect_text import render_explain

    if args.detector is None:
        rows = [
            {
                "code": s.code,
                "name": s.name,
                "severity": s.severity,
                "summary": " ".join(s.doc.split("\n\n")[0].split()),
            }
            for s in REGISTRY
        ]
        if args.output_format == "json":
            print(json.dumps({"schema_version": SCHEMA_VERSION, "detectors": rows}, indent=2))
        else:
            for r in rows:
                print(f"{r['code']}  {r['name']:<28} {r['severity']:<6} {r['summary'].split(': ', 1)[-1]}")
        return 0
    spec = find_spec(args.detector)
    if spec is None:
        raise UsageError(f"no detector {args.detector!r}; `reportgen explain` lists them")
    entry = _explain_entry(spec)
    print(
        json.dumps({"schema_version": SCHEMA_VERSION, **entry}, indent=2)
        if args.output_format == "json"
        else render_explain(entry),
        end="\n" if args.output_format == "json" else "",
    )
    return 0
