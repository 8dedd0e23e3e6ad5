"""Out-of-core benchmark: time and peak memory of reading a long Parquet history whole (`load_sweep`)
against reducing it in chunks (`history_reduce`, pyarrow) and on DuckDB (`history_duckdb`).

`bench_load.py`'s seeded generator writes R runs x S steps x M metrics for each S in --steps (so the
rows grow while the curves, and with them the reducers' output, stay the same), rewritten as one long
Parquet file with --row-group rows per row group and as a folder partitioned by metric
(`metric=<name>/part-0.parquet`). Each figure is measured in a fresh child process: wall seconds and peak
RSS (Linux VmHWM, reset after the imports) above the child's RSS after its imports. One run each. Prints
a Markdown table. The chunked reducer's peak should stay about flat as the rows grow (it holds one batch
of --batch-rows rows, then one spill file of about as many rows, plus the output), while the in-memory
read grows with the history.

    python bench/bench_outofcore.py --runs 1000 --steps 1000,2000,4000 --metrics 2
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_all import _reset_peak, _rss_bytes  # noqa: E402
from bench_load import make_sweep  # noqa: E402

METHODS = ("memory", "chunked", "duckdb", "chunked-folder", "duckdb-folder")


def write_inputs(folder: Path, runs: int, steps: int, metrics: int, row_group: int) -> int:
    """The seeded sweep; its history rewritten with `row_group` rows per row group, and as a folder
    partitioned by metric. Returns the number of history rows."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    path = make_sweep(folder, runs, steps, metrics, csv=False)["long parquet"]
    table = pq.read_table(path)
    pq.write_table(table, path, row_group_size=row_group)
    ds.write_dataset(
        table,
        folder / "history_parts",
        format="parquet",
        partitioning=["metric"],
        partitioning_flavor="hive",
        max_rows_per_group=row_group,
        min_rows_per_group=row_group,
        use_threads=False,  # keeps the rows in file order
    )
    return table.num_rows


def child(method: str, folder: Path, max_points: int, batch_rows: int, memory_limit: str) -> None:
    """Run one method in this fresh process; print seconds, peak RSS above the baseline, rows kept."""
    import duckdb  # noqa: F401

    from reportgen.io import history_duckdb, history_reduce
    from reportgen.io.history_source import history_source
    from reportgen.io.load import load_sweep
    from reportgen.io.options import LoadOptions

    history = folder / ("history_parts" if method.endswith("-folder") else "history_long.parquet")
    gc.collect()
    _reset_peak()
    baseline = _rss_bytes()
    start = time.perf_counter()
    if method == "memory":
        kept = len(load_sweep(folder / "runs.parquet", LoadOptions(history=history)).history)
    else:
        source = history_source(history, None, ("run_id",), None)
        if method.startswith("duckdb"):
            reduced = history_duckdb.reduce_duckdb(source, max_points, memory_limit=memory_limit)
        else:
            reduced = history_reduce.reduce_chunked(source, max_points, batch_rows=batch_rows)
        kept = reduced.rows_kept
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak": _rss_bytes() - baseline, "kept": kept}))


def measure(method: str, folder: Path, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--child", method, "--folder", str(folder)]
    cmd += ["--max-points", str(args.max_points), "--batch-rows", str(args.batch_rows)]
    cmd += ["--memory-limit", args.memory_limit]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument(
        "--steps", default="1000,2000,4000", help="comma-separated steps per run, one size each"
    )
    parser.add_argument("--metrics", type=int, default=2)
    parser.add_argument("--row-group", type=int, default=131_072, help="rows per Parquet row group")
    parser.add_argument("--batch-rows", type=int, default=1 << 18, help="the chunked reducer's batch")
    parser.add_argument("--max-points", type=int, default=100, help="rows kept per curve")
    parser.add_argument("--memory-limit", default="512MB", help="DuckDB's memory_limit")
    parser.add_argument("--child", choices=METHODS)
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.folder, args.max_points, args.batch_rows, args.memory_limit)
        return
    labels = {
        "memory": "`load_sweep` (memory engine)",
        "chunked": "chunked reduce, one file",
        "duckdb": f"DuckDB reduce, one file (memory_limit {args.memory_limit})",
        "chunked-folder": "chunked reduce, partitioned folder",
        "duckdb-folder": "DuckDB reduce, partitioned folder",
    }
    print(
        f"{args.runs:,} runs x {args.metrics} metrics; row groups of {args.row_group:,} rows; chunked batch "
        f"{args.batch_rows:,} rows; at most {args.max_points} rows kept per curve\n"
    )
    print("| history rows | method | seconds | peak RSS above imports | rows kept |")
    print("| ---: | --- | ---: | ---: | ---: |")
    for steps in (int(s) for s in args.steps.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            rows = write_inputs(folder, args.runs, steps, args.metrics, args.row_group)
            for method in METHODS:
                got = measure(method, folder, args)
                print(
                    f"| {rows:,} | {labels[method]} | {got['seconds']:.2f} | "
                    f"{got['peak'] / 2**20:,.0f} MiB | {got['kept']:,} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
