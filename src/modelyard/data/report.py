"""A statistics report as one self-contained HTML page: open it from disk, attach it to a ticket, archive it.

Everything is inline (CSS, SVG bars), with no scripts and no links out, so the page looks the same
offline, years later, or behind a firewall. Splits sit side by side within each column because the
question a person asks is "does eval look like train?", and anomalies come first because they are
why anyone opens the page.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

from modelyard.core.anomalies import Anomalies, Anomaly, AnomalyCode, Severity
from modelyard.core.statistics import ColumnStatistics, DatasetStatistics

#: Bars drawn per column and split; the statistics may hold more values than are worth a glance.
BARS = 10

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;padding:24px 32px;color:#1d2330;
background:#f6f7f9}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0 0 8px}h3{font-size:13px;margin:0 0 6px;
text-transform:uppercase;letter-spacing:.04em;color:#556}
.summary{color:#556;margin:0 0 18px}.summary b{color:#1d2330}
.panel{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:14px 18px;margin:0 0 16px}
.anomalies.bad{border-color:#d33;border-width:2px}.anomalies.warn-only{border-color:#e0a800}.anomalies.good{border-color:#2a8a4a}
table{border-collapse:collapse}td,th{padding:2px 10px 2px 0;text-align:left;vertical-align:top}
th{font-weight:600;color:#556}td.num{text-align:right;font-variant-numeric:tabular-nums}
.sev{font-weight:700;text-transform:uppercase;font-size:11px;padding:1px 6px;border-radius:4px}
.sev.error{background:#fde2e2;color:#a11}.sev.warning{background:#fff1cc;color:#7a5400}
.type{font-size:11px;font-weight:600;color:#fff;background:#5b6b84;border-radius:4px;padding:1px 6px;
vertical-align:middle;margin-left:6px}
.column.flagged{border-left:5px solid #d33}.column ul.notes{margin:0 0 10px;padding-left:18px;color:#a11}
.splits{display:flex;flex-wrap:wrap;gap:16px}.split{flex:1 1 300px;min-width:280px;max-width:460px}
.warn{color:#b35c00;font-weight:600}.absent{color:#999;font-style:italic}
nav{margin:0 0 16px;line-height:2}nav a{margin-right:10px;color:#2456a6;text-decoration:none}
nav a.flag{color:#a11;font-weight:600}
svg.bars text{font-size:11px;fill:#1d2330}svg.bars rect{fill:#5b84c4}svg.bars rect.out{fill:#d33}
svg.bars text.n{fill:#556}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _num(value: float | int | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, int) or (float(value).is_integer() and abs(value) < 1e15):
        return f"{int(value):,}"
    return f"{value:,.6g}"


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat(sep=" ").removesuffix("+00:00")


def _share(part: int, whole: int) -> str:
    return f"{_num(part)} ({100 * part / whole:.1f}%)" if whole else _num(part)


def _rows(pairs: list[tuple[str, str, bool]]) -> str:
    cells = "".join(
        f'<tr><th>{_e(label)}</th><td class="num{" warn" if warn else ""}">{value}</td></tr>'
        for label, value, warn in pairs
    )
    return f"<table>{cells}</table>"


def _bars(column: ColumnStatistics, split: str, flagged: set[str]) -> str:
    top = column.string.top[:BARS] if column.string else ()
    if not top:
        return ""
    height, label_width, bar_width = 18, 120, 150
    biggest = max(count for _, count in top) or 1
    groups = []
    for index, (value, count) in enumerate(top):
        y = index * height
        width = max(1, round(bar_width * count / biggest))
        label = value if len(value) <= 18 else value[:17] + "…"
        css = ' class="out"' if value in flagged else ""
        groups.append(
            f"<g><title>{_e(value)}: {count}</title>"
            f'<text x="0" y="{y + 13}">{_e(label)}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{width}" height="12"{css}></rect>'
            f'<text class="n" x="{label_width + width + 4}" y="{y + 13}">{_num(count)}</text></g>'
        )
    total = label_width + bar_width + 60
    return (
        f'<svg class="bars" width="{total}" height="{height * len(top)}" '
        f'viewBox="0 0 {total} {height * len(top)}" role="img" '
        f'aria-label="most frequent values of {_e(column.name)} in {_e(split)}">{"".join(groups)}</svg>'
    )


def _split_block(split: str, stats: DatasetStatistics, name: str, flagged: set[str]) -> str:
    column = stats.find_column(name)
    if column is None:
        return f'<div class="split"><h3>{_e(split)}</h3><p class="absent">not in this split</p></div>'
    rows = stats.num_rows
    pairs: list[tuple[str, str, bool]] = [
        ("present", _share(column.count, rows), False),
        ("missing", _share(column.missing, rows), column.missing > 0),
    ]
    numeric, string = column.numeric, column.string
    if numeric is not None:
        show = _when if column.type == "timestamp" else _num
        pairs += [("min", show(numeric.min), False), ("max", show(numeric.max), False)]
        pairs += [("mean", show(numeric.mean), False)]
        std = f"{_num(numeric.std)} s" if column.type == "timestamp" and numeric.std is not None else None
        pairs += [("std", std or _num(numeric.std), False)]
        pairs += [("zeros", _share(numeric.zeros, column.count), False)]
        pairs += [("negatives", _share(numeric.negatives, column.count), False)]
        if numeric.nan or numeric.inf:
            pairs += [("NaN", _num(numeric.nan), True), ("infinite", _num(numeric.inf), True)]
    if string is not None:
        approx = "≈ " if string.distinct_is_approximate else ""
        pairs += [("distinct", approx + _num(string.distinct), False)]
        lengths = f"{_num(string.min_len)} / {_num(string.mean_len)} / {_num(string.max_len)}"
        pairs += [("length min / mean / max", lengths, False)]
    return (
        f'<div class="split"><h3>{_e(split)} · {_num(rows)} rows</h3>{_rows(pairs)}'
        f"{_bars(column, split, flagged)}</div>"
    )


def _anomaly_panel(anomalies: Anomalies) -> str:
    if not len(anomalies):
        return '<section class="panel anomalies good"><h2>No anomalies</h2></section>'
    errors, warnings = len(anomalies.errors), len(anomalies.warnings)
    heading = f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
    rows = "".join(
        f'<tr><td><span class="sev {_e(item.severity)}">{_e(item.severity)}</span></td>'
        f"<td>{_e(item.column or '(table)')}</td><td><code>{_e(item.code)}</code></td>"
        f"<td>{_e(item.message)}</td></tr>"
        for item in sorted(anomalies, key=lambda item: item.severity != Severity.ERROR)
    )
    css = "bad" if anomalies.has_errors else "warn-only"
    return (
        f'<section class="panel anomalies {css}"><h2>Anomalies: {heading}</h2>'
        f"<table><tr><th>severity</th><th>column</th><th>code</th><th>message</th></tr>{rows}</table></section>"
    )


def _out_of_domain(items: tuple[Anomaly, ...]) -> set[str]:
    values: set[str] = set()
    for item in items:
        if item.code == AnomalyCode.VALUE_OUTSIDE_DOMAIN:
            values.update(str(value) for value in item.details.get("examples", ()))
    return values


def statistics_html(
    stats: dict[str, DatasetStatistics], *, anomalies: Anomalies | None = None, title: str = "Statistics"
) -> str:
    """The report page for one or more splits (``{"train": ..., "eval": ...}``), anomalies on top."""
    names: list[str] = []
    types: dict[str, str] = {}
    for split_stats in stats.values():
        for column in split_stats.columns:
            if column.name not in types:
                names.append(column.name)
                types[column.name] = column.type
    if anomalies is not None:
        for item in anomalies:  # a column the schema expects but no split has still gets a section
            if item.column and item.column not in types:
                names.append(item.column)
                types[item.column] = "absent"
    summary = " · ".join(f"<b>{_e(split)}</b> {_num(s.num_rows)} rows" for split, s in stats.items())
    parts = [
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<style>{_CSS}</style></head><body><h1>{_e(title)}</h1>",
        f'<p class="summary">{summary} · <b>{len(names)}</b> columns</p>',
    ]
    if anomalies is not None:
        parts.append(_anomaly_panel(anomalies))
    links = []
    for index, name in enumerate(names):
        flag = ' class="flag"' if anomalies is not None and anomalies.for_column(name) else ""
        links.append(f'<a href="#c{index}"{flag}>{_e(name)}</a>')
    parts.append(f"<nav>{''.join(links)}</nav>")
    for index, name in enumerate(names):
        notes = anomalies.for_column(name) if anomalies is not None else ()
        flagged = _out_of_domain(notes)
        css = "panel column flagged" if notes else "panel column"
        note_list = "".join(f"<li>{_e(item.message)}</li>" for item in notes)
        blocks = "".join(_split_block(split, s, name, flagged) for split, s in stats.items())
        parts.append(
            f'<section class="{css}" id="c{index}"><h2>{_e(name)}<span class="type">{_e(types[name])}</span></h2>'
            + (f'<ul class="notes">{note_list}</ul>' if note_list else "")
            + f'<div class="splits">{blocks}</div></section>'
        )
    parts.append("</body></html>")
    return "\n".join(parts)
