"""The monitor's drift report: what a person opening it after an alert must see, from real statistics."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pytest

from modelyard.core.statistics import DatasetStatistics
from modelyard.data.drift import compare_statistics
from modelyard.data.schema_infer import infer_schema
from modelyard.data.validation import validate_statistics
from modelyard.models.reference import PREDICTION_COLUMN, ModelReference, statistics_of_columns
from modelyard.monitor.checks import WindowChecks
from modelyard.monitor.report import monitor_html
from modelyard.monitor.report_plots import common_histograms

ODD = "<b>x</b>"
WINDOWS = 6


def _inputs(rng: np.random.Generator, n: int, *, shifted: bool) -> dict[str, Any]:
    colors = ["red", "green", "blue"] + (["purple"] if shifted else [])
    return {
        "age": rng.normal(40, 10, n),
        "income": rng.normal(50_000 + (15_000 if shifted else 0), 10_000, n),
        "color": rng.choice(colors, n).tolist(),
        ODD: rng.uniform(0, 1, n),
    }


def _timeline(current: dict[str, Any], prediction: dict[str, Any]) -> list[dict[str, Any]]:
    items = []
    for i in range(WINDOWS):
        items.append(
            {
                "start": f"2024-05-01T{10 + i:02d}:00:00+00:00",
                "end": f"2024-05-01T{11 + i:02d}:00:00+00:00",
                "rows": 5000,
                "drifted": [],
                "skewed": [],
                "quality": None if i < 2 else {"accuracy": 0.9 - 0.01 * i, "f1_macro": 0.88 - 0.01 * i},
                **prediction,
            }
        )
    items[-1].update(current)
    return items


@pytest.fixture(scope="module")
def page() -> dict[str, Any]:
    """A classification model whose ``income`` moved by 1.5 sd and whose ``color`` gained a category."""
    rng = np.random.default_rng(7)
    train, live = _inputs(rng, 20_000, shifted=False), _inputs(rng, 5_000, shifted=True)
    reference_inputs = statistics_of_columns(train)
    current = statistics_of_columns(live)
    scaled = {f"num__{k}": (np.asarray(v) - 40) / 10 for k, v in (("age", train["age"]), ("income", train["age"]))}
    live_scaled = {"num__age": (live["age"] - 40) / 10, "num__income": (live["income"] - 50_000) / 10_000 + 0.2}
    features_ref, features_cur = statistics_of_columns(scaled), statistics_of_columns(live_scaled)
    predictions_ref = statistics_of_columns({PREDICTION_COLUMN: rng.choice(["Adelie", "Gentoo"], 20_000).tolist()})
    predictions_cur = statistics_of_columns({PREDICTION_COLUMN: rng.choice(["Adelie", "Gentoo", "<i>Chin</i>"], 5_000,
                                                                           p=[0.3, 0.6, 0.1]).tolist()})  # fmt: skip
    schema = infer_schema(reference_inputs)
    checks = WindowChecks(
        drift=compare_statistics(reference_inputs, current, schema=schema, mode="drift"),
        skew=compare_statistics(features_ref, features_cur, mode="skew"),
        prediction_drift=compare_statistics(predictions_ref, predictions_cur, mode="drift"),
        quality={"accuracy": 0.81, "f1_macro": 0.79, "labelled_rows": 240.0},
        anomalies=validate_statistics(current, schema),
        current=current,
        predictions=predictions_cur,
    )
    reference = ModelReference(reference_inputs, features_ref, predictions_ref, schema)
    window = {"index": WINDOWS - 1, "start": "2024-05-01T15:00:00+00:00", "end": "2024-05-01T16:00:00+00:00",
              "rows": 5000, "labelled": 240, "versions": {"1.0.0": 4500, "1.1.0": 500}}  # fmt: skip
    timeline = _timeline(
        {"drifted": checks.drifted, "prediction_shares": {"Adelie": 0.3, "Gentoo": 0.6, "<i>Chin</i>": 0.1}},
        {"prediction_shares": {"Adelie": 0.5, "Gentoo": 0.5}},
    )
    html = monitor_html("pen<guins>", "1.0.0", window, checks, reference, timeline)
    return {"html": html, "checks": checks, "timeline": timeline}


def _section(html: str, heading_text: str) -> str:
    """The <section> whose first heading starts with ``heading_text``."""
    for found in re.finditer(r"<section[^>]*>(.*?)</section>", html, re.S):
        if re.match(r"<h2>" + re.escape(heading_text), found.group(1)):
            return found.group(0)
    raise AssertionError(f"no section for {heading_text!r}")


def test_the_drifted_feature_is_flagged_first_and_named_in_the_verdict(page: dict[str, Any]) -> None:
    html, checks = page["html"], page["checks"]
    assert "income" in checks.drifted and "age" not in checks.drifted  # the data really is what the test says
    income, age = _section(html, "income"), _section(html, "age")
    assert 'class="panel column flagged"' in income and ">drifted<" in income
    assert "flagged" not in age.split(">")[0] and ">ok<" in age
    assert html.index(income) < html.index(age)
    verdict = re.search(r'<div class="verdict">(.*?)</div>', html, re.S)
    assert verdict is not None
    assert re.search(r'class="flag alert">\d+ features drifted: [^<]*income', verdict.group(1))
    assert "prediction drift: yes" in verdict.group(1) and "accuracy 0.81" in verdict.group(1)


def test_each_feature_shows_every_distance_and_both_histograms_on_one_scale(page: dict[str, Any]) -> None:
    income = _section(page["html"], "income")
    for label in ("JS", "PSI", "KS", "Wasserstein (sd)", "L-inf", "p-value", "decided by", "rule"):
        assert f"<th>{label}</th>" in income
    assert "Jensen-Shannon" in income and "moves when &gt; 0.02" in income
    histograms = re.findall(r"<svg class='hist'.*?</svg>", income, re.S)
    assert len(histograms) == 2
    assert "histogram of income in training" in histograms[0] and "in current window" in histograms[1]
    axis = [re.findall(r"<text[^>]*>([^<]*)</text>", svg) for svg in histograms]
    assert axis[0] == axis[1]  # the same x axis, so the shift shows as a shift


def test_a_new_category_is_red_in_the_current_bars_and_reported_as_an_anomaly(page: dict[str, Any]) -> None:
    html = page["html"]
    color = _section(html, "color")
    assert re.search(r'<text x="0" y="\d+">purple</text><rect[^>]*class="out"', color)
    anomalies = _section(html, "Anomalies")
    assert "purple" in anomalies and "color" in anomalies


def test_every_trend_has_one_mark_per_window_and_marks_the_current_one(page: dict[str, Any]) -> None:
    html = page["html"]
    over_time = _section(html, "Over time")
    charts = re.findall(r"<svg class=\"trend\".*?</svg>", over_time, re.S)
    assert len(charts) == 3  # predicted classes, quality, drifted counts
    for chart in charts:
        assert len(re.findall(r'<g class="win( current)?">', chart)) == WINDOWS
        assert chart.count('<g class="win current">') == 1
        assert chart.count('class="now"') == 1
    drifted_bars = re.findall(r'<g class="win( current)?">.*?fill="(#[0-9a-f]+)"', charts[2], re.S)
    assert [fill for _, fill in drifted_bars] == ["#9aa5b5"] * (WINDOWS - 1) + ["#d33"]


def test_the_skew_table_lists_only_skewed_features_and_counts_the_rest(page: dict[str, Any]) -> None:
    skew = _section(page["html"], "Skew after the transform")
    assert page["checks"].skewed == ["num__income"]
    assert "num__income" in skew and "num__age" not in skew
    assert "1 other transformed feature within their threshold" in skew


def test_the_page_is_self_contained_and_escapes_every_name(page: dict[str, Any]) -> None:
    html = page["html"]
    assert not re.search(r"https?://|//[a-z]", html)

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[str] = []
            self.links: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append(tag)
            self.links += [value or "" for name, value in attrs if name in ("src", "href")]

    parser = Tags()
    parser.feed(html)
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(parser.tags)
    assert all(link.startswith("#") for link in parser.links)
    assert ODD not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert "<i>Chin</i>" not in html and "&lt;i&gt;Chin&lt;/i&gt;" in html
    assert "pen&lt;guins&gt;" in html


def test_a_regression_model_gets_a_mean_line_and_error_lines() -> None:
    rng = np.random.default_rng(3)
    reference = statistics_of_columns({"x": rng.normal(0, 1, 3000)})
    current = statistics_of_columns({"x": rng.normal(0, 1, 3000)})
    predictions_ref = statistics_of_columns({PREDICTION_COLUMN: rng.normal(10, 2, 3000)})
    predictions_cur = statistics_of_columns({PREDICTION_COLUMN: rng.normal(10, 2, 3000)})
    checks = WindowChecks(
        drift=compare_statistics(reference, current),
        skew=None,
        prediction_drift=compare_statistics(predictions_ref, predictions_cur),
        quality=None,
        anomalies=validate_statistics(current, infer_schema(reference)),
        current=current,
        predictions=predictions_cur,
    )
    timeline = [
        {"start": f"2024-01-0{d}T00:00:00", "end": f"2024-01-0{d + 1}T00:00:00", "rows": 3000, "drifted": [],
         "skewed": [], "prediction_mean": 10.0 + d / 10, "quality": {"rmse": 2.0, "mae": 1.6} if d > 1 else None}
        for d in (1, 2, 3)
    ]  # fmt: skip
    window = {"index": 2, "start": "2024-01-03T00:00:00", "end": "2024-01-04T00:00:00", "rows": 3000,
              "labelled": 0, "versions": {"2.0.0": 3000}}  # fmt: skip
    html = monitor_html("houses", "2.0.0", window, checks, ModelReference(reference, None, predictions_ref, None),
                        timeline)  # fmt: skip
    assert 'aria-label="Mean prediction per window"' in html
    quality = re.search(r'aria-label="Quality per window \(labelled rows\)".*?</svg>', html, re.S)
    assert quality is not None and quality.group(0).count("<circle") == 2 * 2  # rmse and mae on two windows
    assert 'class="flag calm">no feature drifted' in html and "skew not checked" in html
    assert "no quality figures" in html and "No anomalies" in html
    prediction = _section(html, "Prediction drift: the model's answers stable")
    assert len(re.findall(r"<svg class='hist'", prediction)) == 2


def _one_column(values: np.ndarray) -> DatasetStatistics:
    return statistics_of_columns({"v": values})


def test_common_histograms_put_a_shifted_sample_on_the_same_edges_keeping_its_rows() -> None:
    rng = np.random.default_rng(11)
    reference, current = _one_column(rng.normal(0, 1, 4000)), _one_column(rng.normal(3, 1, 4000))
    ref, cur = (s.column("v").numeric for s in common_histograms(reference, current, "v"))
    assert ref is not None and cur is not None
    assert ref.histogram_edges == cur.histogram_edges
    assert abs(sum(ref.histogram_counts) - 4000) <= len(ref.histogram_counts)
    middle = len(ref.histogram_counts) // 2
    assert sum(ref.histogram_counts[:middle]) > 3 * sum(ref.histogram_counts[middle:])
    assert sum(cur.histogram_counts[middle:]) > 3 * sum(cur.histogram_counts[:middle])
    assert ref.percentiles == reference.column("v").numeric.percentiles  # only the picture changes
