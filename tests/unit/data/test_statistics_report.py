"""The HTML report: self-contained, every column shown per split, anomalies first, user text escaped."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from modelyard.core.anomalies import Anomalies, Anomaly
from modelyard.core.statistics import ColumnStatistics, DatasetStatistics, StringStats
from modelyard.data.readers import ingest
from modelyard.data.report import statistics_html
from modelyard.data.statistics import compute_statistics


@pytest.fixture(scope="module")
def splits(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DatasetStatistics]:
    import modelyard

    source = Path(modelyard.__file__).parent / "examples" / "penguins" / "data" / "penguins.csv"
    out = tmp_path_factory.mktemp("penguins")
    ingest(source, out)
    return {"train": compute_statistics(out / "train.parquet"), "eval": compute_statistics(out / "eval.parquet")}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.sources += [value or "" for name, value in attrs if name in ("src", "href")]


def test_every_column_and_split_is_shown_and_nothing_is_fetched(splits: dict[str, DatasetStatistics]) -> None:
    page = statistics_html(splits, title="Penguins")
    for name in splits["train"].names:
        assert f">{name}<" in page
    assert "train · " in page and "eval · " in page
    assert not re.search(r"https?://", page)
    parser = _Tags()
    parser.feed(page)
    assert "script" not in parser.tags and "link" not in parser.tags and "img" not in parser.tags
    assert all(source.startswith("#") for source in parser.sources)
    # top-value bars for species, island, sex and a histogram for the five numeric columns, in each split
    assert parser.tags.count("svg") == 2 * (3 + 5)
    assert "<title>Penguins</title>" in page


def test_anomalies_come_first_and_out_of_domain_values_are_marked(splits: dict[str, DatasetStatistics]) -> None:
    anomalies = Anomalies(
        items=(
            Anomaly(
                "value_outside_domain", "error", "island", "column 'island': 'Dream' is new", {"examples": ["Dream"]}
            ),
            Anomaly("unexpected_column", "warning", "year", "column 'year' is new", {}),
        )
    )
    page = statistics_html(splits, anomalies=anomalies)
    assert "1 error, 1 warning" in page
    assert page.index("column &#x27;island&#x27;: &#x27;Dream&#x27; is new") < page.index('id="c0"')
    assert "<title>Dream: " in page and 'class="out"' in page
    assert "No anomalies" in statistics_html(splits, anomalies=Anomalies())


def test_a_column_missing_from_one_split(splits: dict[str, DatasetStatistics]) -> None:
    other = DatasetStatistics(num_rows=1, columns=(ColumnStatistics("only_here", "int", 1, 0),))
    page = statistics_html({"train": splits["train"], "serving": other})
    assert page.count("not in this split") == len(splits["train"].names) + 1


def test_user_text_is_escaped() -> None:
    nasty = "<script>alert(1)</script>"
    stats = DatasetStatistics(
        num_rows=2,
        columns=(ColumnStatistics(nasty, "string", 2, 0, string=StringStats(1, False, ((nasty, 2),), 25, 25, 25)),),
    )
    page = statistics_html({nasty: stats}, title=nasty)
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
