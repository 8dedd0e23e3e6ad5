"""The report's plots as inline SVG, drawn in Python: one pure function per ``Figure.kind``.

No JavaScript and no plotting library: the HTML report must open offline, print, and stay one file. Each
function takes the figure's ``data`` plus a title and a description (the SVG's <title> and <desc>, what a
screen reader announces) and returns one ``<svg>`` element. Data it cannot plot (empty, all NaN, missing
keys) gives a "no data" SVG that says why; one point or a constant still plots. Numbers in ``data`` are raw
(fractions, not percentages): formatting happens here. Wherever a number is expected, a value that is not
a finite number (NaN, inf, None, or the strings "nan"/"inf"/"-inf" that JSON exports carry) counts as
missing: a curve breaks there, a point goes to the "no value" strip, a step is skipped.

Data shapes (``Figure.data``), one per kind:

``bucket_rates``: the issue rate per value bucket of one hyperparameter (horizontal bars, 95% interval
whiskers, n per bucket)::

    {"param": "lr",                       # the hyperparameter, shown as the bucket axis title
     "issue": "crashed",                  # optional: what the rate counts, for the axis label
     "overall": 0.12,                     # optional: the rate over all runs, drawn as a dashed line
     "buckets": [{"label": "(0.001, 0.01]", "n": 12, "rate": 0.25,    # rate: a fraction 0..1 or None
                  "ci_low": 0.09, "ci_high": 0.53,                     # optional 95% interval
                  "highlight": True}]}                                 # optional: drawn in the warm colour

``curves``: learning curves of flagged runs against healthy ones; a NaN or inf value breaks the line and is
marked with a cross at the top of the plot, at its step::

    {"metric": "val_loss", "log_y": True,  # log_y falls back to linear when a value is <= 0
     "series": [{"run": "run-7", "flagged": True, "steps": [0, 100, ...], "values": [2.3, nan, ...]}]}

``objective_vs_param``: the objective against one hyperparameter, a point per run; x goes log when its
values span two decades or more (y too), string x values make a categorical axis, and runs whose objective
is missing or not finite sit on a strip under the plot::

    {"param": "lr", "objective": "val_loss",
     "points": [{"run": "run-7", "x": 0.003, "y": 0.41, "state": "finished"}]}  # state as in states.py

``crash_steps``: the steps at which runs stopped without finishing, a stem per distinct step (a histogram
when there are more than MAX_STEMS distinct steps)::

    {"steps": [1200, 1250, 5000],         # last logged step of each crashed/failed/killed run
     "max_step": 10000}                   # optional: the planned or longest run length, a dashed line
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from reportgen.render.report_format import format_cell
from reportgen.render.svg_axes import (
    BLUE,
    CHAR_WIDTH,
    GREY,
    INK,
    MUTED,
    VERMILLION,
    WIDTH,
    Box,
    esc,
    finite,
    fit,
    legend,
    linear_scale,
    log_scale,
    nice_step,
    no_data,
    num,
    spans_decades,
    svg,
    x_axis,
    y_axis,
)
from reportgen.report.model import Figure

FAILED = frozenset({"crashed", "failed", "killed"})
MAX_STEMS = 40  # distinct crash steps drawn one stem each; beyond this they are binned
MAX_SEGMENT_POINTS = 600  # beyond this a line is thinned by min/max per bin: spikes survive, bytes do not
_NON_FINITE = frozenset({"nan", "inf", "infinity"})  # how JSON exports spell what is not a number
_CROSS = "M-3.5,-3.5L3.5,3.5M-3.5,3.5L3.5,-3.5"


def _items(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _pct(x: float | None) -> str:
    return format_cell(x, "percent1")


def _text(x: float, y: float, text: str, attrs: str = "") -> str:
    return f'<text x="{num(x)}" y="{num(y)}" dy="0.32em"{" " + attrs if attrs else ""}>{esc(text)}</text>'


def _swatch_line(colour: str, width: float = 2) -> str:
    return f'<line x1="0" x2="10" y1="0" y2="0" stroke="{colour}" stroke-width="{width}"/>'


def _swatch_cross(colour: str) -> str:
    return f'<path transform="translate(5 0)" d="{_CROSS}" stroke="{colour}" stroke-width="1.6"/>'


def _swatch_dot(colour: str, hollow: bool = False) -> str:
    fill = "none" if hollow else colour
    return f'<circle cx="5" cy="0" r="3.5" fill="{fill}" stroke="{colour}" stroke-width="1.2"/>'


def bucket_rates(data: dict[str, Any], title: str, desc: str) -> str:
    """Issue rate per bucket of a param: a bar per bucket, its 95% interval as a whisker, n at the right."""
    buckets = _items(data, "buckets")
    rates = [finite(b.get("rate")) for b in buckets]
    if all(r is None for r in rates):
        return no_data(title, desc, "no bucket has a rate")
    labels = [str(b.get("label", "")) for b in buckets]
    intervals = [(finite(b.get("ci_low")), finite(b.get("ci_high"))) for b in buckets]
    overall = finite(data.get("overall"))
    reach = [v for v in [*rates, *(hi for _, hi in intervals), overall] if v is not None]
    widest = max([len(t) for t in labels] + [len(str(data.get("param", ""))) + 2])
    left = min(max(CHAR_WIDTH * widest + 16, 60), 300)
    box = Box(left, 34, WIDTH - 64, 34 + 26 * len(buckets))
    x = linear_scale(reach, box.left, box.right, zero=True, percent=True)
    issue = data.get("issue")
    out = x_axis(box, x.marks(), f"share of runs with {issue}" if issue else "issue rate")
    param = fit(str(data.get("param", "")), left - 12)
    out.append(_text(box.left - 8, 16, param, f'text-anchor="end" font-weight="600" fill="{INK}"'))
    out.append(_text(box.right + 8, 16, "runs", f'font-size="11" fill="{MUTED}"'))
    for i, (bucket, label, rate, (lo, hi)) in enumerate(zip(buckets, labels, rates, intervals, strict=True)):
        mid = box.top + 26 * i + 13
        n = bucket.get("n")
        tip = f"{label}: {_pct(rate)} of {n} runs"
        if lo is not None and hi is not None:
            tip += f" (95% interval {_pct(lo)} to {_pct(hi)})"
        out.append(f"<g><title>{esc(tip)}</title>")
        out.append(_text(box.left - 8, mid, fit(label, left - 12), 'text-anchor="end"'))
        if rate is None:
            out.append(_text(box.left + 6, mid, "no rate", f'fill="{MUTED}"'))
        else:
            colour = VERMILLION if bucket.get("highlight") else BLUE
            out.append(
                f'<rect x="{num(box.left)}" y="{num(mid - 8)}" width="{num(max(x(rate) - box.left, 0.0))}" '
                f'height="16" fill="{colour}" fill-opacity="0.85"/>'
            )
        if lo is not None and hi is not None:
            a, b, top, bottom = num(x(lo)), num(x(hi)), num(mid - 5), num(mid + 5)
            out.append(
                f'<path d="M{a},{num(mid)}H{b}M{a},{top}V{bottom}M{b},{top}V{bottom}" stroke="{INK}" '
                'stroke-width="1.2" fill="none"/>'
            )
        out.append(_text(box.right + 8, mid, f"n={n}" if n is not None else "", f'fill="{MUTED}"') + "</g>")
    if overall is not None:
        ox = num(x(overall))
        out.append(
            f'<line x1="{ox}" x2="{ox}" y1="{num(box.top - 6)}" y2="{num(box.bottom)}" stroke="{INK}" '
            'stroke-dasharray="4 3"/>'
        )
        out.append(_text(x(overall), box.top - 14, f"all runs {_pct(overall)}", 'text-anchor="middle"'))
    return svg(WIDTH, box.bottom + 46, title, desc, out)


Point = tuple[float, float]


def _segments(steps: Sequence[Any], values: Sequence[Any]) -> tuple[list[list[Point]], list[float]]:
    """A curve split at NaN/inf values: its finite stretches, and the step where each non-finite stretch
    begins (the point worth marking: where training broke)."""
    segments: list[list[Point]] = []
    current: list[Point] = []
    breaks: list[float] = []
    in_gap = False
    for raw_step, raw_value in zip(steps, values, strict=False):
        step = finite(raw_step)
        if step is None:
            continue
        value = finite(raw_value)
        if value is None:
            if not in_gap:
                breaks.append(step)
            in_gap = True
            if current:
                segments.append(current)
                current = []
        else:
            in_gap = False
            current.append((step, value))
    if current:
        segments.append(current)
    return segments, breaks


def _thin(points: list[Point]) -> list[Point]:
    """At most about MAX_SEGMENT_POINTS points: the lowest and highest of each bin, in step order."""
    if len(points) <= MAX_SEGMENT_POINTS:
        return points
    size = math.ceil(len(points) / (MAX_SEGMENT_POINTS // 2))
    out: list[Point] = []
    for i in range(0, len(points), size):
        chunk = points[i : i + size]
        out.extend(sorted({min(chunk, key=lambda p: p[1]), max(chunk, key=lambda p: p[1])}))
    return out


def curves(data: dict[str, Any], title: str, desc: str) -> str:
    """Learning curves: flagged runs in vermillion over healthy runs in grey; NaN/inf breaks marked by x."""
    parsed = []
    for s in _items(data, "series"):
        steps, values = s.get("steps"), s.get("values")
        if isinstance(steps, list) and isinstance(values, list):
            parsed.append((str(s.get("run", "")), bool(s.get("flagged")), *_segments(steps, values)))
    ys = [v for *_, segs, _ in parsed for seg in segs for _, v in seg]
    xs = [x for *_, segs, breaks in parsed for x in [*(p[0] for seg in segs for p in seg), *breaks]]
    if not ys:
        return no_data(title, desc, "no finite values")
    metric = str(data.get("metric", "value"))
    log = bool(data.get("log_y")) and min(ys) > 0
    box = Box(64, 34, WIDTH - 28, 264)
    x = linear_scale(xs, box.left, box.right)
    y = log_scale(ys, box.bottom, box.top) if log else linear_scale(ys, box.bottom, box.top)
    out = [*x_axis(box, x.marks(), "step"), *y_axis(box, y.marks(), metric + (" (log scale)" if log else ""))]
    for run, flagged, segments, breaks in sorted(parsed, key=lambda p: p[1]):  # flagged drawn on top
        colour, width, opacity = (VERMILLION, 2, 0.95) if flagged else (GREY, 1.2, 0.7)
        status = "flagged" if flagged else "healthy"
        out.append(f"<g><title>{esc(f'{run} ({status})')}</title>")
        for seg in segments:
            d = "M" + "L".join(f"{num(x(a))},{num(y(b))}" for a, b in _thin(seg))
            out.append(
                f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{width}" '
                f'stroke-opacity="{opacity}" stroke-linejoin="round"/>'
            )
        for step in breaks:
            out.append(
                f'<path transform="translate({num(x(step))} {num(box.top + 6)})" d="{_CROSS}" '
                f'stroke="{colour}" stroke-width="1.8"/>'
            )
        out.append("</g>")
    flagged_n = sum(1 for p in parsed if p[1])
    items = [
        (_swatch_line(VERMILLION), f"flagged ({flagged_n})"),
        (_swatch_line(GREY), f"healthy ({len(parsed) - flagged_n})"),
    ]
    if any(p[3] for p in parsed):
        items.append((_swatch_cross(INK), "NaN/inf (line breaks)"))
    return svg(WIDTH, box.bottom + 46, title, desc, [*legend(items, box.left, 16), *out])


def _state_group(state: Any) -> str:
    if state == "finished":
        return "finished"
    return "failed" if state in FAILED else "other"


_MARKERS: dict[str, Callable[[str, str], str]] = {
    "finished": lambda x, y: f'<circle cx="{x}" cy="{y}" r="3.5" fill="{BLUE}" fill-opacity="0.75"/>',
    "failed": lambda x, y: (
        f'<path transform="translate({x} {y})" d="{_CROSS}" stroke="{VERMILLION}" stroke-width="1.8"/>'
    ),
    "other": lambda x, y: (
        f'<circle cx="{x}" cy="{y}" r="3.5" fill="none" stroke="{GREY}" stroke-width="1.2"/>'
    ),
}
_LEGEND = {
    "finished": _swatch_dot(BLUE),
    "failed": _swatch_cross(VERMILLION),
    "other": _swatch_dot(GREY, hollow=True),
}
_LEGEND_TEXT = {"finished": "finished", "failed": "crashed/failed/killed", "other": "other states"}


def _x_value(value: Any) -> float | str | None:
    """A point's param value: a finite number, a category (string or bool), or None (not plottable)."""
    if isinstance(value, str) and value.strip().lower().lstrip("+-") in _NON_FINITE:
        return None
    if isinstance(value, str | bool):
        return str(value)
    return finite(value)


def objective_vs_param(data: dict[str, Any], title: str, desc: str) -> str:
    """The objective against a param, a point per run: finished runs as dots, failed runs as crosses, other
    states as rings; runs without a finite objective on a strip under the plot."""
    points = [(p, xv) for p in _items(data, "points") if (xv := _x_value(p.get("x"))) is not None]
    ys = [v for p, _ in points if (v := finite(p.get("y"))) is not None]
    if not ys:
        return no_data(title, desc, "no run has both a parameter value and a finite objective")
    param, objective = str(data.get("param", "")), str(data.get("objective", "objective"))
    missing = len(points) - len(ys)
    box = Box(64, 34, WIDTH - 28, 264)
    strip = box.bottom - 10
    if any(isinstance(xv, str) for _, xv in points):  # categorical: numbers among strings are categories too
        names = sorted({xv if isinstance(xv, str) else format_cell(xv, "auto") for _, xv in points})
        width = (box.right - box.left) / len(names)
        where = {name: box.left + width * (i + 0.5) for i, name in enumerate(names)}

        def xpos(v: float | str) -> float:
            return where[v if isinstance(v, str) else format_cell(v, "auto")]

        x_marks = [(where[n], fit(n, width)) for n in names]
        x_label = param
    else:
        numeric = [float(xv) for _, xv in points]
        log_x = spans_decades(numeric)
        scale = (log_scale if log_x else linear_scale)(numeric, box.left, box.right)
        xpos, x_marks = (lambda v: scale(float(v))), scale.marks()
        x_label = param + (" (log scale)" if log_x else "")
    log_y = spans_decades(ys)
    top_of_strip = box.bottom - (24 if missing else 0)
    y = (log_scale if log_y else linear_scale)(ys, top_of_strip, box.top)
    out = [
        *x_axis(box, x_marks, x_label),
        *y_axis(box, y.marks(), objective + (" (log scale)" if log_y else "")),
    ]
    if missing:
        out.append(_text(box.left - 7, strip, "no value", f'text-anchor="end" font-size="11" fill="{MUTED}"'))
        out.append(
            f'<line x1="{num(box.left)}" x2="{num(box.right)}" y1="{num(top_of_strip + 6)}" '
            f'y2="{num(top_of_strip + 6)}" stroke="{MUTED}" stroke-dasharray="2 3"/>'
        )
    counts = dict.fromkeys(_MARKERS, 0)
    for group in ("other", "finished", "failed"):  # failures drawn last, on top
        for p, xv in points:
            if _state_group(p.get("state")) != group:
                continue
            counts[group] += 1
            yv = finite(p.get("y"))
            shown = f"{param}={format_cell(xv, 'auto')}, {objective}={format_cell(yv, 'float4')}"
            tip = f"{p.get('run', '')}: {shown} ({p.get('state')})"
            marker = _MARKERS[group](num(xpos(xv)), num(y(yv) if yv is not None else strip))
            out.append(f"<g><title>{esc(tip)}</title>{marker}</g>")
    items = [(_LEGEND[g], f"{_LEGEND_TEXT[g]} ({n})") for g, n in counts.items() if n]
    return svg(WIDTH, box.bottom + 46, title, desc, [*legend(items, box.left, 16), *out])


def _step_groups(steps: list[float], lo: float, hi: float) -> list[tuple[float, float, int]]:
    """(first step, end, runs) to draw: one exact stem per distinct step while there are few (end equals
    first), else half-open bins of a round width (a bar per bin), so a bar never smears one step."""
    distinct = Counter(steps)
    if len(distinct) <= MAX_STEMS:
        return [(step, step, runs) for step, runs in sorted(distinct.items())]
    width = nice_step(hi - lo, 20)
    if all(s.is_integer() for s in steps):
        width = max(width, 1.0)
    bins = Counter(int((s - lo) // width) for s in steps)
    return [(lo + i * width, lo + (i + 1) * width, runs) for i, runs in sorted(bins.items())]


def crash_steps(data: dict[str, Any], title: str, desc: str) -> str:
    """Where runs stopped without finishing: a stem per step (or a histogram when the steps are many),
    against the full run length."""
    raw = data.get("steps")
    steps = [v for s in raw if (v := finite(s)) is not None] if isinstance(raw, list) else []
    if not steps:
        return no_data(title, desc, "no run stopped early")
    max_step = finite(data.get("max_step"))
    box = Box(64, 34, WIDTH - 28, 244)
    reach = [*steps, *([max_step] if max_step is not None else [])]
    rough = linear_scale(reach, box.left, box.right, zero=True)
    groups = _step_groups(steps, rough.lo, rough.hi)
    x = linear_scale([*reach, groups[-1][1]], box.left, box.right, zero=True)  # the last bin's end too
    y = linear_scale([0, max(runs for *_, runs in groups)], box.bottom, box.top, zero=True, integer=True)
    out = [*x_axis(box, x.marks(), "last logged step", grid=False), *y_axis(box, y.marks(), "runs")]
    # the run length first, so a stem at the very last step is drawn over it
    if max_step is not None:
        mx = num(x(max_step))
        out.append(
            f'<line x1="{mx}" x2="{mx}" y1="{num(box.top - 4)}" y2="{num(box.bottom)}" stroke="{INK}" '
            'stroke-dasharray="4 3"/>'
        )
        label = f"max step {format_cell(max_step, 'auto')}"
        out.append(_text(x(max_step), box.top - 12, label, 'text-anchor="end"'))
    integral = all(s.is_integer() for s in steps)
    for first, end, runs in groups:
        counted = f"{runs} run{'s' * (runs != 1)}"
        if first == end:
            sx, top = num(x(first)), num(y(runs))
            shape = (
                f'<line x1="{sx}" x2="{sx}" y1="{num(y(0))}" y2="{top}" stroke="{VERMILLION}" '
                'stroke-width="2.5"/>'
                f'<circle cx="{sx}" cy="{top}" r="4" fill="{VERMILLION}"/>'
            )
            tip = f"step {format_cell(first, 'auto')}: {counted}"
        else:
            left, right = x(first) + 0.5, max(x(end) - 0.5, x(first) + 1.5)
            shape = (
                f'<rect x="{num(left)}" y="{num(y(runs))}" width="{num(right - left)}" '
                f'height="{num(y(0) - y(runs))}" fill="{VERMILLION}" fill-opacity="0.85"/>'
            )
            last = format_cell(end - 1, "auto") if integral else f"under {format_cell(end, 'auto')}"
            tip = f"steps {format_cell(first, 'auto')} to {last}: {counted}"
        out.append(f"<g><title>{esc(tip)}</title>{shape}</g>")
    return svg(WIDTH, box.bottom + 46, title, desc, out)


PLOTS: dict[str, Callable[[dict[str, Any], str, str], str]] = {
    "bucket_rates": bucket_rates,
    "curves": curves,
    "objective_vs_param": objective_vs_param,
    "crash_steps": crash_steps,
}


def render_figure(figure: Figure) -> str:
    """The figure's SVG: its title as the SVG <title>, its alt text as the <desc>."""
    return PLOTS[figure.kind](figure.data, figure.title, figure.alt)
