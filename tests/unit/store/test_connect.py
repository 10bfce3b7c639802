"""Database URLs: normalisation to psycopg 3, password masking, and refusals that say what to use."""

from __future__ import annotations

import pytest

from modelyard.errors import ConfigError
from modelyard.store.metadata.connect import mask_url, parse_url


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://bob@db:5432/meta",
        "postgres://bob@db:5432/meta",
        "postgresql+psycopg2://bob@db:5432/meta",
        "postgresql+psycopg://bob@db:5432/meta",
    ],
)
def test_every_postgresql_spelling_uses_psycopg_3(url: str) -> None:
    parsed = parse_url(url)
    assert parsed.drivername == "postgresql+psycopg"
    assert (parsed.username, parsed.host, parsed.port, parsed.database) == ("bob", "db", 5432, "meta")


def test_passwords_are_masked_in_parsed_and_unparseable_urls() -> None:
    assert mask_url(parse_url("postgresql://bob:hunter2@db/meta")) == "postgresql+psycopg://bob:***@db/meta"
    assert mask_url("weird://bob:hunter2@db/x") == "weird://bob:***@db/x"
    assert mask_url("sqlite:////tmp/m.db") == "sqlite:////tmp/m.db"


def test_refusals_name_the_url_and_what_to_use() -> None:
    with pytest.raises(ConfigError, match="mysql") as info:
        parse_url("mysql://root:pw@localhost/db")
    assert "pw" not in str(info.value) and "sqlite, postgresql" in str(info.value)
    with pytest.raises(ConfigError, match="in-memory") as info:
        parse_url("sqlite:///:memory:")
    assert "sqlite:///" in str(info.value)
    with pytest.raises(ConfigError, match="not a database URL"):
        parse_url("metadata.db")
