"""Plain-table reading: encodings, delimiters, odd tokens and malformed files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen.errors import InputError
from reportgen.io.tables import read_table


def _read(path: Path) -> tuple[pd.DataFrame, list[str]]:
    warnings: list[str] = []
    return read_table(path, warnings), warnings


def test_bom_crlf_semicolon_and_quoted_newline(tmp_path: Path) -> None:
    p = tmp_path / "runs.csv"
    p.write_bytes('\ufeffrun_id;lr;notes\r\na;0,5;"two\r\nlines"\r\nb;1e-3;plain\r\n'.encode())
    df, _ = _read(p)
    assert list(df.columns) == ["run_id", "lr", "notes"]
    assert df["notes"].tolist() == ["two\r\nlines", "plain"]
    assert df["run_id"].tolist() == ["a", "b"]


def test_tab_and_pipe_delimiters(tmp_path: Path) -> None:
    for sep in ("\t", "|"):
        p = tmp_path / "runs.tsv"
        p.write_text(f"run_id{sep}lr{sep}state\nx{sep}0.1{sep}finished\ny{sep}0.2{sep}crashed\n")
        df, _ = _read(p)
        assert df.shape == (2, 3)
        assert df["lr"].tolist() == [0.1, 0.2]


def test_non_utf8_falls_back_with_a_warning(tmp_path: Path) -> None:
    p = tmp_path / "runs.csv"
    p.write_bytes("run_id,optimizer\nr1,ad\xe9m\nr2,sgd\n".encode("cp1252"))
    df, warnings = _read(p)
    assert df["optimizer"].tolist() == ["adém", "sgd"]
    assert any("not valid UTF-8" in w and "cp1252" in w for w in warnings)


def test_nan_and_infinity_spellings_are_numbers(tmp_path: Path) -> None:
    p = tmp_path / "runs.csv"
    p.write_text("run_id,loss\na,nan\nb,inf\nc,-inf\nd,Infinity\ne,1e308\nf,\ng,-Infinity\n")
    df, _ = _read(p)
    loss = df["loss"].to_numpy()
    assert np.isnan(loss[0]) and np.isnan(loss[5])
    assert loss[1] == np.inf and loss[2] == -np.inf and loss[3] == np.inf and loss[6] == -np.inf
    assert loss[4] == 1e308


def test_none_and_na_stay_category_values(tmp_path: Path) -> None:
    p = tmp_path / "runs.csv"
    p.write_text("run_id,norm\na,None\nb,NA\nc,layernorm\n")
    df, _ = _read(p)
    assert df["norm"].tolist() == ["None", "NA", "layernorm"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty file"),
        (b"\x00\x01\x02PK\x03\x04 binary", "binary content"),
        (b'[{"run_id": "a", "lr": 0.1}, {"run_id": "b", "lr"', "truncated JSON at line 1"),
        (b"[1, 2, 3]", "record 1 is a int"),
    ],
)
def test_malformed_files_are_one_line_errors(tmp_path: Path, content: bytes, expected: str) -> None:
    p = tmp_path / ("runs.json" if content.startswith(b"[") else "runs.csv")
    p.write_bytes(content)
    with pytest.raises(InputError) as err:
        read_table(p, [])
    message = str(err.value)
    assert expected in message
    assert str(p) in message
    assert "\n" not in message


def test_jsonl_names_the_bad_line(tmp_path: Path) -> None:
    p = tmp_path / "runs.jsonl"
    p.write_text('{"run_id": "a"}\n{"run_id": "b"\n')
    with pytest.raises(InputError, match=r"runs.jsonl, row 2: invalid JSON"):
        read_table(p, [])


def test_duplicate_header_names_the_column(tmp_path: Path) -> None:
    p = tmp_path / "runs.csv"
    p.write_text("run_id,lr,lr\na,1,2\n")
    with pytest.raises(InputError, match="column 'lr'"):
        read_table(p, [])


def test_real_parquet_and_truncated_parquet(tmp_path: Path) -> None:
    good = tmp_path / "runs.parquet"
    pd.DataFrame({"run_id": ["a", "b"], "lr": [0.1, np.inf]}).to_parquet(good)
    df, _ = _read(good)
    assert df["lr"].tolist() == [0.1, np.inf]
    bad = tmp_path / "cut.parquet"
    bad.write_bytes(good.read_bytes()[:-40])
    with pytest.raises(InputError, match="not a readable Parquet file"):
        read_table(bad, [])


def test_directory_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="folder"):
        read_table(tmp_path, [])
    with pytest.raises(InputError, match="no such file"):
        read_table(tmp_path / "absent.csv", [])


def test_json_wrappers_and_column_dicts(tmp_path: Path) -> None:
    p = tmp_path / "runs.json"
    p.write_text('{"runs": [{"id": "a", "config": {"lr": 0.1}}, {"id": "b", "config": {"lr": NaN}}]}')
    df, _ = _read(p)
    assert list(df.columns) == ["id", "config.lr"]
    assert np.isnan(df["config.lr"].iloc[1])
    p.write_text('{"run_id": ["a", "b"], "lr": [0.1, 0.2]}')
    df, _ = _read(p)
    assert df.shape == (2, 2)
