"""The dashboard's charts as geometry: bars and polylines in a fixed viewBox, drawn by the
``chart`` macro as inline SVG (no script, no chart library). Colours are CSS classes, so the light
and dark themes restyle them; an empty chart says so instead of drawing a flat line.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Bar", "Chart", "Line", "counts_chart", "latency_chart", "sparkline"]

WIDTH, HEIGHT = 600, 160
COMPACT_HEIGHT = 70  # a row's chart in the per-account table
PAD_LEFT, PAD_BOTTOM, PAD_TOP = 36, 18, 8


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Line:
    css: str
    label: str
    segments: tuple[str, ...]  # SVG polyline points, one string per run of known values
    dots: tuple[tuple[float, float], ...] = ()  # markers, so that a lone minute still shows


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    width: int
    height: int
    bars: tuple[Bar, ...]
    lines: tuple[Line, ...]
    top: str  # the value at the top of the plot, as shown
    start: str  # the time at the left edge
    end: str
    empty: bool
    legend: tuple[tuple[str, str], ...]  # (css, label)
    compact: bool = False


def _clock(at: float) -> str:
    return time.strftime("%H:%M", time.gmtime(at))


def _chart(
    chart_id: str, title: str, count: int, *, start: float, step: float, height: int = HEIGHT, **parts: Any
) -> Chart:
    """A chart of ``count`` minutes from ``start``, labelled at both ends."""
    end = _clock(start + (count - 1) * step)
    return Chart(id=chart_id, title=title, width=WIDTH, height=height, start=_clock(start), end=end, **parts)


def _scale(peak: float) -> float:
    """A round ceiling for the y axis (1, 2, 5 times a power of ten)."""
    if peak <= 0:
        return 1.0
    power = 1.0
    while power * 10 < peak:
        power *= 10
    while power > peak * 10:
        power /= 10
    for step in (1, 2, 5, 10):
        if step * power >= peak:
            return step * power
    return 10 * power


def _frame(count: int, width: int, height: int) -> tuple[float, float]:
    """Plot height and the width of one value's slot, for ``count`` values."""
    return height - PAD_BOTTOM - PAD_TOP, (width - PAD_LEFT) / max(count, 1)


def counts_chart(
    chart_id: str,
    title: str,
    requests: Sequence[int],
    errors: Sequence[int],
    *,
    start: float,
    step: float,
    labels: tuple[str, str] = ("requests", "errors"),
    compact: bool = False,
) -> Chart:
    """Per-minute requests as bars with the errors of each minute stacked in red."""
    height_px = COMPACT_HEIGHT if compact else HEIGHT
    top = _scale(max(requests, default=0))
    plot_h, slot = _frame(len(requests), WIDTH, height_px)
    bars: list[Bar] = []
    for i, (total, failed) in enumerate(zip(requests, errors, strict=True)):
        x = PAD_LEFT + i * slot + slot * 0.1
        at = _clock(start + i * step)
        for value, base, css in ((total - failed, 0, "ok"), (failed, total - failed, "err")):
            if value <= 0:
                continue
            height = plot_h * value / top
            y = PAD_TOP + plot_h - plot_h * (base + value) / top
            bars.append(
                Bar(round(x, 1), round(y, 1), round(slot * 0.8, 1), round(height, 1), css, f"{at}: {value}")
            )
    return _chart(
        chart_id,
        title,
        len(requests),
        start=start,
        step=step,
        height=height_px,
        bars=tuple(bars),
        lines=(),
        top=f"{top:g}",
        empty=not any(requests),
        legend=(("ok", labels[0]), ("err", labels[1])),
        compact=compact,
    )


def _line(css: str, label: str, values: Sequence[float | None], top: float) -> Line:
    """A polyline per run of known values, and a marker on every value."""
    plot_h, slot = _frame(len(values), WIDTH, HEIGHT)
    runs: list[list[str]] = []
    dots: list[tuple[float, float]] = []
    gap = True
    for i, value in enumerate(values):
        if value is None:
            gap = True
            continue
        x = round(PAD_LEFT + i * slot + slot / 2, 1)
        y = round(PAD_TOP + plot_h - plot_h * min(value, top) / top, 1)
        if gap:
            runs.append([])
            gap = False
        runs[-1].append(f"{x},{y}")
        dots.append((x, y))
    return Line(css, label, tuple(" ".join(run) for run in runs if len(run) > 1), tuple(dots))


def latency_chart(
    chart_id: str,
    title: str,
    p50: Sequence[float | None],
    p95: Sequence[float | None],
    *,
    start: float,
    step: float,
) -> Chart:
    """Per-minute p50 and p95 (seconds) as two lines; minutes without samples leave gaps."""
    known = [value for value in (*p50, *p95) if value is not None]
    top = _scale(max(known, default=0.0))
    lines = (_line("p95", "p95", p95, top), _line("p50", "p50", p50, top))
    return _chart(
        chart_id,
        title,
        len(p50),
        start=start,
        step=step,
        bars=(),
        lines=lines,
        top=f"{top:g} s",
        empty=not known,
        legend=(("p50", "p50"), ("p95", "p95")),
    )


def sparkline(chart_id: str, title: str, values: Sequence[int], *, start: float, step: float) -> Chart:
    """A queue-length style line of whole numbers (zero drawn, not a gap)."""
    top = _scale(max(values, default=0))
    line = _line("queue", title, [float(v) for v in values], top)
    line = Line(line.css, line.label, line.segments)  # every minute has a value: no markers needed
    return _chart(
        chart_id,
        title,
        len(values),
        start=start,
        step=step,
        bars=(),
        lines=(line,),
        top=f"{top:g}",
        empty=not any(values),
        legend=(("queue", title),),
    )
