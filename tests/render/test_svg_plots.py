"""The SVG plots: valid XML with an accessible title and description, the right scale for the data, NaN
breaks marked, and degenerate data drawn as a "no data" figure instead of an exception."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from reportgen.render import svg_plots
from reportgen.render.svg_axes import linear_scale, log_scale
from reportgen.report.model import Figure

SVG = "{http://www.w3.org/2000/svg}"
NAN, INF = math.nan, math.inf
EVIL = "<script>alert(1)</script>"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on anything that is not well-formed XML
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root[0].tag == f"{SVG}title" and root[0].text == "T"
    assert root[1].tag == f"{SVG}desc" and (root[1].text or "").startswith("D")
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def draw(kind: str, data: dict[str, Any]) -> ET.Element:
    return parse(svg_plots.PLOTS[kind](data, "T", "D"))


def is_no_data(root: ET.Element) -> bool:
    return any(t.startswith("No data to plot") for t in texts(root))


GOOD: dict[str, dict[str, Any]] = {
    "bucket_rates": {
        "param": "lr",
        "overall": 0.2,
        "buckets": [
            {"label": "(0.001, 0.01]", "n": 10, "rate": 0.1, "ci_low": 0.02, "ci_high": 0.4},
            {"label": "(0.01, 0.1]", "n": 5, "rate": 0.6, "ci_low": 0.23, "ci_high": 0.88, "highlight": True},
            {"label": "(0.1, 1]", "n": 0, "rate": None},
        ],
    },
    "curves": {
        "metric": "loss",
        "log_y": True,
        "series": [
            {"run": "ok", "flagged": False, "steps": [0, 1, 2, 3], "values": [3.0, 2.0, 1.0, 0.5]},
            {
                "run": "bad",
                "flagged": True,
                "steps": [0, 1, 2, 3, 4, 5],
                "values": [3.0, NAN, INF, 2.5, "nan", 2.0],
            },
        ],
    },
    "objective_vs_param": {
        "param": "lr",
        "objective": "loss",
        "points": [
            {"run": "a", "x": 1e-5, "y": 0.5, "state": "finished"},
            {"run": "b", "x": 1e-2, "y": 0.4, "state": "finished"},
            {"run": "c", "x": 1e-1, "y": None, "state": "crashed"},
            {"run": "d", "x": 1e-3, "y": 0.45, "state": "pruned"},
        ],
    },
    "crash_steps": {"steps": [120, 130, 900], "max_step": 1000},
}

DEGENERATE: list[tuple[str, dict[str, Any]]] = [
    ("bucket_rates", {}),
    ("bucket_rates", {"param": "lr", "buckets": []}),
    ("bucket_rates", {"param": "lr", "buckets": [{"label": "a", "n": 0, "rate": NAN}]}),
    ("bucket_rates", {"buckets": "not a list"}),
    ("curves", {}),
    ("curves", {"metric": "m", "series": []}),
    ("curves", {"metric": "m", "series": [{"run": "r", "steps": [0, 1], "values": [NAN, INF]}]}),
    ("curves", {"metric": "m", "series": [{"run": "r", "steps": "x", "values": None}]}),
    ("objective_vs_param", {}),
    ("objective_vs_param", {"points": [{"run": "r", "x": 1.0, "y": NAN}]}),
    (
        "objective_vs_param",
        {"points": [{"run": "r", "x": None, "y": 1.0}, {"run": "s", "x": "nan", "y": 2.0}]},
    ),
    ("crash_steps", {}),
    ("crash_steps", {"steps": []}),
    ("crash_steps", {"steps": [NAN, None, "x"]}),
]


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_each_kind_draws_valid_svg(kind: str) -> None:
    root = draw(kind, GOOD[kind])
    assert not is_no_data(root)
    assert len(list(root.iter())) > 20


def test_every_figure_kind_has_a_plot() -> None:
    assert set(svg_plots.PLOTS) == set(Figure.model_fields["kind"].annotation.__args__)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kind", "data"), DEGENERATE, ids=[f"{k}-{i}" for i, (k, _) in enumerate(DEGENERATE)]
)
def test_degenerate_data_says_no_data(kind: str, data: dict[str, Any]) -> None:
    assert is_no_data(draw(kind, data))


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("bucket_rates", {"param": "p", "buckets": [{"label": "only", "n": 3, "rate": 0.0}]}),
        ("curves", {"metric": "m", "series": [{"run": "r", "flagged": True, "steps": [5], "values": [1.0]}]}),
        (
            "curves",
            {"metric": "m", "log_y": True, "series": [{"run": "r", "steps": [0, 1], "values": [2.0, 2.0]}]},
        ),
        ("objective_vs_param", {"param": "p", "objective": "o", "points": [{"run": "r", "x": 3, "y": 1}]}),
        (
            "objective_vs_param",
            {"points": [{"run": "r", "x": 0.0, "y": 0.0}, {"run": "s", "x": 0.0, "y": 0.0}]},
        ),
        ("crash_steps", {"steps": [0]}),
        ("crash_steps", {"steps": [500, 500, 500]}),
    ],
    ids=[
        "one-bucket-at-zero",
        "one-point",
        "constant-log",
        "one-run",
        "all-zero",
        "step-zero",
        "constant-steps",
    ],
)
def test_one_point_and_constants_still_plot(kind: str, data: dict[str, Any]) -> None:
    root = draw(kind, data)
    assert not is_no_data(root)
    for element in root.iter():  # no NaN or inf coordinate leaked out of a zero-width domain
        for value in element.attrib.values():
            assert "nan" not in value.lower() and "inf" not in value.lower(), element.attrib


def test_curves_break_at_non_finite_values_and_mark_them() -> None:
    root = draw("curves", GOOD["curves"])
    bad = next(g for g in root.iter(f"{SVG}g") if (g.findtext(f"{SVG}title") or "").startswith("bad"))
    paths = bad.findall(f"{SVG}path")
    lines = [p for p in paths if p.get("fill") == "none"]
    marks = [p for p in paths if p.get("transform")]
    assert len(lines) == 3  # [3.0] | [2.5] | [2.0]: NaN, inf and the string "nan" each break the line
    assert len(marks) == 2  # one mark per broken stretch (NaN then inf count once), at steps 1 and 4
    assert any("NaN/inf" in t for t in texts(root))
    assert "(log scale)" in " ".join(texts(root))


def test_curves_fall_back_to_linear_when_a_value_is_not_positive() -> None:
    data = {"metric": "m", "log_y": True, "series": [{"run": "r", "steps": [0, 1], "values": [1.0, -1.0]}]}
    assert "(log scale)" not in " ".join(texts(draw("curves", data)))


def test_scatter_goes_log_when_the_param_spans_decades() -> None:
    root = draw("objective_vs_param", GOOD["objective_vs_param"])
    shown = texts(root)
    assert "lr (log scale)" in shown
    assert "no value" in shown  # the crashed run without an objective sits on the strip
    narrow = {
        **GOOD["objective_vs_param"],
        "points": [{"run": "a", "x": 1.0, "y": 1.0}, {"run": "b", "x": 9.0, "y": 2}],
    }
    assert "lr" in texts(draw("objective_vs_param", narrow))


def test_scatter_of_a_categorical_param() -> None:
    data = {
        "param": "opt",
        "objective": "o",
        "points": [{"run": "a", "x": "adam", "y": 1.0}, {"x": "sgd", "y": 2.0}],
    }
    shown = texts(draw("objective_vs_param", data))
    assert "adam" in shown and "sgd" in shown


def test_bucket_rates_show_n_interval_and_overall() -> None:
    root = draw("bucket_rates", GOOD["bucket_rates"])
    shown = texts(root)
    assert {"n=10", "n=5", "n=0", "no rate", "all runs 20.0%"} <= set(shown)
    titles = [t.text or "" for t in root.iter(f"{SVG}title")]
    assert "(0.01, 0.1]: 60.0% of 5 runs (95% interval 23.0% to 88.0%)" in titles


def test_sweep_text_is_escaped_inside_svg() -> None:
    data = {"metric": EVIL, "series": [{"run": EVIL, "flagged": True, "steps": [0, 1], "values": [1.0, 2.0]}]}
    svg = svg_plots.curves(data, EVIL, EVIL)
    assert "<script" not in svg
    root = ET.fromstring(svg)
    assert root.findtext(f"{SVG}title") == EVIL  # escaped in the markup, intact as text


def test_render_figure_uses_title_and_alt() -> None:
    figure = Figure(key="k", kind="crash_steps", title="T", alt="D alt", data=GOOD["crash_steps"])
    root = parse(svg_plots.render_figure(figure))
    assert root.findtext(f"{SVG}desc") == "D alt"


def test_long_curves_are_thinned_but_keep_spikes() -> None:
    values = [1.0] * 5000
    values[2345] = 50.0
    data = {"metric": "m", "series": [{"run": "r", "steps": list(range(5000)), "values": values}]}
    root = draw("curves", data)
    (line,) = [p for p in root.iter(f"{SVG}path") if p.get("fill") == "none"]
    points = (line.get("d") or "").count("L") + 1
    assert points <= svg_plots.MAX_SEGMENT_POINTS + 2
    top = min(float(pair.split(",")[1]) for pair in (line.get("d") or "")[1:].split("L"))
    assert top < 60  # the spike still reaches the top of the plot


def test_ticks_are_round_and_cover_the_data() -> None:
    scale = linear_scale([0.013, 0.087], 0, 100)
    assert scale.lo <= 0.013 and scale.hi >= 0.087
    assert [t for _, t in scale.ticks] == ["0", "0.02", "0.04", "0.06", "0.08", "0.10"]
    assert [t for _, t in linear_scale([0, 0.42], 0, 1, zero=True, percent=True).ticks][-1] == "50%"
    assert [t for _, t in linear_scale([0, 3], 0, 1, integer=True).ticks] == ["0", "1", "2", "3"]
    assert [t for _, t in log_scale([2e-5, 3e-1], 0, 1).ticks] == [
        "1e-5",
        "1e-4",
        "0.001",
        "0.01",
        "0.1",
        "1",
    ]
    assert [t for _, t in log_scale([2.0, 5.0], 0, 1).ticks] == ["1", "2", "5", "10"]


def test_few_crash_steps_get_exact_stems_and_many_get_bins_inside_the_plot() -> None:
    few = draw("crash_steps", {"steps": [5, 5, 3], "max_step": 5})
    assert len(list(few.iter(f"{SVG}circle"))) == 2  # steps 3 and 5, each at its exact step
    assert "step 5: 2 runs" in [t.text for t in few.iter(f"{SVG}title")]
    many = draw("crash_steps", {"steps": [float(s * 37 % 1000) for s in range(200)] + [1000.0]})
    bars = list(many.iter(f"{SVG}rect"))
    assert bars and not list(many.iter(f"{SVG}circle"))
    right = max(float(b.get("x", 0)) + float(b.get("width", 0)) for b in bars)
    axis_end = max(float(line.get("x2", 0)) for line in many.iter(f"{SVG}line"))
    assert right <= axis_end  # the bin holding the largest step ends inside the axis


def test_bucket_param_title_fits_beside_short_labels() -> None:
    data = {"param": "weight_decay", "buckets": [{"label": "0.0", "n": 2, "rate": 1.0}]}
    assert "weight_decay" in texts(draw("bucket_rates", data))
