"""Checker benchmark: `check_markdown` on a draft of about 1,100 claims over sweeps of several sizes.

The draft cycles through one sentence per claim family (per-run values, comparisons over named and
selected runs, counts, shares, bucket rates, trends, rankings), so every family's cost is in the figure.
Each sweep is seeded (runs with lr, batch_size, weight_decay, losses and runtimes; 10% crashed). Prints a
Markdown table of medians of --repeat after one warm-up (the FactSheet and vocabulary are built once per
sweep, as `reportgen check` does).

    python bench/bench_check.py --sizes 8,1000,10000 --repeat 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from reportgen.detectors.run import run_detectors
from reportgen.factcheck.entities import build_vocabulary
from reportgen.factcheck.verify import check_markdown
from reportgen.facts import build_factsheet
from reportgen.io.load import load_sweep
from reportgen.io.options import LoadOptions

SENTENCES = [
    "Run r00003 had a val_loss/train_loss ratio of 5.33 and a weight decay of 0.0.",
    "Runs r00001 and r00002 had learning rates above 0.01.",
    "The sweep contained {n} runs, and 10% of runs crashed.",
    "Crashed runs all had a learning rate above 0.005.",
    "Larger batch sizes lead to longer training times.",
    "The batch size bucket `(16.0, 32.0]` has an issue rate of 0.1.",
    "Run r00004 had the highest learning rate.",
    "3 runs with a batch size above 64 crashed.",
]


def sweep_table(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "run_id": [f"r{i:05d}" for i in range(n)],
            "state": np.where(rng.random(n) < 0.1, "crashed", "finished"),
            "lr": 10 ** rng.uniform(-4, -1, n),
            "batch_size": rng.choice([16, 32, 64, 128], n),
            "weight_decay": rng.choice([0.0, 1e-4], n),
            "train_loss": rng.random(n),
            "val_loss": rng.random(n) + 0.1,
            "runtime_s": rng.uniform(100, 1000, n),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="8,1000,10000", help="comma-separated run counts")
    parser.add_argument("--paragraphs", type=int, default=900)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print("| runs | claims | seconds (median) | claims per second |")
    print("| ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"runs{n}.csv"
            sweep_table(n).to_csv(path, index=False)
            sweep = load_sweep(path, LoadOptions())
            facts = build_factsheet(sweep, run_detectors(sweep))
            vocab = build_vocabulary(sweep, facts)
            body = [SENTENCES[i % len(SENTENCES)].format(n=n) for i in range(args.paragraphs)]
            draft = "# Report\n\n" + "\n\n".join(body) + "\n"
            claims = len(check_markdown(draft, facts, vocab))
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                check_markdown(draft, facts, vocab)
                times.append(time.perf_counter() - start)
            seconds = statistics.median(times)
            print(f"| {n:,} | {claims:,} | {seconds:.2f} | {claims / seconds:,.0f} |")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
