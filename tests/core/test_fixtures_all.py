"""Every bundled fixture is sniffed as its format and read with the base sweep's runs, states and history.

The base sweep (fixtures/generators/base_sweep.py) has 12 runs: 8 finished, 2 NaN crashes (7 and 4
epochs), 1 stopped early (8 epochs) and 1 failed before its first epoch. Each tracker spells and records
those outcomes its own way, which the expected state counts below spell out.
"""

from __future__ import annotations

import pytest

from reportgen.io.load import load_sweep
from reportgen.io.options import LoadOptions
from tests.conftest import FIXTURES

CASES = [
    # path, options, format, state counts, history rows (None: no history in this export)
    ("optuna/study.sqlite3", {"study": "lr-sweep"}, "optuna", {"finished": 8, "failed": 3, "pruned": 1}, 179),
    ("optuna/trials.csv", {}, "optuna-csv", {"finished": 8, "failed": 3, "pruned": 1}, None),
    ("mlflow/mlruns", {}, "mlflow", {"finished": 8, "failed": 3, "killed": 1}, 537),
    ("mlflow/search_runs.csv", {}, "mlflow-csv", {"finished": 8, "failed": 3, "killed": 1}, None),
    ("raytune/base_sweep", {}, "raytune", {"finished": 9, "failed": 3}, 537),
    ("wandb/local/wandb", {}, "wandb-dir", {"finished": 8, "failed": 3, "killed": 1}, 537),
    ("wandb/runs_api.json", {}, "wandb-api", {"finished": 8, "crashed": 2, "failed": 1, "killed": 1}, None),
    ("wandb/runs_api.jsonl", {}, "wandb-api", {"finished": 8, "crashed": 2, "failed": 1, "killed": 1}, None),
    ("wandb/ui_export.csv", {}, "wandb-ui", {"finished": 8, "crashed": 2, "failed": 1, "killed": 1}, None),
    ("wandb/chart_export.csv", {}, "wandb-chart", {"unknown": 12}, 179),
    (
        "generic/runs.parquet",
        {"history": "generic/history.parquet"},
        "table",
        {"finished": 8, "crashed": 2, "failed": 1, "killed": 1},
        537,
    ),
    (
        "generic/runs.json",
        {"history": "generic/history_wide.csv"},
        "table",
        {"finished": 8, "crashed": 2, "failed": 1, "killed": 1},
        537,
    ),
    (
        "generic/runs.jsonl",
        {"history": "generic/history_runs"},
        "table",
        {"finished": 8, "crashed": 2, "failed": 1, "killed": 1},
        537,
    ),
]


@pytest.mark.parametrize(
    ("path", "options", "fmt", "states", "history_rows"), CASES, ids=[c[0] for c in CASES]
)
def test_fixture_reads_as_the_base_sweep(path, options, fmt, states, history_rows) -> None:
    opts = {k: (FIXTURES / v if k == "history" else v) for k, v in options.items()}
    sweep = load_sweep(FIXTURES / path, LoadOptions(**opts))
    assert sweep.schema.format == fmt
    assert len(sweep.runs) == 12 and sweep.runs["run_id"].is_unique
    assert {k: v for k, v in sweep.state_counts.items() if v} == states
    if history_rows is None:
        assert sweep.history.empty
    else:
        assert len(sweep.history) == history_rows
        # the run that failed before its first epoch has no history; the NaN crashes end in NaN
        assert sweep.history["run_id"].nunique() == 11
        ordered = sweep.history.sort_values("step", kind="stable")
        last = ordered.groupby(["run_id", "metric"], observed=True).tail(1)
        assert last.loc[last["value"].isna(), "run_id"].nunique() == 2
    if fmt != "wandb-chart":
        assert {"lr", "batch_size", "weight_decay", "optimizer"} <= set(sweep.schema.param_names)
        assert sweep.schema.param("lr").log_scale
    assert sweep.schema.objective is not None and sweep.schema.objective.direction == "min"
