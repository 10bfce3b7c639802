"""Fixtures for transform tests: the bundled penguins data as the Parquet file a pipeline would hand over."""

from __future__ import annotations

from pathlib import Path

import pytest

COLUMNS = {
    "island": "string",
    "bill_length_mm": "float",
    "bill_depth_mm": "float",
    "flipper_length_mm": "int",
    "body_mass_g": "int",
    "sex": "string",
}


def penguins_signature(**overrides: dict) -> dict:
    """The signature a pipeline would derive from the schema: every feature nullable, no domains."""
    inputs = [{"name": name, "type": kind, "nullable": True} for name, kind in COLUMNS.items()]
    for field in inputs:
        field.update(overrides.get(field["name"], {}))
    return {"inputs": inputs, "outputs": [{"name": "species", "type": "string"}]}


def train_penguins(penguins_parquet: Path, rows: list[dict], *, seed: int = 0):
    """(fitted transform, fitted LogisticRegression) on the penguins data, the way the train step does it."""
    from modelyard.features.transform import TransformSpec, fit_transform
    from modelyard.models.trainer import build_estimator, fit_estimator

    fitted = fit_transform(penguins_parquet, TransformSpec.from_params({}, columns=COLUMNS))
    estimator = build_estimator("sklearn.linear_model.LogisticRegression", {"max_iter": 1000}, seed=seed)
    fit_estimator(estimator, fitted.apply_batch(rows), [row["species"] for row in rows])
    return fitted, estimator


@pytest.fixture(scope="session")
def trained(penguins_parquet: Path, penguins_rows: list[dict]):
    return train_penguins(penguins_parquet, penguins_rows)


@pytest.fixture(scope="session")
def package_dir(tmp_path_factory: pytest.TempPathFactory, trained) -> Path:
    from modelyard.models.package import save_package

    fitted, estimator = trained
    dest = tmp_path_factory.mktemp("package") / "penguins"
    save_package(
        dest,
        estimator=estimator,
        transform=fitted,
        task="classification",
        label="species",
        signature=penguins_signature(island={"domain": ["Biscoe", "Dream", "Torgersen"]}),
        metadata={"run_id": 7, "metrics": {"accuracy": 0.99}},
    )
    return dest


@pytest.fixture(scope="session")
def make_signature():
    return penguins_signature


@pytest.fixture(scope="session")
def train():
    return train_penguins
