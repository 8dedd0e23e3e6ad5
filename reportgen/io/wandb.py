"""Weights & Biases exports: the four layouts W&B users hand over, as registry rows.

- `WANDB_UI_CSV`: the runs table exported from the W&B web UI (`wandb_csv.py`);
- `WANDB_CHART_CSV`: a chart panel's wide "Export CSV" of one metric per run (`wandb_csv.py`);
- `WANDB_API_JSON`: runs dumped through the public API as JSON or JSONL (`wandb_json.py`);
- `WANDB_LOCAL_DIR`: a local `wandb/` folder of run folders (`wandb_local.py`);

All read files directly; the `wandb` package is never imported.
"""

from __future__ import annotations

from reportgen.io.registry import LoaderSpec
from reportgen.io.wandb_csv import read_chart_export, read_ui_export, sniff_chart_export, sniff_ui_export
from reportgen.io.wandb_json import read_api_json, sniff_api_json
from reportgen.io.wandb_local import read_local_dir, sniff_local_dir

WANDB_UI_CSV = LoaderSpec(
    name="wandb-ui",
    summary="W&B UI runs-table CSV export (Name, State, Created, Runtime, config and summary columns)",
    sniff=sniff_ui_export,
    read=read_ui_export,
)
WANDB_CHART_CSV = LoaderSpec(
    name="wandb-chart",
    summary="W&B chart panel CSV export (Step, then '<run> - <metric>' columns): histories",
    sniff=sniff_chart_export,
    read=read_chart_export,
)
WANDB_API_JSON = LoaderSpec(
    name="wandb-api",
    summary="W&B API runs dump as JSON array or JSONL (id, name, state, config, summary, history)",
    sniff=sniff_api_json,
    read=read_api_json,
)
WANDB_LOCAL_DIR = LoaderSpec(
    name="wandb-dir",
    summary="local wandb/ folder of run folders (files/config.yaml, wandb-summary.json)",
    sniff=sniff_local_dir,
    read=read_local_dir,
)

__all__ = [
    "WANDB_API_JSON",
    "WANDB_CHART_CSV",
    "WANDB_LOCAL_DIR",
    "WANDB_UI_CSV",
]
