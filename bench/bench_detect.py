"""Detection benchmark: every registered detector over a synthetic sweep with a large history.

Uses the seeded generator of bench_load.py (R runs x S steps x M metrics, 10% crashed early, NaN
divergence for high learning rates), loads it once, then times `run_detectors` and `build_factsheet`
(medians of --repeat) against the floor of a bare `pandas.read_parquet` of the same history, and prints
the slowest detectors. Prints a Markdown table.

    python bench/bench_detect.py --runs 1000 --steps 500 --metrics 2 --repeat 3
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import bench_args, make_sweep, median_seconds

from reportgen.detectors.base import Context
from reportgen.detectors.registry import REGISTRY
from reportgen.detectors.run import run_detectors
from reportgen.facts import build_factsheet
from reportgen.io.load import load_sweep
from reportgen.io.options import LoadOptions


def main() -> None:
    args = bench_args(__doc__ or "")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = make_sweep(folder, args.runs, args.steps, args.metrics)
        history = paths["long parquet"]
        floor = median_seconds(lambda: pd.read_parquet(history), args.repeat)
        sweep = load_sweep(folder / "runs.parquet", LoadOptions(history=history))
        detect = median_seconds(lambda: run_detectors(sweep), args.repeat)
        cache: dict[str, object] = {}
        detection = run_detectors(sweep, cache=cache)
        facts = median_seconds(lambda: build_factsheet(sweep, detection, cache), args.repeat)
        print(
            f"history rows: {len(sweep.history):,}; findings: {len(detection.findings)}; "
            f"detector errors: {len(detection.errors)}"
        )
        print("| stage | seconds | ratio to bare read |")
        print("| --- | ---: | ---: |")
        print(f"| bare read_parquet | {floor:.2f} | 1.0x |")
        print(f"| run_detectors (all {len(REGISTRY)}) | {detect:.2f} | {detect / floor:.1f}x |")
        print(f"| build_factsheet | {facts:.2f} | {facts / floor:.1f}x |")
        timings = []
        for spec in REGISTRY:
            ctx = Context(
                spec=spec,
                thresholds=spec.thresholds_model(),
                severity=spec.severity,
                prior=tuple(detection.findings),
            )
            start = time.perf_counter()
            spec.load().detect(sweep, ctx)
            timings.append((time.perf_counter() - start, spec.name))
        slowest = ", ".join(f"{name} {secs:.2f}s" for secs, name in sorted(timings, reverse=True)[:5])
        print(f"\nslowest detectors (cold cache): {slowest}")


if __name__ == "__main__":
    main()
