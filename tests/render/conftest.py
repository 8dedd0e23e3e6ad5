"""A hand-built Report with everything a renderer must draw: every section, every figure kind (and a
degenerate one), NaN/inf/None cells, and hostile sweep data (a ``<script>`` run name, markup in prose)."""

from __future__ import annotations

import math

import pytest

from reportgen.report.model import (
    SECTION_TITLES,
    FactCheck,
    Figure,
    InputFile,
    Manifest,
    NextSweep,
    Overview,
    Paragraph,
    ParamChange,
    Recommendation,
    Report,
    Section,
    Table,
)

EVIL = "<script>alert(1)</script>"
EVIL_RUN = f"run-{EVIL}"
NAN, INF = math.nan, math.inf


def _curve(run: str, flagged: bool, values: list[float]) -> dict[str, object]:
    return {"run": run, "flagged": flagged, "steps": [i * 100 for i in range(len(values))], "values": values}


def _figures() -> dict[str, list[Figure]]:
    healthy = [2.3 * 0.97**i for i in range(60)]
    diverged = [2.3 * 0.97**i for i in range(20)] + [NAN, NAN, INF] + [40.0 + i for i in range(10)]
    lrs = [1e-5 * 3**i for i in range(12)]
    points = [
        {"run": f"r{i}", "x": lr, "y": 0.3 + (math.log10(lr) + 3) ** 2 / 10, "state": "finished"}
        for i, lr in enumerate(lrs)
    ]
    points += [
        {"run": EVIL_RUN, "x": 0.2, "y": NAN, "state": "crashed"},
        {"run": "r-pruned", "x": 3e-4, "y": 0.9, "state": "pruned"},
        {"run": "r-failed", "x": 0.05, "y": None, "state": "failed"},
    ]
    buckets = [
        {"label": "(1e-05, 0.0001]", "n": 8, "rate": 0.0, "ci_low": 0.0, "ci_high": 0.32},
        {"label": "(0.0001, 0.001]", "n": 12, "rate": 0.0833, "ci_low": 0.015, "ci_high": 0.35},
        {"label": "(0.001, 0.01]", "n": 10, "rate": 0.3, "ci_low": 0.108, "ci_high": 0.603},
        {
            "label": f"(0.01, 0.2] {EVIL}",
            "n": 6,
            "rate": 0.8333,
            "ci_low": 0.436,
            "ci_high": 0.97,
            "highlight": True,
        },
    ]
    return {
        "hyperparameters": [
            Figure(
                key="bucket_rates_lr",
                kind="bucket_rates",
                title="Share of runs with any issue by lr",
                alt="bar chart of the issue rate per lr bucket",
                data={"param": "lr", "issue": "any issue", "overall": 0.25, "buckets": buckets},
            ),
            Figure(
                key="objective_vs_lr",
                kind="objective_vs_param",
                title="val_loss against lr",
                alt="scatter of val_loss against lr, one point per run",
                data={"param": "lr", "objective": "val_loss", "points": points},
            ),
        ],
        "curves": [
            Figure(
                key="curves_val_loss",
                kind="curves",
                title="val_loss of flagged runs against healthy runs",
                alt="learning curves; the flagged run diverges to NaN at step 2000",
                data={
                    "metric": "val_loss",
                    "log_y": True,
                    "series": [
                        _curve("healthy-1", False, healthy),
                        _curve("healthy-2", False, [v * 1.1 for v in healthy]),
                        _curve(EVIL_RUN, True, diverged),
                    ],
                },
            )
        ],
        "crashes": [
            Figure(
                key="crash_steps",
                kind="crash_steps",
                title="Last logged step of runs that did not finish",
                alt="histogram of the last logged steps of crashed runs",
                data={"steps": [1200, 1250, 1300, 4000, 9000], "max_step": 10000},
            ),
            Figure(
                key="crash_steps_empty",
                kind="crash_steps",
                title="A figure with nothing to draw",
                alt="an empty figure",
                data={"steps": [NAN]},
            ),
        ],
    }


def _tables() -> dict[str, list[Table]]:
    return {
        "overview": [
            Table(
                key="states",
                title="Runs by state",
                columns=["state", "runs", "share of runs"],
                rows=[["finished", 30, 0.75], ["crashed", 9, 0.225], ["killed", 1, 0.025]],
                formats=["text", "int", "percent1"],
            )
        ],
        "top_runs": [
            Table(
                key="top_runs",
                title="Top runs by val_loss (minimize)",
                columns=["run", "rank", "val_loss", "state", "lr", "batch_size", "optimizer", "weight_decay"],
                rows=[
                    ["r3", 1, 0.30012345, "finished", 0.00027, 64, "adamw", 0.01],
                    [EVIL_RUN, 2, NAN, "crashed", 0.2, 128, EVIL, None],
                    ["r4", 3, INF, "finished", 1e-5, 32.0, "sgd", -INF],
                ],
                formats=["text", "int", "float4", "text", "auto", "auto", "auto", "auto"],
                note="Runs without a finite val_loss rank last.",
                cites=["HPE002-aaaa"],
            )
        ],
        "crashes": [
            Table(
                key="crash_steps",
                title="Last logged step of runs that did not finish",
                columns=["last step", "runs"],
                rows=[[1200.0, 1], [1250.0, 1], [1300.0, 1], [4000.0, 1], [9000.0, 1]],
                formats=["auto", "int"],
            )
        ],
    }


def build_report() -> Report:
    figures, tables = _figures(), _tables()
    findings = {
        "NAN001-0001": {
            "code": "NAN001",
            "name": "nan-or-inf-metric",
            "severity": "high",
            "title": f"val_loss became NaN in 1 run ({EVIL_RUN})",
            "runs": [EVIL_RUN],
        },
        "HPE001-0002": {
            "code": "HPE001",
            "name": "param-issue-rate",
            "severity": "medium",
            "title": "lr in (0.01, 0.2] has issues in 83.3% of runs",
            "runs": ["r7", "r8", EVIL_RUN],
        },
        "HPE002-aaaa": {
            "code": "HPE002",
            "name": "best-at-boundary",
            "severity": "low",
            "title": "best lr at edge",
        },
        "TOP001-0003": {
            "code": "TOP001",
            "name": "top-runs",
            "severity": "info",
            "title": "top runs",
            "runs": [],
        },
    }
    sections = [
        Section(
            key=key,
            title=title,
            paragraphs=[
                Paragraph(text=f"{title}: prose with <b>markup</b> & {EVIL} in it.", cites=["NAN001-0001"]),
                Paragraph(
                    text="A second paragraph citing two findings and one unknown id.",
                    cites=["HPE001-0002", "TOP001-0003", "GONE-404"],
                ),
            ],
            tables=tables.get(key, []),
            figures=figures.get(key, []),
            findings=["NAN001-0001", "HPE001-0002"] if key in ("crashes", "hyperparameters") else [],
        )
        for key, title in SECTION_TITLES.items()
    ]
    return Report(
        title=f"Sweep report: demo {EVIL}",
        overview=Overview(
            runs=40,
            states={"finished": 30, "crashed": 9, "killed": 1, "running": 0},
            objective="val_loss",
            direction="minimize",
            best_run="r3",
            best_value=0.30012345,
            first_created="2024-05-01T10:00:00Z",
            last_created="2024-05-03T18:30:00Z",
            runs_with_issues=14,
            issue_instances=21,
            issue_types={"nan-or-inf-metric": 3, "crashed-run": 9},
        ),
        sections=sections,
        recommendations=[
            Recommendation(title="Cap the learning rate", text="Keep lr below 0.01.", cites=["HPE001-0002"]),
            Recommendation(title=f"Fix {EVIL}", text="Add gradient clipping.", cites=["NAN001-0001"]),
        ],
        next_sweep=NextSweep(
            changes=[
                ParamChange(
                    param="lr",
                    before="log_uniform(1e-5, 0.2)",
                    after="log_uniform(1e-5, 0.01)",
                    why="runs above 0.01 crash",
                    cites=["HPE001-0002"],
                ),
            ],
            space={"lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 0.01}},
            wandb_yaml="method: bayes\nmetric:\n  name: val_loss\n  goal: minimize\nparameters:\n"
            "  lr:\n    distribution: log_uniform_values\n    min: 1.0e-05\n    max: 0.01\n",
            optuna_space='lr = trial.suggest_float("lr", 1e-5, 1e-2, log=True)  # <tag> & "quotes"\n',
        ),
        fact_check=FactCheck(
            claims_checked=42,
            supported=38,
            unverifiable=2,
            corrected=1,
            removed=1,
            replaced_sections=["curves"],
            notes=[f"note with {EVIL}"],
        ),
        manifest=Manifest(
            reportgen_version="0.1.0",
            created="2024-05-04T09:00:00+00:00",
            inputs=[InputFile(path="exports/runs <1>.csv", sha256="ab" * 32, bytes=123456)],
            source_format="wandb",
            templates={"section.j2": "cd" * 32},
            writer="offline",
            seconds=1.25,
            warnings=["history has 3 duplicate rows"],
        ),
        findings=findings,
    )


@pytest.fixture
def rich_report() -> Report:
    """A report with every section, table and figure kind, non-finite cells and ``<script>`` run names."""
    return build_report()
