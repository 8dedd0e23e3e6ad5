"""Out-of-core history reduction (`--history-engine chunked|duckdb`) against the in-memory path.

Real Parquet files written by pyarrow with small row groups, rows shuffled within and across them,
repeated (run, metric, step) rows, NaN and +-inf values, NaN steps and runs the runs table does not
know; one file, and the same rows as a hive-partitioned folder. The exact per-curve statistics of both
engines must equal `curve_stats` over the fully loaded Sweep; the kept rows must be real rows, at most
`max_points` per curve, the same for both engines; and with every row kept, `reportgen detect` must
find the same as with the memory engine.
"""

from __future__ import annotations

import importlib.util
import io
import json
import tracemalloc
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reportgen.cli.main import main
from reportgen.detectors import curves
from reportgen.detectors.curves import curve_stats
from reportgen.detectors.run import run_detectors
from reportgen.errors import InputError, UsageError
from reportgen.io import history_source as hs
from reportgen.io.history_reduce import reduce_chunked
from reportgen.io.load import load_sweep
from reportgen.io.options import LoadOptions

duckdb_missing = importlib.util.find_spec("duckdb") is None
needs_duckdb = pytest.mark.skipif(duckdb_missing, reason="duckdb is not installed")
ENGINES = ["chunked", pytest.param("duckdb", marks=needs_duckdb)]
RUNS = [f"run-{i}" for i in range(12)]


def _history(seed: int = 3, rows: int = 4000) -> pd.DataFrame:
    """A long history in file order: shuffled, with repeats, NaN/inf values, NaN steps, a ghost run."""
    rng = np.random.default_rng(seed)
    run = rng.choice([*RUNS, "ghost"], rows)
    steps = np.where(np.char.endswith(run.astype(str), "1"), 400, 90)  # run-1 and run-11 are long
    df = pd.DataFrame(
        {
            "run_id": run,
            "step": rng.integers(0, steps).astype("float64"),
            "metric": rng.choice(["train_loss", "val_loss", "accuracy"], rows),
            "value": rng.normal(1.0, 0.3, rows),
        }
    )
    df.loc[rng.random(rows) < 0.03, "value"] = np.nan
    df.loc[rng.random(rows) < 0.01, "value"] = np.inf
    df.loc[rng.random(rows) < 0.01, "value"] = -np.inf
    df.loc[rng.random(rows) < 0.01, "step"] = np.nan
    # a curve with only NaN values and one with only infinities
    extra = pd.DataFrame(
        {
            "run_id": ["run-0"] * 3 + ["run-2"] * 2,
            "step": [0.0, 1.0, 1.0, 5.0, 6.0],
            "metric": ["nan_metric"] * 3 + ["inf_metric"] * 2,
            "value": [np.nan, np.nan, 2.0, np.inf, -np.inf],
        }
    )
    return pd.concat([df, extra], ignore_index=True)


def _write(tmp: Path, history: pd.DataFrame) -> dict[str, Path]:
    """The runs table, the history as one Parquet file (row groups of 300 rows) and as a folder
    partitioned by run (hive `run_id=...` folders, two files per run so file order matters)."""
    pd.DataFrame(
        {"run_id": RUNS, "state": ["finished"] * len(RUNS), "lr": np.linspace(0.001, 0.1, 12)}
    ).to_csv(tmp / "runs.csv", index=False)
    file = tmp / "history.parquet"
    pq.write_table(pa.Table.from_pandas(history, preserve_index=False), file, row_group_size=300)
    folder = tmp / "history"
    for (run,), rows in history.groupby(["run_id"], sort=True):
        part = folder / f"run_id={run}"
        part.mkdir(parents=True)
        body = rows.drop(columns="run_id")
        half = len(body) // 2
        pq.write_table(pa.Table.from_pandas(body.iloc[:half], preserve_index=False), part / "a.parquet")
        pq.write_table(pa.Table.from_pandas(body.iloc[half:], preserve_index=False), part / "b.parquet")
    return {"runs": tmp / "runs.csv", "file": file, "folder": folder}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _write(tmp_path_factory.mktemp("ooc"), _history())


@pytest.fixture(scope="module")
def memory(files: dict[str, Path]):
    return load_sweep(files["runs"], LoadOptions(history=files["file"]))


def _reduced(engine: str, path: Path, max_points: int):
    source = hs.history_source(path, None, ("run_id",), None)
    if engine == "duckdb":
        from reportgen.io.history_duckdb import reduce_duckdb

        return reduce_duckdb(source, max_points, memory_limit="256MB", threads=1)
    return reduce_chunked(source, max_points, batch_rows=256, partition_rows=700)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("layout", ["file", "folder"])
def test_exact_stats_equal_the_memory_path(files, memory, engine: str, layout: str) -> None:
    sweep = load_sweep(files["runs"], LoadOptions(history=files[layout], history_engine=engine, max_points=7))
    expected = curve_stats(memory)
    assert sweep.exact_curve_stats is not None
    pd.testing.assert_frame_equal(sweep.exact_curve_stats, expected, check_exact=True)
    # what the detectors see: the cache is seeded with the exact statistics
    cache: dict[str, object] = {}
    run_detectors(sweep, cache=cache)
    pd.testing.assert_frame_equal(cache[curves.CURVE_STATS_KEY], expected, check_exact=True)
    # per-run facts from the whole history, not from the kept rows
    pd.testing.assert_series_equal(sweep.runs["steps"], memory.runs["steps"], check_exact=True)
    pd.testing.assert_series_equal(sweep.runs["last_step"], memory.runs["last_step"], check_exact=True)
    same = [w for w in memory.warnings if "repeat" in w or "match no run" in w]
    assert same and all(w in sweep.warnings for w in same)
    assert any(f"({engine} engine)" in w and "at most 7 per curve" in w for w in sweep.warnings)


@pytest.mark.parametrize("layout", ["file", "folder"])
def test_kept_rows_are_real_bounded_and_equal_across_engines(files, memory, layout: str) -> None:
    chunked = _reduced("chunked", files[layout], 7)
    full = memory.history.astype({"run_id": "str", "metric": "str"})
    kept = chunked.history.astype({"run_key": "str", "metric": "str"}).rename(columns={"run_key": "run_id"})
    kept = kept[kept["run_id"].isin(RUNS)]
    real = kept.merge(full, on=["run_id", "metric", "step", "value"], how="left", indicator=True)
    assert (real["_merge"] == "both").all()  # every kept row is a logged row (the last of its repeats)
    per_curve = kept.groupby(["run_id", "metric"]).size()
    logged = full.groupby(["run_id", "metric"]).size()
    assert (per_curve <= 7).all()
    assert per_curve.equals(np.minimum(logged, 7).loc[per_curve.index])
    # each curve keeps its first and last row
    ends = kept.groupby(["run_id", "metric"])["step"].agg(["min", "max"])
    pd.testing.assert_frame_equal(
        ends, full.groupby(["run_id", "metric"])["step"].agg(["min", "max"]).loc[ends.index]
    )
    if not duckdb_missing:
        duck = _reduced("duckdb", files[layout], 7)
        pd.testing.assert_frame_equal(chunked.history, duck.history, check_exact=True)
        pd.testing.assert_frame_equal(chunked.stats, duck.stats, check_exact=True)
        pd.testing.assert_series_equal(chunked.steps, duck.steps, check_exact=True)
        pd.testing.assert_series_equal(chunked.repeats, duck.repeats, check_exact=True)
        assert chunked.varying == duck.varying
        assert (chunked.rows_read, chunked.rows_kept) == (duck.rows_read, duck.rows_kept)


def test_decimation_rule_keeps_evenly_spaced_rows() -> None:
    size = np.full(10, 10)
    kept = hs.decimated_positions(np.arange(10), size, 4)
    assert np.flatnonzero(kept).tolist() == [0, 3, 6, 9]
    assert hs.decimated_positions(np.arange(3), np.full(3, 3), 4).all()


def _detect(export: Path, history: Path, *flags: str) -> dict:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["detect", str(export), "--history", str(history), "--format", "json", *flags])
    assert code in (0, 1)
    return json.loads(out.getvalue())


@pytest.mark.parametrize("engine", ENGINES)
def test_detect_findings_equal_memory_engine_when_every_row_is_kept(files, engine: str) -> None:
    expected = _detect(files["runs"], files["file"])
    got = _detect(files["runs"], files["file"], "--history-engine", engine, "--max-points", "100000")
    assert expected["findings"], "the fixture should trigger findings"
    assert got["findings"] == expected["findings"]
    assert got["errors"] == expected["errors"] == []


def test_detect_text_says_the_history_was_reduced(files) -> None:
    """The text output carries the reduction note: its curve checks saw only the kept rows."""
    out = io.StringIO()
    args = ["detect", str(files["runs"]), "--history", str(files["file"]), "--history-engine", "chunked"]
    with redirect_stdout(out):
        assert main([*args, "--max-points", "3"]) in (0, 1)
    note = next(line for line in out.getvalue().splitlines() if "history reduced" in line)
    assert note.startswith("  note: history reduced out of core (chunked engine):")
    assert "(at most 3 per curve)" in note


def test_other_histories_and_bad_input_are_one_line_errors(tmp_path: Path, files) -> None:
    csv = tmp_path / "h.csv"
    csv.write_text("run_id,step,metric,value\nrun-0,0,loss,1\n")
    with pytest.raises(UsageError, match="long Parquet history"):
        load_sweep(files["runs"], LoadOptions(history=csv, history_engine="chunked"))
    wide = tmp_path / "wide.parquet"
    pq.write_table(pa.table({"run_id": ["run-0"], "step": [0], "loss": [1.0]}), wide)
    with pytest.raises(InputError, match="must be long"):
        load_sweep(files["runs"], LoadOptions(history=wide, history_engine="chunked"))
    text_value = tmp_path / "text.parquet"
    pq.write_table(pa.table({"run_id": ["run-0"], "step": [0], "metric": ["a"], "value": ["x"]}), text_value)
    with pytest.raises(InputError, match="column 'value'"):
        load_sweep(files["runs"], LoadOptions(history=text_value, history_engine="chunked"))
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match=r"broken\.parquet"):
        load_sweep(files["runs"], LoadOptions(history=broken, history_engine="chunked"))
    with pytest.raises(UsageError, match="--duckdb-memory-limit 'abc'"):
        load_sweep(
            files["runs"],
            LoadOptions(history=files["file"], history_engine="duckdb", duckdb_memory_limit="abc"),
        )


def test_chunked_memory_is_bounded_by_the_chunk(tmp_path: Path) -> None:
    """Peak Python-side allocations of a reduction (numpy arrays are traced) stay near the chunk's size
    as the file grows 8x: the history is never held whole."""

    def peak(rows: int) -> int:
        rng = np.random.default_rng(0)
        run = rng.integers(0, 200, rows)
        table = pa.table(
            {
                "run_id": pa.array(np.char.add("r", run.astype(str))),
                "step": rng.integers(0, rows // 200 + 1, rows).astype("float64"),
                "metric": pa.array(np.where(rng.random(rows) < 0.5, "train_loss", "val_loss")),
                "value": rng.normal(size=rows),
            }
        )
        path = tmp_path / f"h{rows}.parquet"
        pq.write_table(table, path, row_group_size=16_384)
        del table
        source = hs.history_source(path, None, ("run_id",), None)
        tracemalloc.start()
        try:
            reduce_chunked(source, 50, batch_rows=16_384, partition_rows=16_384)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(50_000), peak(400_000)
    history_bytes = 400_000 * 24
    assert large < history_bytes / 2, (small, large)
    assert large < 2.5 * small, (small, large)


@pytest.mark.parametrize("engine", ENGINES)
def test_integer_ids_null_cells_and_infinite_steps(tmp_path: Path, engine: str) -> None:
    """Integer run ids and steps (read as text and float, as the memory path does), Parquet nulls (a
    null step drops the row, a null value is a logged NaN), steps of -inf and +inf, a repeat."""
    pd.DataFrame({"run_id": [1, 2, 3], "state": ["finished"] * 3}).to_csv(tmp_path / "runs.csv", index=False)
    table = pa.table(
        {
            "run_id": pa.array([1, 1, 1, 2, 2, 2, 3, 3, 9, 3], pa.int64()),
            "step": pa.array([0, 5, 5, 1, None, 2, 7, 3, 1, 9], pa.int64()),
            "metric": ["loss"] * 10,
            "value": pa.array([1.0, None, 3.0, np.inf, 2.0, 2.0, -np.inf, 0.5, 1.0, None]),
        }
    )
    pq.write_table(table, tmp_path / "h.parquet", row_group_size=3)
    steps = pa.table(
        {
            "run_id": ["1"] * 4,
            "step": [-np.inf, 0.0, 1.0, np.inf],
            "metric": ["a"] * 4,
            "value": [5.0, 1.0, 1.0, 7.0],
        }
    )
    pq.write_table(steps, tmp_path / "inf.parquet")
    for name in ("h.parquet", "inf.parquet"):
        memory = load_sweep(tmp_path / "runs.csv", LoadOptions(history=tmp_path / name))
        reduced = load_sweep(
            tmp_path / "runs.csv", LoadOptions(history=tmp_path / name, history_engine=engine, max_points=2)
        )
        pd.testing.assert_frame_equal(reduced.exact_curve_stats, curve_stats(memory), check_exact=True)
        pd.testing.assert_series_equal(reduced.runs["steps"], memory.runs["steps"], check_exact=True)
        assert [w for w in reduced.warnings if "reduced out of core" not in w] == memory.warnings
