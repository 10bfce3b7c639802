"""The evaluation report: one offline HTML file (no scripts, no network) with the verdict, the metric
table against the champion, every slice, and ROC / precision-recall / calibration / confusion plots
drawn as inline SVG.

Why offline SVG: the report is an artifact that must still open in five years, on an air-gapped
machine, attached to a review ticket; a CDN-hosted charting library would break all three.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
_W, _H, _PAD = 300, 260, 38
_DIAGONAL = '<polyline points="{a} {b}" fill="none" stroke="#aaa" stroke-dasharray="4"/>'

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1240px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:6px 0} th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f4f4f4} td.l,th.l{text-align:left} .ok{color:#0a7a2f} .bad{color:#b00020;font-weight:600}
.verdict{font-size:16px;padding:8px 12px;border-radius:6px;display:inline-block;margin:6px 0}
.yes{background:#e4f5e9} .no{background:#fde7ea} .small{color:#777;font-size:12px}
.plots{display:flex;flex-wrap:wrap;gap:18px} figure{margin:0} figcaption{font-weight:600;text-align:center}
"""


def _num(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4f}"
    return escape(str(value))


def _axes(xlabel: str, ylabel: str) -> list[str]:
    x0, y0, x1, y1 = _PAD, _H - _PAD, _W - 10, 10
    parts = [f'<rect x="{x0}" y="{y1}" width="{x1 - x0}" height="{y0 - y1}" fill="#fff" stroke="#999"/>']
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        px = x0 + t * (x1 - x0)
        py = y0 - t * (y0 - y1)
        parts.append(f'<line x1="{px:.1f}" y1="{y0}" x2="{px:.1f}" y2="{y1}" stroke="#eee"/>')
        parts.append(f'<line x1="{x0}" y1="{py:.1f}" x2="{x1}" y2="{py:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{px:.1f}" y="{y0 + 14}" font-size="10" text-anchor="middle">{t:g}</text>')
        parts.append(f'<text x="{x0 - 4}" y="{py + 3:.1f}" font-size="10" text-anchor="end">{t:g}</text>')
    parts.append(f'<text x="{(x0 + x1) / 2}" y="{_H - 6}" font-size="11" text-anchor="middle">{escape(xlabel)}</text>')
    parts.append(
        f'<text x="10" y="{(y0 + y1) / 2}" font-size="11" text-anchor="middle" '
        f'transform="rotate(-90 10 {(y0 + y1) / 2})">{escape(ylabel)}</text>'
    )
    return parts


def _point(x: float, y: float) -> str:
    x0, y0, x1, y1 = _PAD, _H - _PAD, _W - 10, 10
    return f"{x0 + x * (x1 - x0):.1f},{y0 - y * (y0 - y1):.1f}"


def line_chart(title: str, series: Mapping[str, Mapping[str, Sequence[float]]], xlabel: str, ylabel: str,
               *, diagonal: bool = False) -> str:  # fmt: skip
    """An SVG chart with one polyline per series (x and y in 0..1) and a legend."""
    parts = _axes(xlabel, ylabel)
    if diagonal:
        parts.append(_DIAGONAL.format(a=_point(0, 0), b=_point(1, 1)))
    for i, (name, data) in enumerate(series.items()):
        color = _COLORS[i % len(_COLORS)]
        points = " ".join(_point(x, y) for x, y in zip(data["x"], data["y"], strict=True))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"/>')
        parts.append(f'<rect x="{_PAD + 8}" y="{16 + 14 * i}" width="10" height="10" fill="{color}"/>')
        parts.append(f'<text x="{_PAD + 22}" y="{25 + 14 * i}" font-size="11">{escape(str(name))}</text>')
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}">{"".join(parts)}</svg>'
    return f"<figure>{svg}<figcaption>{escape(title)}</figcaption></figure>"


def calibration_chart(bins: Sequence[Mapping[str, Any]]) -> str:
    """Reliability diagram: accuracy per confidence bin, dot size by rows; the diagonal is perfect."""
    parts = _axes("mean confidence", "accuracy")
    parts.append(_DIAGONAL.format(a=_point(0, 0), b=_point(1, 1)))
    points = " ".join(_point(b["confidence"], b["accuracy"]) for b in bins)
    parts.append(f'<polyline points="{points}" fill="none" stroke="{_COLORS[0]}" stroke-width="2"/>')
    biggest = max((b["rows"] for b in bins), default=1)
    for b in bins:
        cx, cy = _point(b["confidence"], b["accuracy"]).split(",")
        r = 3 + 5 * (b["rows"] / biggest) ** 0.5
        parts.append(f'<circle cx="{cx}" cy="{cy}" r="{r:.1f}" fill="{_COLORS[0]}" fill-opacity="0.6">'
                     f'<title>{b["rows"]} rows</title></circle>')  # fmt: skip
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}">{"".join(parts)}</svg>'
    return f"<figure>{svg}<figcaption>Calibration</figcaption></figure>"


def confusion_chart(confusion: Mapping[str, Any]) -> str:
    """Confusion matrix as a shaded grid: rows are true classes, columns predicted ones."""
    labels, matrix = confusion["labels"], confusion["matrix"]
    n = max(len(labels), 1)
    cell = min(60, 220 // n)
    left, top = 90, 40
    biggest = max((v for row in matrix for v in row), default=1) or 1
    parts = []
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            shade = value / biggest
            fill = f"rgba(31,119,180,{0.08 + 0.85 * shade:.2f})"
            x, y = left + j * cell, top + i * cell
            parts.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}" stroke="#fff"/>')
            color = "#fff" if shade > 0.55 else "#222"
            parts.append(f'<text x="{x + cell / 2}" y="{y + cell / 2 + 4}" font-size="12" text-anchor="middle" '
                         f'fill="{color}">{value}</text>')  # fmt: skip
    for k, label in enumerate(labels):
        short = escape(str(label)[:12])
        parts.append(f'<text x="{left - 6}" y="{top + k * cell + cell / 2 + 4}" font-size="11" '
                     f'text-anchor="end">{short}</text>')  # fmt: skip
        parts.append(f'<text x="{left + k * cell + cell / 2}" y="{top - 6}" font-size="11" '
                     f'text-anchor="middle">{short}</text>')  # fmt: skip
    parts.append(f'<text x="{left + n * cell / 2}" y="14" font-size="11" text-anchor="middle">predicted</text>')
    parts.append(f'<text x="12" y="{top + n * cell / 2}" font-size="11" text-anchor="middle" '
                 f'transform="rotate(-90 12 {top + n * cell / 2})">true</text>')  # fmt: skip
    width, height = left + n * cell + 10, top + n * cell + 10
    size = f'width="{max(width, _W)}" height="{max(height, _H)}"'
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" {size}>{"".join(parts)}</svg>'
    return f"<figure>{svg}<figcaption>Confusion matrix</figcaption></figure>"


def _checks_table(checks: Sequence[Mapping[str, Any]]) -> str:
    if not checks:
        return "<p>No thresholds configured.</p>"
    rows = "".join(
        f'<tr><td class="l {"ok" if c["passed"] else "bad"}">{"pass" if c["passed"] else "FAIL"}</td>'
        f'<td class="l">{escape(c["metric"])}</td><td class="l">{escape(c["kind"])}</td>'
        f'<td class="l">{escape(c["reason"])}</td></tr>'
        for c in checks
    )
    head = "".join(f'<th class="l">{h}</th>' for h in ("result", "metric", "check", "why"))
    return f"<table><tr>{head}</tr>{rows}</table>"


def _metrics_table(metrics: Mapping[str, float], baseline: Mapping[str, float] | None, champion: str | None) -> str:
    head = "<tr><th class='l'>metric</th><th>candidate</th>"
    if baseline is not None:
        head += f"<th>champion {escape(str(champion))}</th><th>change</th>"
    rows = []
    for name, value in metrics.items():
        row = f"<tr><td class='l'>{escape(name)}</td><td>{_num(value)}</td>"
        if baseline is not None:
            base = baseline.get(name)
            change = None if base is None else value - base
            row += f"<td>{_num(base)}</td><td>{'—' if change is None else f'{change:+.4f}'}</td>"
        rows.append(row + "</tr>")
    return f"<table>{head}</tr>{''.join(rows)}</table>"


def _slices_tables(slices: Mapping[str, Any], metric_names: Sequence[str]) -> str:
    out = []
    min_rows = slices.get("min_rows", 0)
    for slicing in slices.get("slicings", []):
        head = "<tr><th class='l'>slice</th><th>rows</th>" + "".join(f"<th>{escape(m)}</th>" for m in metric_names)
        rows = []
        for piece in slicing["slices"]:
            small = piece["rows"] < min_rows
            cells = "".join(f"<td>{_num(piece['metrics'].get(m))}</td>" for m in metric_names)
            note = " <span class='small'>(too few rows for the gap)</span>" if small else ""
            rows.append(f"<tr><td class='l'>{escape(piece['slice'])}{note}</td><td>{piece['rows']}</td>{cells}</tr>")
        out.append(f"<h3>{escape(slicing['name'])}</h3><table>{head}</tr>{''.join(rows)}</table>")
    gaps = slices.get("gaps", {})
    if gaps:
        rows = "".join(
            f"<tr><td class='l'>{escape(m)}</td><td>{g['gap']:.4f}</td><td class='l'>{escape(g['slicing'])}</td>"
            f"<td class='l'>{escape(g['highest'])}</td><td class='l'>{escape(g['lowest'])}</td></tr>"
            for m, g in gaps.items()
        )
        out.append(
            "<h3>Largest gap between slices</h3><table><tr><th class='l'>metric</th><th>gap</th>"
            f"<th class='l'>slicing</th><th class='l'>highest</th><th class='l'>lowest</th></tr>{rows}</table>"
        )
    return "".join(out) or "<p>No slices configured.</p>"


_SLICE_COLUMNS = ("accuracy", "f1_macro", "roc_auc", "log_loss", "rmse", "mae", "r2")


def render_report(evaluation: Mapping[str, Any], blessing: Mapping[str, Any], *, title: str) -> str:
    """The whole HTML page for an evaluation (as written by the evaluate step) and its blessing."""
    metrics = evaluation["metrics"]
    blessed = blessing.get("blessed", False)
    verdict = f'<div class="verdict {"yes" if blessed else "no"}">{escape(blessing.get("summary", ""))}</div>'
    champion = evaluation.get("champion")
    against = f"compared with champion {escape(str(champion))}" if champion else "no champion to compare with"
    shown = [m for m in _SLICE_COLUMNS if m in metrics]
    plots = []
    curves = evaluation.get("curves") or {}
    if curves.get("roc"):
        plots.append(line_chart("ROC (one-vs-rest)", curves["roc"], "false positive rate", "true positive rate",
                                diagonal=True))  # fmt: skip
    if curves.get("pr"):
        plots.append(line_chart("Precision-recall", curves["pr"], "recall", "precision"))
    if curves.get("calibration"):
        plots.append(calibration_chart(curves["calibration"]))
    if evaluation.get("confusion"):
        plots.append(confusion_chart(evaluation["confusion"]))
    body = [
        f"<h1>{escape(title)}</h1>",
        f"<p class='small'>{evaluation.get('rows', '?')} evaluation rows · {against}</p>",
        verdict,
        "<h2>Plots</h2>",
        f"<div class='plots'>{''.join(plots)}</div>" if plots else "<p>No plots for this task.</p>",
        "<h2>Metrics</h2>",
        _metrics_table(metrics, evaluation.get("baseline"), champion),
        "<h2>Slices</h2>",
        _slices_tables(evaluation.get("slices") or {}, shown),
        "<h2>Checks</h2>",
        _checks_table(blessing.get("checks", [])),
    ]
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n"
    )
