"""A statistics report as one self-contained HTML page: open it from disk, attach it to a ticket, archive it.

Everything is inline (CSS, SVG bars), with no scripts and no links out, so the page looks the same
offline, years later, or behind a firewall. Splits sit side by side within each column because the
question a person asks is "does eval look like train?", and anomalies come first because they are
why anyone opens the page.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

from modelyard.core.anomalies import Anomalies, Anomaly, AnomalyCode, DriftReport, Severity
from modelyard.core.statistics import NAMED_QUANTILES, ColumnStatistics, DatasetStatistics

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
svg.hist rect{fill:#7a9fd6}svg.hist text{font-size:10px;fill:#556}
.dist{font-size:12px;font-weight:600;border-radius:4px;padding:1px 7px;margin-left:8px;vertical-align:middle}
.dist.ok{background:#e3f3e8;color:#1d6b36}.dist.moved{background:#fde2e2;color:#a11}
table.drift td,table.drift th{padding:2px 14px 2px 0}tr.moved td{color:#a11;font-weight:600}
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


def _histogram(column: ColumnStatistics, split: str) -> str:
    numeric = column.numeric
    if numeric is None or not numeric.histogram_counts:
        return ""
    counts, edges = numeric.histogram_counts, numeric.histogram_edges
    width, height, top = 300, 70, max(numeric.histogram_counts) or 1
    step = width / len(counts)
    show = _when if column.type == "timestamp" else _num
    about = "≈ " if numeric.histogram_estimated else ""  # estimated from the percentile sample
    bars = []
    for index, count in enumerate(counts):
        h = round(height * count / top, 1)
        bars.append(
            f"<rect x='{index * step + 0.5:.1f}' y='{height - h:.1f}' width='{max(step - 1, 1):.1f}' height='{h}'>"
            f"<title>{_e(show(edges[index]))} – {_e(show(edges[index + 1]))}: {about}{count:,}</title></rect>"
        )
    labels = (
        f"<text x='0' y='{height + 12}'>{_e(show(edges[0]))}</text>"
        f"<text x='{width}' y='{height + 12}' text-anchor='end'>{_e(show(edges[-1]))}</text>"
        + (f"<text x='{width / 2:.0f}' y='{height + 12}' text-anchor='middle'>≈ sampled</text>" if about else "")
    )
    return (
        f"<svg class='hist' width='{width}' height='{height + 16}' viewBox='0 0 {width} {height + 16}' role='img' "
        f"aria-label='histogram of {_e(column.name)} in {_e(split)}'>{''.join(bars)}{labels}</svg>"
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
        if numeric.percentiles:
            quantiles = " / ".join(show(numeric.quantile(p)) for p in NAMED_QUANTILES)
            pairs += [("p1 / 5 / 25 / 50 / 75 / 95 / 99" + (" ≈" if numeric.approximate else ""), quantiles, False)]
        if numeric.max_gap is not None:
            pairs += [("largest gap", f"{_num(numeric.max_gap)} s", False)]
    if string is not None:
        approx = "≈ " if string.distinct_is_approximate else ""
        pairs += [("distinct", approx + _num(string.distinct), False)]
        lengths = f"{_num(string.min_len)} / {_num(string.mean_len)} / {_num(string.max_len)}"
        pairs += [("length min / mean / max", lengths, False)]
    if column.lists is not None:
        lists = column.lists
        sizes = f"{_num(lists.min_values)} / {_num(lists.mean_values)} / {_num(lists.max_values)}"
        pairs += [("values per row min / mean / max", sizes, False), ("values in all", _num(lists.total_values), False)]
    return (
        f'<div class="split"><h3>{_e(split)} · {_num(rows)} rows</h3>{_rows(pairs)}'
        f"{_histogram(column, split)}{_bars(column, split, flagged)}</div>"
    )


_METRIC_NAMES = {
    "linf": "L-infinity",
    "jensen_shannon": "Jensen-Shannon",
    "ks_test": "KS test p-value",
    "ks": "KS distance",
    "new_categories": "new categories",
    "chi2_test": "chi-square p-value",
}


def _drift_panel(drift: DriftReport, names: list[str]) -> str:
    rows = []
    for found in drift.columns:
        index = names.index(found.column) if found.column in names else 0
        others = ", ".join(f"{key} {value:.3g}" for key, value in found.distances.items())
        css = ' class="moved"' if found.drifted else ""
        rows.append(
            f'<tr{css}><td><a href="#c{index}">{_e(found.column)}</a></td><td>{_e(found.kind)}</td>'
            f"<td>{_e(_METRIC_NAMES.get(found.metric, found.metric))}</td><td class='num'>{found.value:.4f}</td>"
            f"<td class='num'>{found.threshold:g}</td><td>{'moved' if found.drifted else 'ok'}</td>"
            f"<td>{_e(others)}</td></tr>"
        )
    for name, reason in drift.not_compared:
        index = names.index(name) if name in names else 0
        rows.append(
            f'<tr class="moved"><td><a href="#c{index}">{_e(name)}</a></td><td colspan="6">'
            f"not compared: {_e(reason)}</td></tr>"
        )
    moved = len(drift.drifted)
    word = "drift" if drift.mode == "drift" else "skew"
    return (
        f'<section class="panel"><h2>{_e(word.capitalize())}: {moved} of {len(drift.columns)} columns moved</h2>'
        '<table class="drift"><tr><th>column</th><th>kind</th><th>deciding measure</th><th>value</th>'
        f"<th>threshold</th><th></th><th>all measures</th></tr>{''.join(rows)}</table></section>"
    )


def _slices_panel(stats: dict[str, DatasetStatistics]) -> str:
    rows = []
    for split, found in stats.items():
        for label, part in found.slices.items():
            share = 100 * part.num_rows / found.num_rows if found.num_rows else 0.0
            rows.append(
                f"<tr><td>{_e(split)}</td><td>{_e(label)}</td><td class='num'>{_num(part.num_rows)}</td>"
                f"<td class='num'>{share:.1f}%</td></tr>"
            )
    if not rows:
        return ""
    return (
        '<section class="panel"><h2>Slices</h2><table><tr><th>dataset</th><th>slice</th><th>rows</th>'
        f"<th>share</th></tr>{''.join(rows)}</table></section>"
    )


def _distance_badge(drift: DriftReport | None, name: str) -> str:
    found = drift.find(name) if drift is not None else None
    if found is None:
        return ""
    css = "moved" if found.drifted else "ok"
    label = _METRIC_NAMES.get(found.metric, found.metric)
    return f'<span class="dist {css}">{_e(label)} {found.value:.3f}</span>'


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
    stats: dict[str, DatasetStatistics],
    *,
    anomalies: Anomalies | None = None,
    title: str = "Statistics",
    drift: DriftReport | None = None,
) -> str:
    """The report page for one or more datasets side by side (``{"train": ..., "eval": ...}``).

    Anomalies come first, then (with ``drift``) the distance of every column between the first and
    the second dataset, then one panel per column with every dataset's numbers, histogram and top values.
    """
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
    if drift is not None:
        parts.append(_drift_panel(drift, names))
    parts.append(_slices_panel(stats))
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
            f'<section class="{css}" id="c{index}"><h2>{_e(name)}<span class="type">{_e(types[name])}</span>'
            f"{_distance_badge(drift, name)}</h2>"
            + (f'<ul class="notes">{note_list}</ul>' if note_list else "")
            + f'<div class="splits">{blocks}</div></section>'
        )
    parts.append("</body></html>")
    return "\n".join(parts)


# Public pieces for other reports (the monitor's drift report puts a training reference and a window of
# traffic side by side): the same look and the same column rendering, without copying either.


def report_css() -> str:
    """The stylesheet of the statistics report, for a page that embeds its column blocks."""
    return _CSS


def column_block_html(split: str, stats: DatasetStatistics, name: str, flagged: set[str] | None = None) -> str:
    """One dataset's block of a column panel: its numbers, histogram and top-value bars (``flagged`` values red)."""
    return _split_block(split, stats, name, set(flagged or ()))


def anomalies_html(anomalies: Anomalies) -> str:
    """The anomaly panel (green when there are none, red with errors, amber with warnings only)."""
    return _anomaly_panel(anomalies)
