"""Malformed and odd exports: each ends in a Sweep with a documented reading, or a one-line error with
exit code 2, never a traceback. The CLI cases run in-process through `main()` for speed; the contract
(one stderr line, nothing on stdout, exit 2) is the same as in a subprocess (see test_cli_inspect)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reportgen.cli.main import main
from reportgen.errors import InputError
from reportgen.io.load import load_sweep
from reportgen.io.options import LoadOptions


def _write(tmp_path: Path, name: str, content: bytes | str) -> Path:
    p = tmp_path / name
    p.write_bytes(content.encode() if isinstance(content, str) else content)
    return p


ERRORS = [
    ("empty.csv", b"", "empty file"),
    ("binary.csv", bytes(range(256)) * 4, "binary content"),
    ("cut.json", '[{"run_id": "a", "lr": 0.1}, {"run_id": "b", "lr": 0.', "truncated JSON"),
    ("scalar.json", "42", "expected a JSON array"),
    ("nested.json", "[[1, 2], [3, 4]]", "record 1 is a list"),
    ("ragged.csv", "run_id,lr\na,0.1\nb,0.2,extra,cells\n", "malformed CSV"),
    ("noheader.csv", "\n\n\n", "empty file"),
    ("dupcol.csv", "run_id,lr,lr\na,1,2\n", "appears twice"),
    ("blankcol.csv", "run_id,,lr\na,1,2\n", "has no name"),
    ("plain.sqlite3", None, "not a sweep export"),
]


@pytest.mark.parametrize(("name", "content", "fragment"), ERRORS, ids=[e[0] for e in ERRORS])
def test_malformed_export_is_one_line_exit_2(tmp_path: Path, capsys, name, content, fragment) -> None:
    if content is None:  # a real SQLite database that is not an Optuna storage
        path = tmp_path / name
        with sqlite3.connect(path) as con:
            con.execute("create table runs (id text, lr real)")
    else:
        path = _write(tmp_path, name, content)
    code = main(["inspect", str(path)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert fragment in lines[0] and str(path) in lines[0]


def test_truncated_parquet_and_empty_folder(tmp_path: Path, capsys) -> None:
    good = tmp_path / "runs.parquet"
    pd.DataFrame({"run_id": ["a", "b"], "lr": [0.1, 0.2]}).to_parquet(good)
    cut = _write(tmp_path, "cut.parquet", good.read_bytes()[: len(good.read_bytes()) // 2])
    assert main(["inspect", str(cut)]) == 2
    assert "not a readable Parquet file" in capsys.readouterr().err
    empty = tmp_path / "empty_dir"
    empty.mkdir()
    assert main(["inspect", str(empty)]) == 2
    assert "folder holds no export" in capsys.readouterr().err


def test_odd_but_readable_values(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "odd.csv",
        "\ufeffrun_id;lr;loss;n_params;state;notes\r\n"
        'r1;1e-3;1e308;"1,234,567";FINISHED;"<script>alert(1)</script>"\r\n'
        'r2;0.01;-inf;"2,000,000";crashed;"| a | table |"\r\n'
        'r3;0.1;Infinity;"3,000,000";zombie;ignore previous instructions\r\n'
        'r\u00e9sum\u00e9;0.2;nan;"4,000,000";running;\u6f22\u5b57\r\n',
    )
    sweep = load_sweep(path)
    runs = sweep.runs.set_index("run_id")
    assert list(runs.index) == ["r1", "r2", "r3", "r\u00e9sum\u00e9"]
    assert runs["loss"].tolist()[:3] == [1e308, -np.inf, np.inf] and np.isnan(
        runs.loc["r\u00e9sum\u00e9", "loss"]
    )
    assert runs["n_params"].tolist() == [1234567, 2000000, 3000000, 4000000]
    assert runs["state"].tolist() == ["finished", "crashed", "unknown", "running"]
    assert runs.loc["r3", "state_raw"] == "zombie"
    assert "state 'zombie' (1 run(s)) is not a known state; kept as 'unknown'" in sweep.warnings
    assert "notes" in sweep.schema.ignored_columns  # free text is kept out of params and metrics


def test_ten_thousand_columns(tmp_path: Path) -> None:
    cols = {f"m{i}": np.linspace(0, 1, 5) + i for i in range(10_000)}
    pd.DataFrame({"run_id": list("abcde"), **cols}).to_csv(tmp_path / "wide.csv", index=False)
    sweep = load_sweep(tmp_path / "wide.csv")
    assert len(sweep.runs) == 5 and len(sweep.schema.params) + len(sweep.schema.metrics) == 10_000


def test_history_with_unknown_runs_and_repeated_steps(tmp_path: Path) -> None:
    runs = _write(tmp_path, "runs.csv", "run_id,lr,state\na,0.1,finished\nb,0.2,crashed\n")
    hist = _write(
        tmp_path,
        "history.csv",
        "run_id,step,loss\na,0,2.3\na,1,1.9\na,1,1.8\nb,0,2.3\nb,1,nan\nzzz,0,1.0\n",
    )
    sweep = load_sweep(runs, LoadOptions(history=hist))
    h = sweep.history
    assert len(h) == 4
    assert h.loc[(h["run_id"] == "a") & (h["step"] == 1), "value"].tolist() == [1.8]
    assert np.isnan(h.loc[(h["run_id"] == "b") & (h["step"] == 1), "value"]).all()
    assert any("match no run" in w and "'zzz'" in w for w in sweep.warnings)
    assert any("repeat a (run, metric, step)" in w for w in sweep.warnings)


def test_history_without_step_or_id_is_one_line(tmp_path: Path) -> None:
    runs = _write(tmp_path, "runs.csv", "run_id,lr\na,0.1\n")
    no_step = _write(tmp_path, "h1.csv", "run_id,loss\na,1.0\n")
    with pytest.raises(InputError, match=r"h1.csv: history has no step column"):
        load_sweep(runs, LoadOptions(history=no_step))
    no_id = _write(tmp_path, "h2.csv", "step,loss\n0,1.0\n")
    with pytest.raises(InputError, match=r"h2.csv: history has no run id column"):
        load_sweep(runs, LoadOptions(history=no_id))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400), st.sampled_from(["x.csv", "x.json", "x.jsonl", "x.parquet", "x.dat"]))
def test_arbitrary_bytes_never_escape_as_a_traceback(tmp_path: Path, data: bytes, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    try:
        load_sweep(path)
    except InputError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.lists(
            st.one_of(
                st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=8),
                st.floats(allow_nan=True, allow_infinity=True).map(repr),
                st.integers().map(str),
            ),
            min_size=3,
            max_size=3,
        ),
        max_size=12,
    )
)
def test_arbitrary_csv_cells_read_or_fail_cleanly(tmp_path: Path, rows: list[list[str]]) -> None:
    path = tmp_path / "runs.csv"
    body = "".join(",".join('"' + c.replace('"', '""') + '"' for c in row) + "\n" for row in rows)
    path.write_text("run_id,lr,val_loss\n" + body, encoding="utf-8")
    try:
        sweep = load_sweep(path)
    except InputError as exc:
        assert "\n" not in str(exc)
    else:
        assert len(sweep.runs) == len(rows) and sweep.runs["run_id"].is_unique
