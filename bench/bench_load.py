"""Loading benchmark: how long `load_sweep` takes on a synthetic sweep with a large history.

A seeded generator writes R runs x S steps x M metrics (runs table + history as long Parquet, long CSV and
wide CSV), then times `load_sweep` for each against the floor of a bare `pandas.read_parquet` / `read_csv`
of the same history. Median of --repeat runs. Prints a Markdown table.

    python bench/bench_load.py --runs 1000 --steps 500 --metrics 2 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from reportgen.io.load import load_sweep
from reportgen.io.options import LoadOptions

# names the curve detectors recognise, so the benchmark exercises them
METRIC_NAMES = ("train_loss", "val_loss", "test_loss", "aux_loss")


def make_sweep(
    folder: Path, runs: int, steps: int, metrics: int, seed: int = 0, csv: bool = True
) -> dict[str, Path]:
    """Write the synthetic sweep; about 5% of runs diverge to NaN and 10% crash early. ``csv=False``
    writes only the runs table and the long Parquet history (the same seeded data, much faster)."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"run-{i:05d}" for i in range(runs)])
    lr = 10 ** rng.uniform(-5, -1, runs)
    state = np.where(rng.random(runs) < 0.1, "crashed", "finished")
    length = np.where(state == "crashed", rng.integers(1, steps, runs), steps)
    pd.DataFrame(
        {"run_id": ids, "state": state, "lr": lr, "batch_size": rng.choice([16, 32, 64], runs)}
    ).to_parquet(folder / "runs.parquet", index=False)
    run_idx = np.repeat(np.arange(runs), steps)
    step = np.tile(np.arange(steps), runs)
    keep = step < length[run_idx]
    run_idx, step = run_idx[keep], step[keep]
    wide = {"run_id": ids[run_idx], "step": step}
    for m in range(metrics):
        values = 2.3 * np.exp(-step / (50 + 100 * rng.random())) + rng.normal(0, 0.01, step.size)
        diverged = (lr[run_idx] > 0.05) & (step > steps // 2)
        values[diverged] = np.nan
        wide[METRIC_NAMES[m % len(METRIC_NAMES)] + ("" if m < len(METRIC_NAMES) else f"_{m}")] = values
    wide_df = pd.DataFrame(wide)
    long_df = wide_df.melt(id_vars=["run_id", "step"], var_name="metric", value_name="value")
    paths = {
        "long parquet": folder / "history_long.parquet",
        "long csv": folder / "history_long.csv",
        "wide csv": folder / "history_wide.csv",
    }
    long_df.to_parquet(paths["long parquet"], index=False)
    if not csv:
        return {"long parquet": paths["long parquet"]}
    long_df.to_csv(paths["long csv"], index=False)
    wide_df.to_csv(paths["wide csv"], index=False)
    return paths


def median_seconds(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_args(doc: str) -> argparse.Namespace:
    """The sweep-size flags both benchmarks take."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--metrics", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    return parser.parse_args()


def main() -> None:
    args = bench_args(__doc__ or "")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = make_sweep(folder, args.runs, args.steps, args.metrics)
        print("| history | rows | floor (s) | load_sweep (s) | ratio |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for label, path in paths.items():
            reader = pd.read_parquet if path.suffix == ".parquet" else pd.read_csv
            floor = median_seconds(lambda p=path, r=reader: r(p), args.repeat)
            sweep = load_sweep(folder / "runs.parquet", LoadOptions(history=path))
            took = median_seconds(
                lambda p=path: load_sweep(folder / "runs.parquet", LoadOptions(history=p)), args.repeat
            )
            print(f"| {label} | {len(sweep.history):,} | {floor:.2f} | {took:.2f} | {took / floor:.1f}x |")


if __name__ == "__main__":
    main()
