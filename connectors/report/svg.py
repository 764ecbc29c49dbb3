"""Charts as SVG text, drawn on the server side: stacked areas, stacked bars, lines and horizontal bars.

Small on purpose: no library, no script, no font to fetch. Every chart has a title, axis labels, a legend, and a
``<title>``/``<desc>`` text alternative (``role="img"``); the colours are the Okabe-Ito palette, told apart by
readers with any common colour-vision deficiency, and each series also has its name in the legend and in the
table behind the chart. Every drawn mark carries ``class="mark"`` and a ``<title>`` tooltip with its value.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from html import escape
from itertools import count

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
"""Okabe & Ito (2008), "Color Universal Design": distinct for protanopia, deuteranopia and tritanopia."""
MAX_SERIES = len(PALETTE)

WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 190, 34, 52

_ids = count(1)


def _plot() -> tuple[float, float, float, float]:
    return LEFT, TOP, WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


def nice_max(value: float) -> tuple[float, float]:
    """A round top for an axis holding ``value``, and its tick step (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0, 1.0
    raw = value / 5
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(step, 1.0) if value >= 1 else step
    return step * math.ceil(value / step), step


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _label(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _frame(title: str, desc: str, body: list[str], *, chart: str, height: int = HEIGHT) -> str:
    n = next(_ids)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{escape(chart)}" role="img" '
            f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
            f'aria-labelledby="t{n} d{n}"><title id="t{n}">{escape(title)}</title><desc id="d{n}">{escape(desc)}</desc>'
            f'<text class="heading" x="{LEFT}" y="20">{escape(title)}</text>{"".join(body)}</svg>')


def _y_axis(top: float, label: str) -> tuple[list[str], float]:
    x0, y0, w, h = _plot()
    axis_max, step = nice_max(top)
    parts = []
    ticks = round(axis_max / step)
    for i in range(ticks + 1):
        value = step * i
        y = y0 + h - h * value / axis_max
        parts.append(f'<line class="grid" x1="{x0}" x2="{x0 + w}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text class="tick" x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end">{_number(value)}</text>')
    parts.append(f'<text class="axis-label" transform="translate(14 {y0 + h / 2:.0f}) rotate(-90)" '
                 f'text-anchor="middle">{escape(label)}</text>')
    return parts, axis_max


def _x_axis(labels: Sequence[object], positions: Sequence[float], label: str) -> list[str]:
    x0, y0, w, h = _plot()
    parts = [f'<line class="axis" x1="{x0}" x2="{x0 + w}" y1="{y0 + h}" y2="{y0 + h}"/>']
    every = max(1, math.ceil(len(labels) / 6))
    for i, (value, x) in enumerate(zip(labels, positions, strict=True)):
        if i % every and i != len(labels) - 1:
            continue
        if i != len(labels) - 1 and len(labels) - 1 - i < every / 2 and i % every == 0 and i:
            continue  # the last label gets room
        parts.append(f'<text class="tick" x="{x:.1f}" y="{y0 + h + 16}" text-anchor="middle">'
                     f'{escape(_label(value))}</text>')
    parts.append(f'<text class="axis-label" x="{x0 + w / 2}" y="{HEIGHT - 8}" text-anchor="middle">'
                 f'{escape(label)}</text>')
    return parts


def _legend(names: Sequence[str], shape: str = "rect") -> list[str]:
    x = WIDTH - RIGHT + 14
    parts = []
    for i, name in enumerate(names):
        y = TOP + 6 + i * 18
        colour = PALETTE[i % MAX_SERIES]
        swatch = (f'<rect x="{x}" y="{y - 9}" width="12" height="12" fill="{colour}"/>' if shape == "rect" else
                  f'<line x1="{x}" x2="{x + 12}" y1="{y - 3}" y2="{y - 3}" stroke="{colour}" stroke-width="3"/>')
        shown = name if len(name) <= 24 else name[:23] + "…"
        parts.append(f'<g class="legend">{swatch}<text x="{x + 18}" y="{y + 1}">{escape(shown)}'
                     f'<title>{escape(name)}</title></text></g>')
    return parts


def _empty(message: str) -> list[str]:
    x0, y0, w, h = _plot()
    return [f'<text class="empty" x="{x0 + w / 2}" y="{y0 + h / 2}" text-anchor="middle">{escape(message)}</text>']


def _positions(n: int) -> tuple[list[float], float]:
    """x of each of ``n`` categories (centres) and the band width."""
    x0, _, w, _ = _plot()
    band = w / max(n, 1)
    return [x0 + band * (i + 0.5) for i in range(n)], band


def _desc(what: str, xs: Sequence[object], series: Mapping[str, Sequence[float]]) -> str:
    if not xs or not series:
        return f"{what}: no data in this range."
    totals = "; ".join(f"{name}: {_number(sum(values))} in all, {_number(values[-1])} on the last"
                       for name, values in series.items())
    return f"{what}, {len(xs)} points from {_label(xs[0])} to {_label(xs[-1])}. {totals}."


def stacked_area(title: str, xs: Sequence[object], series: Mapping[str, Sequence[float]], *, x_label: str,
                 y_label: str, chart: str, what: str = "") -> str:
    """Series stacked on each other over ``xs`` (one point per x); a single x is drawn as one stacked bar."""
    if len(xs) < 2:
        return stacked_bars(title, xs, series, x_label=x_label, y_label=y_label, chart=chart, what=what)
    desc = _desc(what or title, xs, series)
    if not any(any(v) for v in series.values()):
        return _frame(title, desc, [*_y_axis(0, y_label)[0], *_x_axis(xs, _positions(len(xs))[0], x_label),
                                    *_empty("nothing in this range")], chart=chart)
    x0, y0, w, h = _plot()
    totals = [sum(v[i] for v in series.values()) for i in range(len(xs))]
    axis, top = _y_axis(max(totals), y_label)
    xpos = [x0 + w * i / (len(xs) - 1) for i in range(len(xs))]
    base = [0.0] * len(xs)
    body = list(axis)
    for i, (name, values) in enumerate(series.items()):
        upper = [b + v for b, v in zip(base, values, strict=True)]
        points = [f"{x:.1f},{y0 + h - h * u / top:.1f}" for x, u in zip(xpos, upper, strict=True)]
        points += [f"{x:.1f},{y0 + h - h * b / top:.1f}" for x, b in reversed(list(zip(xpos, base, strict=True)))]
        body.append(f'<polygon class="mark" fill="{PALETTE[i % MAX_SERIES]}" fill-opacity="0.85" '
                    f'points="{" ".join(points)}"><title>{escape(name)}: {_number(values[-1])} on '
                    f'{escape(_label(xs[-1]))}</title></polygon>')
        base = upper
    body += _x_axis(xs, xpos, x_label) + _legend(list(series))
    return _frame(title, desc, body, chart=chart)


def stacked_bars(title: str, xs: Sequence[object], series: Mapping[str, Sequence[float]], *, x_label: str,
                 y_label: str, chart: str, what: str = "") -> str:
    """One bar per x, its series stacked."""
    desc = _desc(what or title, xs, series)
    _, y0, _, h = _plot()
    centres, band = _positions(len(xs))
    totals = [sum(v[i] for v in series.values()) for i in range(len(xs))]
    axis, top = _y_axis(max(totals, default=0), y_label)
    body = list(axis)
    if not any(totals):
        return _frame(title, desc, [*body, *_x_axis(xs, centres, x_label), *_empty("nothing in this range")],
                      chart=chart)
    bar = max(1.0, min(band * 0.7, 60))
    base = [0.0] * len(xs)
    for i, (name, values) in enumerate(series.items()):
        colour = PALETTE[i % MAX_SERIES]
        for j, value in enumerate(values):
            if not value:
                continue
            y_top = y0 + h - h * (base[j] + value) / top
            height = h * value / top
            body.append(f'<rect class="mark" x="{centres[j] - bar / 2:.1f}" y="{y_top:.1f}" width="{bar:.1f}" '
                        f'height="{max(height, 0.5):.1f}" fill="{colour}"><title>{escape(_label(xs[j]))}, '
                        f'{escape(name)}: {_number(value)}</title></rect>')
            base[j] += value
    body += _x_axis(xs, centres, x_label) + _legend(list(series))
    return _frame(title, desc, body, chart=chart)


def lines(title: str, xs: Sequence[object], series: Mapping[str, Sequence[float]], *, x_label: str, y_label: str,
          chart: str, what: str = "") -> str:
    """One line per series over ``xs``, with a dot per point (so a single x still shows)."""
    desc = _desc(what or title, xs, series)
    centres, _ = _positions(len(xs))
    x0, y0, w, h = _plot()
    xpos = [x0 + w * i / (len(xs) - 1) for i in range(len(xs))] if len(xs) > 1 else centres
    axis, top = _y_axis(max((max(v) for v in series.values() if v), default=0), y_label)
    body = list(axis)
    if not series or not any(any(v) for v in series.values()):
        return _frame(title, desc, [*body, *_x_axis(xs, xpos, x_label), *_empty("nothing in this range")],
                      chart=chart)
    for i, (name, values) in enumerate(series.items()):
        colour = PALETTE[i % MAX_SERIES]
        points = [(x, y0 + h - h * v / top) for x, v in zip(xpos, values, strict=True)]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            body.append(f'<polyline class="mark" fill="none" stroke="{colour}" stroke-width="2.5" points="{path}">'
                        f'<title>{escape(name)}</title></polyline>')
        dots = len(points) <= 40
        for j, (x, y) in enumerate(points):
            if dots or len(points) == 1:
                body.append(f'<circle class="mark" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>'
                            f'{escape(_label(xs[j]))}, {escape(name)}: {_number(values[j])}</title></circle>')
    body += _x_axis(xs, xpos, x_label) + _legend(list(series), shape="line")
    return _frame(title, desc, body, chart=chart)


def hbars(title: str, labels: Sequence[str], values: Sequence[float], *, x_label: str, chart: str,
          what: str = "", colours: Sequence[str] | None = None) -> str:
    """One horizontal bar per label, largest first as given."""
    row = 20
    height = max(TOP + BOTTOM + row * len(labels), 120)
    left, right = 250, 40
    w = WIDTH - left - right
    top = max(values, default=0)
    axis_max, step = nice_max(top)
    desc = (f"{what or title}: " + "; ".join(f"{label}: {_number(v)}" for label, v in zip(labels, values, strict=True))
            if labels else f"{what or title}: nothing in this range.")
    body = []
    plot_h = row * max(len(labels), 1)
    for i in range(round(axis_max / step) + 1):
        x = left + w * step * i / axis_max
        body.append(f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + plot_h}"/>'
                    f'<text class="tick" x="{x:.1f}" y="{TOP + plot_h + 14}" text-anchor="middle">'
                    f'{_number(step * i)}</text>')
    if not labels:
        body.append(f'<text class="empty" x="{WIDTH / 2}" y="{TOP + 40}" text-anchor="middle">nothing in this range'
                    "</text>")
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = TOP + i * row
        colour = (colours[i] if colours else PALETTE[0])
        shown = label if len(label) <= 38 else label[:17] + "…" + label[-20:]  # an ID's tail tells it apart
        body.append(f'<text class="tick" x="{left - 6}" y="{y + 14}" text-anchor="end">{escape(shown)}'
                    f'<title>{escape(label)}</title></text>'
                    f'<rect class="mark" x="{left}" y="{y + 3}" width="{max(w * value / axis_max, 0.5):.1f}" '
                    f'height="{row - 6}" fill="{colour}"><title>{escape(label)}: {_number(value)}</title></rect>'
                    f'<text class="value" x="{left + w * value / axis_max + 4:.1f}" y="{y + 14}">{_number(value)}'
                    "</text>")
    body.append(f'<text class="axis-label" x="{left + w / 2}" y="{TOP + plot_h + 34}" text-anchor="middle">'
                f'{escape(x_label)}</text>')
    return _frame(title, desc, body, chart=chart, height=max(height, TOP + plot_h + 44))
