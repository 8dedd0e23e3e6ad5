"""`reportgen report` end to end with the offline writer: every bundled fixture and real export gives all
three formats, and the Markdown passes `reportgen check` against the same sweep with no contradicted claim."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reportgen.cli.main import main
from reportgen.detectors.run import run_detectors
from reportgen.factcheck.entities import build_vocabulary
from reportgen.factcheck.verify import check_markdown
from reportgen.facts import build_factsheet
from reportgen.io.load import LoadOptions, load_sweep
from reportgen.render.report_html import render_html
from reportgen.render.report_json import render_json
from reportgen.render.report_markdown import render_markdown
from reportgen.report.compose import compose
from reportgen.report.offline_writer import OfflineWriter
from tests.conftest import FIXTURES, REALDATA

SWEEPS = {
    "seed000": ["fixtures/seed000/runs.csv", "--history", "fixtures/seed000/history.csv"],
    "optuna": ["fixtures/optuna/study.sqlite3", "--study", "lr-sweep"],
    "mlflow": ["fixtures/mlflow/mlruns"],
    "raytune": ["fixtures/raytune/base_sweep"],
    "wandb-local": ["fixtures/wandb/local/wandb"],
    "wandb-ui": ["fixtures/wandb/ui_export.csv"],
    "generic-parquet": ["fixtures/generic/runs.parquet", "--history", "fixtures/generic/history.parquet"],
    "group-stability": ["fixtures/detectors/group-stability/trigger/runs.csv"],
    "interaction-risk": ["fixtures/detectors/interaction-risk/trigger/runs.csv"],
    "nanogpt-ablation": [
        "REALDATA/wandb-nanogpt-ablation/wandb_summary.csv",
        "--history",
        "REALDATA/wandb-nanogpt-ablation/history_data",
    ],
    "nanogpt-divergence": ["REALDATA/wandb-chart-nanogpt-divergence/wandb_export.csv"],
    "lcdb": ["REALDATA/lcdb-learning-curves/database-accuracy.openmlid-380-1457-1509-41167.csv"],
    "hpolib": ["REALDATA/hpolib-fcnet-slice/fcnet_slice_localization.lr_schedule-const.csv"],
}


def _args(name: str) -> list[str]:
    args = SWEEPS[name]
    if any("REALDATA" in a for a in args) and not REALDATA.is_dir():
        pytest.skip("../shared/realdata is not beside this checkout")
    root = FIXTURES.parent
    return [
        a.replace("REALDATA", str(REALDATA)) if "REALDATA" in a else str(root / a) if "/" in a else a
        for a in args
    ]


def _load(args: list[str]):  # type: ignore[no-untyped-def]
    export, rest = Path(args[0]), args[1:]
    options = {}
    if "--history" in rest:
        options["history"] = Path(rest[rest.index("--history") + 1])
    if "--study" in rest:
        options["study"] = rest[rest.index("--study") + 1]
    sweep = load_sweep(export, LoadOptions(**options))
    detection = run_detectors(sweep)
    return sweep, detection, build_factsheet(sweep, detection)


@pytest.mark.parametrize("name", list(SWEEPS))
def test_report_has_no_contradicted_claim(name: str) -> None:
    sweep, detection, facts = _load(_args(name))
    report = compose(sweep, detection, facts, OfflineWriter())
    markdown = render_markdown(report)
    verdicts = check_markdown(markdown, facts, build_vocabulary(sweep, facts))
    contradicted = [(v.line, v.text, v.message) for v in verdicts if v.verdict == "contradicted"]
    assert not contradicted, contradicted
    assert sum(v.verdict == "supported" for v in verdicts) >= 10  # the report states checkable facts
    assert report.fact_check.claims_checked > 0 and report.fact_check.removed == 0  # offline: nothing wrong
    doc = json.loads(render_json(report))
    assert doc["schema_version"] == 1 and doc["manifest"]["writer"] == "offline"
    html = render_html(report)
    assert html.startswith("<!DOCTYPE html>") and html.count("<section") >= len(report.sections)


def test_cli_writes_every_format_atomically(tmp_path: Path) -> None:
    for suffix in ("md", "html", "json"):
        assert main(["report", *_args("seed000"), "--quiet", "-o", str(tmp_path / f"r.{suffix}")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html", "r.json", "r.md"]
    doc = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert doc["manifest"]["inputs"][0]["sha256"] and doc["manifest"]["source_format"] == "table"
    assert main(["report", *_args("seed000"), "--quiet", "-o", str(tmp_path / "x"), "--format", "html"]) == 0
    assert (tmp_path / "x").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_markdown_goes_to_stdout_by_default(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["report", *_args("seed000"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Sweep report") and "## Recommendations" in out and "## Next sweep" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["-o", "report.pdf"], "unknown report format 'pdf'"),
        (["--llm", "local", "--model-path", "missing.gguf"], "missing.gguf: no such model file"),
        (["--llm", "offline", "--record", "x.json"], "--record needs an LLM writer"),
        (["--llm", "openai", "--model", "m", "--model-path", "m.gguf"], "--model-path is for --llm local"),
        (["--llm", "openai"], "needs a model"),
    ],
)
def test_usage_errors_exit_2_with_one_line(extra, message, tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REPORTGEN_MODEL", raising=False)
    assert main(["report", *_args("seed000"), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_writer_defaults_to_openai_only_when_configured(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from reportgen.cli.report_cmd import choose_llm

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert choose_llm(None) == "offline"
    monkeypatch.setenv("OPENAI_API_KEY", "  ")
    assert choose_llm(None) == "offline"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
    assert choose_llm(None) == "openai"
    assert choose_llm("offline") == "offline"
