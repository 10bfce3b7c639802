"""Fixtures for transform tests: the bundled penguins data as the Parquet file a pipeline would hand over."""

from __future__ import annotations

from pathlib import Path

import pytest

PENGUINS_CSV = Path(__file__).resolve().parents[3] / "src/modelyard/examples/penguins/data/penguins.csv"


def write_penguins_parquet(dest: Path) -> Path:
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(f"COPY (SELECT * FROM read_csv('{PENGUINS_CSV}', nullstr='NA')) TO '{dest}' (FORMAT parquet)")
    finally:
        con.close()
    return dest


@pytest.fixture(scope="session")
def penguins_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_penguins_parquet(tmp_path_factory.mktemp("penguins") / "penguins.parquet")


@pytest.fixture(scope="session")
def penguins_rows(penguins_parquet: Path) -> list[dict]:
    import pyarrow.parquet as pq

    return pq.read_table(penguins_parquet).to_pylist()
