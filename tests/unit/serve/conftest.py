"""A small penguins model package and a running app over it (Starlette's TestClient: real ASGI, no socket)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
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
SIGNATURE = {
    "inputs": [
        {"name": "island", "type": "string", "nullable": False, "domain": ["Biscoe", "Dream", "Torgersen"]},
        {"name": "bill_length_mm", "type": "float", "nullable": True},
        {"name": "bill_depth_mm", "type": "float", "nullable": True},
        {"name": "flipper_length_mm", "type": "int", "nullable": True},
        {"name": "body_mass_g", "type": "int", "nullable": True},
        {"name": "sex", "type": "string", "nullable": True},
    ]
}


@pytest.fixture(scope="session")
def serve_package(tmp_path_factory: pytest.TempPathFactory, penguins_parquet: Path, penguins_rows: list[dict]) -> Path:
    from modelyard.features.transform import TransformSpec, fit_transform
    from modelyard.models.package import save_package
    from modelyard.models.trainer import build_estimator, fit_estimator

    fitted = fit_transform(penguins_parquet, TransformSpec.from_params({}, columns=COLUMNS))
    estimator = build_estimator("sklearn.linear_model.LogisticRegression", {"max_iter": 1000}, seed=0)
    fit_estimator(estimator, fitted.apply_batch(penguins_rows), [row["species"] for row in penguins_rows])
    dest = tmp_path_factory.mktemp("serve") / "penguins"
    save_package(dest, estimator=estimator, transform=fitted, task="classification", label="species",
                 signature=SIGNATURE)  # fmt: skip
    return dest


@pytest.fixture(scope="session")
def feature_rows(penguins_rows: list[dict]) -> list[dict]:
    """Rows a client would send: the signature's fields only, the label removed."""
    return [{name: row[name] for name in COLUMNS} for row in penguins_rows[::7]]


def wait_ready(client, path: str = "/v2/health/ready", timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while client.get(path).status_code != 200:
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not turn ready within {timeout} s")
        time.sleep(0.02)


@pytest.fixture(scope="module")
def make_client(serve_package: Path) -> Iterator[Callable[..., object]]:
    """A factory of started TestClients over given sources and options; all closed at module end."""
    from starlette.testclient import TestClient

    from modelyard.serve.app import ServeOptions, build_app
    from modelyard.serve.served import ModelRepository, ModelSource

    opened = []

    def make(sources: list | None = None, *, wait: str | None = "/v2/health/ready", **options: object) -> TestClient:
        if sources is None:
            sources = [ModelSource(name="penguins", version="1.0.0", path=str(serve_package), uri="test")]
        client = TestClient(build_app(ModelRepository(sources), ServeOptions(**options)))
        client.__enter__()
        opened.append(client)
        if wait:
            wait_ready(client, wait)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture(scope="module")
def client(make_client):
    return make_client()
