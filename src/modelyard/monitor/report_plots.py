"""The drawings of the monitor's drift report: trends over the judged windows, and histograms on one scale.

Why hand-written SVG: the report is an artifact that must open offline, years later, attached to an
incident ticket; a charting library from a CDN would break all of that, and these charts are simple.

Every trend chart has one ``<g class="win">`` per window (with a tooltip naming the window) so a person
can hover any window, and the window being reported is drawn on a highlighted band: the question on an
incident is "is this new, or has it been building up?".

Why re-bin histograms: the statistics engine cuts each dataset's histogram at that dataset's own range,
so a feature whose mean moved by two standard deviations draws exactly the same shape on both sides;
only the tiny edge labels differ. Spreading both onto the same edges (uniformly within each source bin,
which is exact enough for a picture) makes the shift visible at a glance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from html import escape
from typing import Any

from modelyard.core.statistics import DatasetStatistics, NumericStats

COLORS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f")
OTHER = "(other)"
_W, _H = 580, 200
_LEFT, _RIGHT, _TOP, _BOTTOM = 46, 12, 12, 34
_MAX_LABELS = 7
_HALF_LABEL = 34  # half the width of an 'MM-DD HH:MM' label at 10px
_MAX_CLASSES = len(COLORS) - 1  # the rest share one colour as OTHER


def _short_time(text: str) -> str:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return str(text)
    return moment.strftime("%m-%d %H:%M")


def _fmt(value: float) -> str:
    return f"{value:.3g}"


class _Frame:
    """Axes for ``n`` windows side by side: window ``i`` owns one slot of the x axis."""

    def __init__(self, timeline: Sequence[dict[str, Any]], current: int, low: float, high: float) -> None:
        self.n, self.current = max(len(timeline), 1), current
        self.low, self.high = low, high if high > low else low + 1.0
        self.x0, self.x1, self.y0, self.y1 = _LEFT, _W - _RIGHT, _H - _BOTTOM, _TOP
        self.slot = (self.x1 - self.x0) / self.n
        self.timeline = timeline

    def x(self, index: int) -> float:
        return self.x0 + (index + 0.5) * self.slot

    def y(self, value: float) -> float:
        share = (value - self.low) / (self.high - self.low)
        return self.y0 - share * (self.y0 - self.y1)

    def axes(self, ticks: Sequence[float], tick_text: Any = _fmt) -> list[str]:
        parts = []
        if 0 <= self.current < self.n:
            left = self.x0 + self.current * self.slot
            parts.append(f'<rect class="now" x="{left:.1f}" y="{self.y1}" width="{self.slot:.1f}" '
                         f'height="{self.y0 - self.y1}"></rect>')  # fmt: skip
        for tick in ticks:
            y = self.y(tick)
            parts.append(f'<line class="grid" x1="{self.x0}" y1="{y:.1f}" x2="{self.x1}" y2="{y:.1f}"></line>')
            parts.append(f'<text x="{self.x0 - 5}" y="{y + 3:.1f}" text-anchor="end">{escape(tick_text(tick))}</text>')
        parts.append(f'<line class="axis" x1="{self.x0}" y1="{self.y0}" x2="{self.x1}" y2="{self.y0}"></line>')
        step = max(math.ceil(self.n / _MAX_LABELS), math.ceil((2 * _HALF_LABEL + 6) / self.slot))
        right = float(_W)  # where the label to the right of the next one begins
        for index in range(len(self.timeline) - 1, -1, -1):  # from the newest, so the newest is always labelled
            x, anchor = self.x(index), "middle"
            if x + _HALF_LABEL > right:  # end the label at the edge (or before its neighbour) instead of cutting it
                x, anchor = right - 1, "end"
            left = x - (2 * _HALF_LABEL if anchor == "end" else _HALF_LABEL)
            if (self.n - 1 - index) % step or left < 0:
                continue
            css = ' class="nowlabel"' if index == self.current else ""
            parts.append(f'<text{css} x="{x:.1f}" y="{self.y0 + 14}" text-anchor="{anchor}">'
                         f'{escape(_short_time(self.timeline[index].get("start", "")))}</text>')  # fmt: skip
            right = left - 6
        return parts

    def window_tip(self, index: int, detail: str) -> str:
        item = self.timeline[index]
        bounds = f"{item.get('start', '')} – {item.get('end', '')}"
        return f"<title>{escape(bounds)} · {escape(str(item.get('rows', '?')))} rows · {escape(detail)}</title>"

    def svg(self, parts: list[str], label: str) -> str:
        return (f'<svg class="trend" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" role="img" '
                f'aria-label="{escape(label)}">{"".join(parts)}</svg>')  # fmt: skip


def _figure(svg: str, caption: str, legend: str = "") -> str:
    return f'<figure class="trend"><figcaption>{escape(caption)}</figcaption>{svg}{legend}</figure>'


def _legend(names: Sequence[str]) -> str:
    items = "".join(
        f'<span><i style="background:{COLORS[i % len(COLORS)]}"></i>{escape(name)}</span>'
        for i, name in enumerate(names)
    )
    return f'<div class="legend">{items}</div>'


def share_bars(timeline: Sequence[dict[str, Any]], current: int) -> str:
    """The predicted classes' shares per window, stacked to 100%: the most common classes get their own colour."""
    totals: dict[str, float] = {}
    for item in timeline:
        for name, share in (item.get("prediction_shares") or {}).items():
            totals[str(name)] = totals.get(str(name), 0.0) + float(share)
    ranked = sorted(totals, key=lambda name: (-totals[name], name))
    named = ranked if len(ranked) <= _MAX_CLASSES + 1 else [*ranked[:_MAX_CLASSES], OTHER]
    frame = _Frame(timeline, current, 0.0, 1.0)
    parts = frame.axes((0.0, 0.5, 1.0), lambda t: f"{t:.0%}")
    width = max(frame.slot * 0.72, 1.0)
    for index, item in enumerate(timeline):
        shares: dict[str, float] = {}
        for name, share in (item.get("prediction_shares") or {}).items():
            key = str(name) if str(name) in named else OTHER
            shares[key] = shares.get(key, 0.0) + float(share)
        bottom, rects = 0.0, []
        for color_index, name in enumerate(named):
            share = shares.get(name, 0.0)
            if share <= 0:
                continue
            top, low = frame.y(bottom + share), frame.y(bottom)
            rects.append(f'<rect x="{frame.x(index) - width / 2:.1f}" y="{top:.1f}" width="{width:.1f}" '
                         f'height="{low - top:.1f}" fill="{COLORS[color_index % len(COLORS)]}"></rect>')  # fmt: skip
            bottom += share
        detail = ", ".join(f"{name} {shares[name]:.1%}" for name in named if name in shares) or "no predictions"
        css = "win current" if index == current else "win"
        parts.append(f'<g class="{css}">{frame.window_tip(index, detail)}{"".join(rects)}</g>')
    return _figure(frame.svg(parts, "predicted class shares per window"), "Predicted classes per window",
                   _legend(named))  # fmt: skip


def _nice_range(values: Sequence[float], unit_interval: bool) -> tuple[float, float]:
    if unit_interval and all(0.0 <= v <= 1.0 for v in values):
        return 0.0, 1.0
    low, high = min(values, default=0.0), max(values, default=1.0)
    pad = (high - low) * 0.1 or abs(high) * 0.1 or 1.0
    low = 0.0 if low >= 0 and low - pad < 0 else low - pad
    return low, high + pad


def lines(
    timeline: Sequence[dict[str, Any]], current: int, series: dict[str, list[float | None]], caption: str,
    *, unit_interval: bool = False,
) -> str:  # fmt: skip
    """One line per series over the windows; a window without a value breaks the line (no invented points)."""
    values = [v for found in series.values() for v in found if v is not None]
    low, high = _nice_range(values, unit_interval)
    frame = _Frame(timeline, current, low, high)
    parts = frame.axes((low, (low + high) / 2, high))
    for color_index, found in enumerate(series.values()):
        color = COLORS[color_index % len(COLORS)]
        run: list[str] = []
        for index, value in enumerate([*found, None]):
            if value is not None:
                run.append(f"{frame.x(index):.1f},{frame.y(value):.1f}")
            elif run:
                parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{color}" stroke-width="2">'
                             "</polyline>")  # fmt: skip
                run = []
    for index in range(len(timeline)):
        dots, notes = [], []
        for color_index, (name, found) in enumerate(series.items()):
            value = found[index] if index < len(found) else None
            if value is None:
                continue
            notes.append(f"{name} {value:.4g}")
            dots.append(f'<circle cx="{frame.x(index):.1f}" cy="{frame.y(value):.1f}" r="3.5" '
                        f'fill="{COLORS[color_index % len(COLORS)]}"></circle>')  # fmt: skip
        css = "win current" if index == current else "win"
        detail = ", ".join(notes) or "no value"
        parts.append(f'<g class="{css}">{frame.window_tip(index, detail)}{"".join(dots)}</g>')
    return _figure(frame.svg(parts, caption), caption, _legend(list(series)))


def drifted_counts(timeline: Sequence[dict[str, Any]], current: int) -> str:
    """How many features drifted in each window (red when any did)."""
    counts = [len(item.get("drifted") or ()) for item in timeline]
    top = max(max(counts, default=0), 1)
    frame = _Frame(timeline, current, 0.0, float(top))
    parts = frame.axes(sorted({0.0, float(math.ceil(top / 2)), float(top)}), lambda t: str(int(t)))
    width = max(frame.slot * 0.72, 1.0)
    for index, count in enumerate(counts):
        top_y = frame.y(count) if count else frame.y0 - 1.5
        css = "win current" if index == current else "win"
        fill = "#d33" if count else "#9aa5b5"
        names = ", ".join(str(name) for name in timeline[index].get("drifted") or ()) or "none"
        parts.append(f'<g class="{css}">{frame.window_tip(index, f"drifted: {names}")}'
                     f'<rect x="{frame.x(index) - width / 2:.1f}" y="{top_y:.1f}" width="{width:.1f}" '
                     f'height="{frame.y0 - top_y:.1f}" fill="{fill}"></rect></g>')  # fmt: skip
    return _figure(frame.svg(parts, "drifted features per window"), "Drifted features per window")


def _rebin(numeric: NumericStats, edges: list[float]) -> tuple[int, ...]:
    counts = [0.0] * (len(edges) - 1)
    width = edges[1] - edges[0]
    source = numeric.histogram_edges
    for index, count in enumerate(numeric.histogram_counts):
        a, b = source[index], source[index + 1]
        if b <= a:  # a constant column: one point, one bin
            counts[min(int((a - edges[0]) / width), len(counts) - 1)] += count
            continue
        for target in range(len(counts)):
            overlap = min(b, edges[target + 1]) - max(a, edges[target])
            if overlap > 0:
                counts[target] += count * overlap / (b - a)
    return tuple(round(count) for count in counts)


def common_histograms(
    reference: DatasetStatistics, current: DatasetStatistics, name: str
) -> tuple[DatasetStatistics, DatasetStatistics]:
    """Both datasets with ``name``'s histogram re-cut on shared edges (unchanged if either has none)."""
    ref, cur = reference.find_column(name), current.find_column(name)
    if ref is None or cur is None or ref.numeric is None or cur.numeric is None:
        return reference, current
    if not ref.numeric.histogram_counts or not cur.numeric.histogram_counts:
        return reference, current
    low = min(ref.numeric.histogram_edges[0], cur.numeric.histogram_edges[0])
    high = max(ref.numeric.histogram_edges[-1], cur.numeric.histogram_edges[-1])
    if not high > low:
        return reference, current
    bins = max(len(ref.numeric.histogram_counts), len(cur.numeric.histogram_counts))
    edges = [low + (high - low) * i / bins for i in range(bins + 1)]

    def recut(stats: DatasetStatistics, numeric: NumericStats) -> DatasetStatistics:
        cut = replace(numeric, histogram_edges=tuple(edges), histogram_counts=_rebin(numeric, edges))
        columns = tuple(replace(c, numeric=cut) if c.name == name else c for c in stats.columns)
        return replace(stats, columns=columns)

    return recut(reference, ref.numeric), recut(current, cur.numeric)
