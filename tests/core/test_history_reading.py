"""History reading details: row widths, text columns, step axes, config echoed into the log."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reportgen.errors import InputError
from reportgen.io.load import load_sweep
from reportgen.io.options import LoadOptions


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_a_row_with_an_extra_cell_is_an_error_not_a_shifted_table(tmp_path: Path) -> None:
    runs = _write(tmp_path, "runs.csv", "run_id,lr\nr1,0.1,0.5\nr2,0.2\n")
    with pytest.raises(InputError, match=r"runs.csv, row 2: has 3 cells but the header names 2 columns"):
        load_sweep(runs)


def test_text_column_in_a_history_is_left_out_and_said(tmp_path: Path) -> None:
    runs = _write(tmp_path, "runs.csv", "run_id,lr\na,0.1\n")
    hist = _write(tmp_path, "h.csv", "run_id,step,loss,phase\na,0,2.0,warmup\na,1,1.5,main\na,2,nan,main\n")
    sweep = load_sweep(runs, LoadOptions(history=hist))
    assert set(sweep.history["metric"]) == {"loss"}
    assert np.isnan(sweep.history["value"].iloc[-1])  # the logged nan is kept
    assert any("column 'phase' holds text ('warmup', data row 1)" in w for w in sweep.warnings)


def test_history_folder_step_flag_and_mixed_axes(tmp_path: Path) -> None:
    runs = _write(tmp_path, "runs.csv", "run_id,lr\nr1,0.1\nr2,0.2\n")
    folder = tmp_path / "hist"
    folder.mkdir()
    _write(folder, "r1_history.csv", "_step,epoch,loss\n0,1,2.0\n10,2,1.0\n")
    _write(folder, "r2_history.csv", "epoch,loss\n1,2.1\n2,1.1\n")
    default = load_sweep(runs, LoadOptions(history=folder))
    assert any(
        "count steps in 'epoch', not '_step'" in w or "count steps in '_step', not 'epoch'" in w
        for w in default.warnings
    )
    by_epoch = load_sweep(runs, LoadOptions(history=folder, step="epoch"))
    assert by_epoch.schema.step_axis == "epoch"
    assert sorted(by_epoch.history["step"].unique()) == [1, 2]
    with pytest.raises(InputError, match=r"r1_history.csv: no column 'iteration' for --step"):
        load_sweep(runs, LoadOptions(history=folder, step="iteration"))


def test_config_echoed_into_the_history_stays_a_param(tmp_path: Path) -> None:
    runs = _write(tmp_path, "runs.csv", "run_id,seed,lr\na,1,0.1\nb,2,0.1\n")
    hist = _write(
        tmp_path, "h.csv", "run_id,step,loss,seed,lr\na,0,2,1,0.1\na,1,1,1,0.05\nb,0,2,2,0.1\nb,1,1,2,0.05\n"
    )
    sweep = load_sweep(runs, LoadOptions(history=hist))
    assert "seed" in sweep.schema.param_names  # constant at every step: config, not a curve
    assert "lr" in sweep.schema.metric_names  # the scheduled lr changes within runs: a metric
    assert list(sweep.runs.columns).count("seed") == 1


def test_runtime_text_numbers_are_seconds(tmp_path: Path) -> None:
    runs = _write(tmp_path, "runs.csv", "run_id,Runtime\na,120\nb,0 days 00:01:30\nc,n/a-crashed\n")
    sweep = load_sweep(runs)
    assert sweep.runs["runtime_s"].tolist()[:2] == [120.0, 90.0]
    assert np.isnan(sweep.runs["runtime_s"].iloc[2])


def test_history_metric_named_like_a_reserved_column_is_renamed(tmp_path: Path) -> None:
    runs = _write(tmp_path, "runs.csv", "run_id,lr\na,0.1\n")
    hist = _write(tmp_path, "h.csv", "run_id,step,state,loss\na,0,1.0,2.0\na,1,2.0,1.0\n")
    sweep = load_sweep(runs, LoadOptions(history=hist))
    assert set(sweep.history["metric"]) == {"state_", "loss"}
    assert sweep.runs.loc[0, "state_"] == 2.0 and sweep.runs.loc[0, "state"] == "unknown"
    assert any("history metric 'state' clashes" in w for w in sweep.warnings)
