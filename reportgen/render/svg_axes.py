"""Building blocks of the report's SVG plots: scales with readable ticks, axes, the SVG frame, a legend and
the "no data" placeholder.

Kept apart from ``svg_plots`` so each plot reads as what it draws, not how ticks are chosen. Everything
returns SVG markup as strings, with every piece of text escaped, so the plots stay valid XML (the tests
parse them) and sweep data (run names, labels) can never inject markup into the report.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import escape

# Okabe-Ito: distinguishable with every common colour-vision deficiency, and in greyscale print by shape
BLUE = "#0072B2"
VERMILLION = "#D55E00"
ORANGE = "#E69F00"
GREY = "#8C8C8C"
INK = "#222222"
MUTED = "#555555"
GRID = "#E4E4E4"
WIDTH = 860  # the report column's width: plots show at 1:1 on a laptop, text at its set size
CHAR_WIDTH = 6.6  # average width of a 12px system-font character, for fitting labels without a layout engine


def esc(text: object) -> str:
    """Text escaped for SVG/HTML content and attribute values."""
    return str(escape(str(text)))


def finite(value: Any) -> float | None:
    """``value`` as a float when it is a finite real number (not a bool, not a numeric string), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def spans_decades(values: Iterable[float], decades: float = 2.0) -> bool:
    """True when all values are positive and the largest is at least 10**decades times the smallest: where
    a linear axis would squash all but the largest values against zero."""
    vals = list(values)
    return bool(vals) and min(vals) > 0 and max(vals) / min(vals) >= 10**decades


def fit(text: str, width: float) -> str:
    """``text`` cut with an ellipsis to about ``width`` pixels (the full text goes in a <title>)."""
    most = max(int(width / CHAR_WIDTH), 2)
    return text if len(text) <= most else text[: most - 1] + "\u2026"


def num(x: float) -> str:
    """A pixel coordinate, short: one decimal is finer than any screen needs."""
    return f"{x:.1f}".removesuffix(".0")


@dataclass(frozen=True)
class Scale:
    """Maps the domain ``lo..hi`` onto pixels ``start..end`` (``end < start`` for a y axis)."""

    lo: float
    hi: float
    start: float
    end: float
    ticks: tuple[tuple[float, str], ...]
    log: bool = False

    def __call__(self, value: float) -> float:
        f = math.log10 if self.log else float
        value = min(max(value, self.lo), self.hi)  # only a value clamped by the scale's builder is outside
        t = (f(value) - f(self.lo)) / (f(self.hi) - f(self.lo))
        return self.start + t * (self.end - self.start)

    def marks(self) -> list[tuple[float, str]]:
        """The ticks as (pixel, label), what the axis helpers draw."""
        return [(self(value), text) for value, text in self.ticks]


_LINEAR_LIMIT = 1e307  # a domain within +-1e307, widened to round ticks, keeps every difference finite


def nice_step(span: float, target: int) -> float:
    """A step of 1, 2 or 5 times a power of ten giving about ``target`` intervals over ``span``."""
    raw = span / target
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw * 0.999)


def _linear_label(value: float, step: float, percent: bool) -> str:
    """A tick label with exactly the decimals the step needs (ticks 0.05 apart read "0.05", "0.10")."""
    if percent:
        value, step = value * 100, step * 100
    if value == 0:
        text = "0"
    elif step >= 1e-4 and abs(value) < 1e6:
        text = f"{value:.{max(0, -math.floor(math.log10(step) + 1e-9))}f}"
    else:
        digits = max(0, math.floor(math.log10(abs(value))) - math.floor(math.log10(step) + 1e-9))
        mantissa, _, exponent = f"{value:.{digits}e}".partition("e")
        text = f"{mantissa}e{int(exponent)}"
    return text + ("%" if percent else "")


def linear_scale(
    values: Sequence[float],
    start: float,
    end: float,
    *,
    zero: bool = False,
    integer: bool = False,
    percent: bool = False,
    target: int = 5,
) -> Scale:
    """A linear scale over ``values`` (finite, at least one) widened to round ticks; ``zero`` keeps 0 in
    the domain (bars), ``integer`` keeps ticks whole (counts), ``percent`` labels fractions as percent."""
    # beyond +-_LINEAR_LIMIT a span (hi - lo) would overflow to inf: such values (1e308) sit at the edge
    lo = min(max(min(values), -_LINEAR_LIMIT), _LINEAR_LIMIT)
    hi = min(max(max(values), -_LINEAR_LIMIT), _LINEAR_LIMIT)
    if zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if lo == hi:  # one value or a constant: give it room rather than divide by zero
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = (lo, lo + pad) if zero and lo == 0 else (lo - pad, hi + pad)
    step = nice_step(hi - lo, target)
    if integer:
        step = max(step, 1.0)
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    ticks = tuple((i * step, _linear_label(i * step, step, percent)) for i in range(first, last + 1))
    return Scale(first * step, last * step, start, end, ticks)


def log_scale(values: Sequence[float], start: float, end: float) -> Scale:
    """A log10 scale over positive ``values`` widened to whole decades, ticked at powers of ten (and at 2
    and 5 times them when the data spans less than two decades, so an axis never has a single tick)."""
    # 10.0**309 overflows and 10.0**-324 is 0: decades outside normal floats are clamped to them
    lo_dec = min(max(math.floor(math.log10(min(values))), -307), 307)
    hi_dec = min(max(math.ceil(math.log10(max(values))), lo_dec + 1), 308)
    decades = hi_dec - lo_dec
    every = max(1, math.ceil(decades / 8))
    mantissas = (1, 2, 5) if decades < 2 else (1,)
    ticks = tuple(
        (m * 10.0**d, _log_label(m, d))
        for d in range(lo_dec, hi_dec + 1)
        if (d - lo_dec) % every == 0
        for m in mantissas
        if d < hi_dec or m == 1
    )
    return Scale(10.0**lo_dec, 10.0**hi_dec, start, end, ticks, log=True)


def _log_label(mantissa: int, decade: int) -> str:
    if -3 <= decade <= 4:
        return f"{mantissa * 10.0**decade:.{max(0, -decade)}f}"
    return f"{mantissa}e{decade}"


@dataclass(frozen=True)
class Box:
    """The plot area inside the SVG, in pixels."""

    left: float
    top: float
    right: float
    bottom: float


def x_axis(box: Box, marks: Sequence[tuple[float, str]], label: str, grid: bool = True) -> list[str]:
    """Bottom axis: line, ticks at ``marks`` (pixel, label), vertical grid lines, and the axis label."""
    out = [f'<g class="x-axis" font-size="11" fill="{MUTED}" text-anchor="middle">']
    for pixel, text in marks:
        x = num(pixel)
        if grid:
            out.append(
                f'<line x1="{x}" x2="{x}" y1="{num(box.top)}" y2="{num(box.bottom)}" stroke="{GRID}"/>'
            )
        out.append(
            f'<line x1="{x}" x2="{x}" y1="{num(box.bottom)}" y2="{num(box.bottom + 4)}" stroke="{MUTED}"/>'
        )
        out.append(f'<text x="{x}" y="{num(box.bottom + 16)}">{esc(text)}</text>')
    out.append(
        f'<line x1="{num(box.left)}" x2="{num(box.right)}" y1="{num(box.bottom)}" y2="{num(box.bottom)}" '
        f'stroke="{MUTED}"/>'
    )
    mid = num((box.left + box.right) / 2)
    out.append(f'<text x="{mid}" y="{num(box.bottom + 34)}" font-size="12" fill="{INK}">{esc(label)}</text>')
    out.append("</g>")
    return out


def y_axis(box: Box, marks: Sequence[tuple[float, str]], label: str) -> list[str]:
    """Left axis: line, ticks at ``marks`` (pixel, label), horizontal grid lines, and the rotated label."""
    out = [f'<g class="y-axis" font-size="11" fill="{MUTED}" text-anchor="end">']
    for pixel, text in marks:
        y = num(pixel)
        out.append(f'<line x1="{num(box.left)}" x2="{num(box.right)}" y1="{y}" y2="{y}" stroke="{GRID}"/>')
        out.append(
            f'<line x1="{num(box.left - 4)}" x2="{num(box.left)}" y1="{y}" y2="{y}" stroke="{MUTED}"/>'
        )
        out.append(f'<text x="{num(box.left - 7)}" y="{y}" dy="0.32em">{esc(text)}</text>')
    out.append(
        f'<line x1="{num(box.left)}" x2="{num(box.left)}" y1="{num(box.top)}" y2="{num(box.bottom)}" '
        f'stroke="{MUTED}"/>'
    )
    mid = num((box.top + box.bottom) / 2)
    out.append(
        f'<text transform="translate(14 {mid}) rotate(-90)" text-anchor="middle" font-size="12" '
        f'fill="{INK}">{esc(fit(label, box.bottom - box.top))}</text>'
    )
    out.append("</g>")
    return out


def legend(items: Sequence[tuple[str, str]], x: float, y: float) -> list[str]:
    """A one-line legend from ``(swatch markup drawn at 0,0, label)`` pairs, starting at ``x, y``."""
    out = [f'<g class="legend" font-size="11" fill="{INK}">']
    for swatch, text in items:
        label = f'<text x="14" dy="0.32em">{esc(text)}</text>'
        out.append(f'<g transform="translate({num(x)} {num(y)})">{swatch}{label}</g>')
        x += 26 + CHAR_WIDTH * len(text)
    out.append("</g>")
    return out


def svg(width: float, height: float, title: str, desc: str, body: Iterable[str]) -> str:
    """A complete, standalone SVG element with an accessible name (<title>) and description (<desc>)."""
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" width="{num(width)}" '
            f'height="{num(height)}" viewBox="0 0 {num(width)} {num(height)}" '
            'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="12">',
            f"<title>{esc(title)}</title>",
            f"<desc>{esc(desc)}</desc>",
            *body,
            "</svg>",
        ]
    )


def no_data(title: str, desc: str, reason: str) -> str:
    """The placeholder drawn for degenerate data: the figure says why it is empty instead of failing."""
    body = [
        f'<rect x="1" y="1" width="{WIDTH - 2}" height="78" rx="6" fill="#FAFAFA" stroke="{GRID}" '
        'stroke-dasharray="4 3"/>',
        f'<text x="{WIDTH / 2}" y="40" dy="0.32em" text-anchor="middle" fill="{MUTED}">'
        f"No data to plot: {esc(reason)}</text>",
    ]
    return svg(WIDTH, 80, title, f"{desc} (no data to plot: {reason})", body)
