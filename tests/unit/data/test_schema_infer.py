"""Schema inference: a contract that fits the data it came from and the next batch like it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from modelyard.data.schema_infer import infer_schema
from modelyard.data.statistics import compute_statistics
from modelyard.errors import UsageError


def test_penguins_schema(penguins_csv: Path) -> None:
    schema = infer_schema(compute_statistics(penguins_csv), label="species")
    species = schema.column("species")
    assert (species.type, species.nullable, species.min_presence) == ("string", False, 1.0)
    assert species.domain == ("Adelie", "Chinstrap", "Gentoo")
    sex = schema.column("sex")  # 11 of 344 missing
    assert sex.nullable and sex.domain == ("female", "male")
    assert 0.85 <= sex.min_presence < 333 / 344
    assert schema.column("body_mass_g").type == "int"
    assert schema.column("bill_length_mm").domain is None
    assert schema.column("year").nullable is False
    assert [c.name for c in schema.columns_for("serving")] == [n for n in schema.names if n != "species"]
    assert len(schema.columns_for("training")) == 8


def test_no_environments_without_a_label(penguins_csv: Path) -> None:
    assert infer_schema(compute_statistics(penguins_csv)).environments == {}


def test_an_unknown_label_suggests_a_column(penguins_csv: Path) -> None:
    with pytest.raises(UsageError, match="did you mean 'species'"):
        infer_schema(compute_statistics(penguins_csv), label="specis")


def test_domains_only_for_few_repeated_values(write_parquet: Callable[[str, str], Path]) -> None:
    query = "SELECT 'id' || i AS code, ['x', 'y', 'z'][i % 3 + 1] AS letter FROM range(100) t(i)"
    stats = compute_statistics(write_parquet("t.parquet", query))
    assert infer_schema(stats).column("code").domain is None  # every value different: an identifier
    assert infer_schema(stats).column("letter").domain == ("x", "y", "z")
    assert infer_schema(stats, max_domain_size=2).column("letter").domain is None
