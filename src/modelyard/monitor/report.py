"""The monitor's HTML drift report for one window: one self-contained page a person opens after an alert.

Why this order: the first thing asked is "what is wrong?" (the verdict, alerts in red), then "since when?"
(the trends over every judged window, this one highlighted), then "how badly, and where?" (each feature's
distances with the training and current histograms side by side, drifted features first), and last the
details (skew after the transform, the model's own answers, contract anomalies).

Everything is inline (the statistics report's CSS and column blocks, SVG drawings) with no script and no
link out, so the page opens offline and looks the same when an incident is reviewed months later. Every
piece of user text (column names, class labels, model names) is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any

from modelyard.core.anomalies import ColumnDistance, DriftReport
from modelyard.core.statistics import DatasetStatistics
from modelyard.data.report import anomalies_html, column_block_html, report_css
from modelyard.models.reference import PREDICTION_COLUMN, ModelReference
from modelyard.monitor.checks import MIN_LABELLED, WindowChecks
from modelyard.monitor.report_plots import common_histograms, drifted_counts, lines, share_bars

#: The deciding measures, in words.
MEASURE_NAMES = {
    "linf": "L-infinity",
    "jensen_shannon": "Jensen-Shannon",
    "ks_test": "KS test",
    "ks": "KS distance",
    "new_categories": "new categories",
    "chi2_test": "chi-square test",
}
#: Every measure a column may carry, in the order of the distance table.
MEASURES = (
    ("jensen_shannon", "JS"),
    ("psi", "PSI"),
    ("ks", "KS"),
    ("wasserstein", "Wasserstein (sd)"),
    ("linf", "L-inf"),
    ("p_value", "p-value"),
)
_QUALITY_TRENDS = ("accuracy", "f1_macro", "rmse", "mae")
_TESTS = ("ks_test", "chi2_test")
_MOVED, _FLAG = ' class="moved"', ' class="flag"'

_CSS = """
.verdict{display:flex;flex-wrap:wrap;gap:8px;margin:0 0 16px}
.flag{border-radius:6px;padding:5px 11px;font-weight:600;border:1px solid}
.flag.alert{background:#fde2e2;color:#a11;border-color:#e8a0a0}.flag.calm{background:#e3f3e8;color:#1d6b36;
border-color:#a8d5b5}.flag.info{background:#eef1f6;color:#36415a;border-color:#cfd6e2}
.trends{display:flex;flex-wrap:wrap;gap:18px}figure.trend{margin:0}figure.trend figcaption{font-weight:600;
font-size:13px;color:#36415a}svg.trend text{font-size:10px;fill:#556}svg.trend text.nowlabel{font-weight:700;
fill:#1d2330}svg.trend rect.now{fill:#fff3c4}svg.trend line.grid{stroke:#eceef2}svg.trend line.axis{stroke:#99a}
.legend{font-size:12px;margin:2px 0 4px 46px}.legend span{margin-right:12px;white-space:nowrap}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
table.dist{margin:0 0 10px}table.dist td,table.dist th{padding:2px 12px 2px 0}
.note{color:#556;margin:6px 0 0}
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _measure(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


def _current_index(window: dict[str, Any], timeline: Sequence[dict[str, Any]]) -> int:
    """The timeline entry of this window (by its start), else the newest."""
    for index, item in enumerate(timeline):
        if str(item.get("start")) == str(window.get("start")):
            return index
    return len(timeline) - 1


def _when(text: object) -> str:
    """An ISO time as a person reads it: ``2024-05-01 15:00:00 UTC`` (other text is shown as given)."""
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return str(text)
    zone = " UTC" if moment.utcoffset() is not None and not moment.utcoffset() else moment.strftime(" %z")
    return moment.strftime("%Y-%m-%d %H:%M:%S") + zone.rstrip()


def _header(model: str, version: str, window: dict[str, Any]) -> str:
    served = window.get("versions") or {}
    mix = " · served by " + ", ".join(f"<b>{_e(v)}</b> {int(n):,}" for v, n in served.items()) if served else ""
    start, end = _when(window.get("start", "?")), _when(window.get("end", "?"))
    return (
        f"<h1>Drift report · {_e(model)} {_e(version)}</h1>"
        f'<p class="summary">window <b>#{_e(window.get("index", "?"))}</b> · <b>{_e(start)}</b>'
        f" → <b>{_e(end)}</b> · <b>{int(window.get('rows', 0)):,}</b> rows · "
        f"<b>{int(window.get('labelled', 0)):,}</b> labelled{mix}</p>"
    )


def _flag(css: str, text: str) -> str:
    return f'<span class="flag {css}">{text}</span>'


def _named(noun: str, verb: str, names: Sequence[str]) -> str:
    shown = ", ".join(_e(name) for name in names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    return f"{len(names)} {noun}{'s' * (len(names) != 1)} {verb}: {shown}"


def _verdict(checks: WindowChecks) -> str:
    drifted, skewed = checks.drifted, checks.skewed
    flags = [
        _flag("alert", _named("feature", "drifted", drifted)) if drifted else _flag("calm", "no feature drifted"),
    ]
    if checks.skew is None:
        flags.append(_flag("info", "skew not checked"))
    else:
        flags.append(_flag("alert", _named("feature", "skewed", skewed)) if skewed else _flag("calm", "no skew"))
    if checks.prediction_drift is None:
        flags.append(_flag("info", "prediction drift not checked"))
    else:
        moved = checks.prediction_drifted
        flags.append(_flag("alert" if moved else "calm", f"prediction drift: {'yes' if moved else 'no'}"))
    quality = checks.quality
    if quality:
        labelled = quality.get("labelled_rows")
        figures = " · ".join(f"{_e(k)} {v:.4g}" for k, v in quality.items() if k != "labelled_rows")
        flags.append(_flag("info", figures + (f" on {int(labelled):,} labelled rows" if labelled else "")))
    else:
        flags.append(_flag("info", f"no quality figures (fewer than {MIN_LABELLED} labelled rows)"))
    errors = len(checks.anomalies.errors)
    if len(checks.anomalies):
        flags.append(
            _flag(
                "alert" if errors else "info",
                f"{len(checks.anomalies)} contract anomal{'ies' if len(checks.anomalies) != 1 else 'y'}",
            )
        )
    return f'<div class="verdict">{"".join(flags)}</div>'


def _over_time(timeline: Sequence[dict[str, Any]], current: int) -> str:
    charts = []
    if any(item.get("prediction_shares") for item in timeline):
        charts.append(share_bars(timeline, current))
    elif any(item.get("prediction_mean") is not None for item in timeline):
        means = [item.get("prediction_mean") for item in timeline]
        charts.append(lines(timeline, current, {"mean prediction": means}, "Mean prediction per window"))
    qualities = [item.get("quality") or {} for item in timeline]
    names = [name for name in _QUALITY_TRENDS if any(name in found for found in qualities)]
    if names:
        series = {name: [found.get(name) for found in qualities] for name in names}
        unit = all(name in ("accuracy", "f1_macro") for name in names)
        charts.append(lines(timeline, current, series, "Quality per window (labelled rows)", unit_interval=unit))
    charts.append(drifted_counts(timeline, current))
    return (
        f'<section class="panel"><h2>Over time: {len(timeline)} window{"s" * (len(timeline) != 1)}</h2>'
        f'<div class="trends">{"".join(charts)}</div>'
        '<p class="note">The highlighted band is this window; hover a window for its figures.</p></section>'
    )


def _rule(found: ColumnDistance) -> str:
    if found.metric in _TESTS:
        return f"moves when p &lt; {found.threshold:.3g}"
    return f"moves when &gt; {found.threshold:g}"


def _distance_table(rows: Sequence[ColumnDistance], *, with_name: bool = False) -> str:
    head = "<th>feature</th>" if with_name else ""
    head += "<th>decided by</th><th>value</th><th>rule</th>" + "".join(f"<th>{label}</th>" for _, label in MEASURES)
    body = []
    for found in rows:
        cells = f"<td>{_e(found.column)}</td>" if with_name else ""
        cells += (
            f"<td>{_e(MEASURE_NAMES.get(found.metric, found.metric))}</td><td class='num'>{found.value:.4g}</td>"
            f"<td>{_rule(found)}</td>"
            + "".join(f"<td class='num'>{_measure(found.distances.get(key))}</td>" for key, _ in MEASURES)
        )
        body.append(f"<tr{_MOVED if found.drifted else ''}>{cells}</tr>")
    return f'<table class="drift dist"><tr>{head}</tr>{"".join(body)}</table>'


def _new_values(reference: DatasetStatistics, current: DatasetStatistics, name: str) -> set[str]:
    """Current top values the training data never had (only knowable when the reference lists every value)."""
    ref, cur = reference.find_column(name), current.find_column(name)
    if ref is None or cur is None or ref.string is None or cur.string is None or not ref.string.is_complete:
        return set()
    known = {value for value, _ in ref.string.top}
    return {value for value, _ in cur.string.top if value not in known}


def _side_by_side(reference: DatasetStatistics | None, current: DatasetStatistics, name: str) -> str:
    if reference is None:
        return f'<div class="splits">{column_block_html("current window", current, name)}</div>'
    new = _new_values(reference, current, name)
    reference, current = common_histograms(reference, current, name)
    return (
        f'<div class="splits">{column_block_html("training", reference, name)}'
        f"{column_block_html('current window', current, name, new)}</div>"
    )


def _feature_panel(index: int, found: ColumnDistance, reference: DatasetStatistics | None,
                   current: DatasetStatistics) -> str:  # fmt: skip
    css = "panel column flagged" if found.drifted else "panel column"
    badge = '<span class="dist moved">drifted</span>' if found.drifted else '<span class="dist ok">ok</span>'
    return (
        f'<section class="{css}" id="f{index}"><h2>{_e(found.column)}<span class="type">{_e(found.kind)}</span>'
        f"{badge}</h2>{_distance_table([found])}{_side_by_side(reference, current, found.column)}</section>"
    )


def _features(checks: WindowChecks, reference: ModelReference) -> str:
    ordered = sorted(checks.drift.columns, key=lambda c: (not c.drifted, c.column))
    links = "".join(f'<a href="#f{i}"{_FLAG if c.drifted else ""}>{_e(c.column)}</a>' for i, c in enumerate(ordered))
    parts = [f"<h2>Features: {len(checks.drift.drifted)} of {len(checks.drift.columns)} drifted</h2><nav>{links}</nav>"]
    for name, reason in checks.drift.not_compared:
        parts.append(
            f'<section class="panel column flagged"><h2>{_e(name)}<span class="dist moved">not compared</span></h2>'
            f"<p>{_e(reason)}</p>{_side_by_side(reference.inputs, checks.current, name)}</section>"
        )
    parts += [_feature_panel(i, found, reference.inputs, checks.current) for i, found in enumerate(ordered)]
    return "".join(parts)


def _skew(skew: DriftReport | None) -> str:
    if skew is None:
        return (
            '<section class="panel"><h2>Skew after the transform: not checked</h2><p class="note">The model package '
            "carries no statistics of its transformed training features, or the window is empty.</p></section>"
        )
    flagged = skew.drifted
    rest = len(skew.columns) - len(flagged)
    table = _distance_table(flagged, with_name=True) if flagged else ""
    return (
        f'<section class="panel"><h2>Skew after the transform: {len(flagged)} of {len(skew.columns)} features '
        f"skewed</h2>{table}<p class='note'>{rest} other transformed feature{'s' * (rest != 1)} within their "
        "threshold.</p></section>"
    )


def _predictions(checks: WindowChecks, reference: ModelReference) -> str:
    found = checks.prediction_drift.find(PREDICTION_COLUMN) if checks.prediction_drift is not None else None
    if found is None or checks.predictions is None:
        return (
            '<section class="panel"><h2>Prediction drift: not checked</h2><p class="note">No training predictions '
            "in the model package, or no predictions in this window.</p></section>"
        )
    css = "panel column flagged" if found.drifted else "panel column"
    verdict = "moved" if found.drifted else "stable"
    return (
        f'<section class="{css}"><h2>Prediction drift: the model\'s answers {verdict}</h2>{_distance_table([found])}'
        f"{_side_by_side(reference.predictions, checks.predictions, PREDICTION_COLUMN)}</section>"
    )


def monitor_html(
    model: str,
    version: str,
    window: dict[str, Any],
    checks: WindowChecks,
    reference: ModelReference,
    timeline: list[dict[str, Any]],
) -> str:
    """The drift report page of one judged window.

    ``window``: ``{"index", "start", "end", "rows", "labelled", "versions": {version: rows}}``; ``timeline``:
    one entry per judged window so far, oldest first, this one included (``start``, ``end``, ``rows``,
    ``drifted``, ``skewed``, ``prediction_shares`` or ``prediction_mean``, ``quality``).
    """
    current = _current_index(window, timeline)
    title = f"Drift report · {model} {version} · window {window.get('index', '?')}"
    parts = [
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<style>{report_css()}{_CSS}</style></head><body>",
        _header(model, version, window),
        _verdict(checks),
        _over_time(timeline, current),
        _features(checks, reference),
        _skew(checks.skew),
        _predictions(checks, reference),
        anomalies_html(checks.anomalies),
        "</body></html>",
    ]
    return "\n".join(parts)
