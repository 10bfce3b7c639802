"""Shared fixtures for the data layer: the bundled penguins file and a way to write small Parquet tables."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import modelyard

PENGUINS = Path(modelyard.__file__).parent / "examples" / "penguins" / "data" / "penguins.csv"


@pytest.fixture
def penguins_csv() -> Path:
    return PENGUINS


@pytest.fixture
def write_parquet(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write the result of a DuckDB query to ``tmp_path/name`` and return the path."""
    import duckdb

    def write(name: str, query: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect()
        try:
            con.execute(f"COPY ({query}) TO '{path}' (FORMAT parquet)")
        finally:
            con.close()
        return path

    return write
