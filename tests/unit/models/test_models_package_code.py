"""A model package whose transform calls user functions: the source travels in ``code/``, is imported from there
(under a private name) in any process and folder, and a tampered or failing function gives a modelyard error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from modelyard.errors import DataError, StoreError
from modelyard.models.package import load_package, save_package

FEATURES = """
import numpy as np


def mass_per_flipper(body_mass_g, flipper_length_mm):
    if body_mass_g is None or flipper_length_mm is None:
        return None
    if body_mass_g < 0:
        raise ValueError("negative mass")
    return body_mass_g / flipper_length_mm * FACTOR


def bill_shape(columns):
    return np.log(columns["bill_length_mm"]) - np.log(columns["bill_depth_mm"])


FACTOR = {factor}
"""
FUNCTIONS = [
    {"function": "features.py:mass_per_flipper", "columns": ["body_mass_g", "flipper_length_mm"], "output": "mpf"},
    {"function": "features.py:bill_shape", "mode": "batch", "columns": ["bill_length_mm", "bill_depth_mm"],
     "output": "bill_shape"},
]  # fmt: skip


def build(folder: Path, penguins_parquet: Path, rows: list[dict], make_signature, factor: float = 1.0) -> Path:
    """Fit a transform with two functions from ``folder/features.py``, train, and save ``folder/package``."""
    from modelyard.features.transform import TransformSpec, fit_transform
    from modelyard.models.trainer import build_estimator, fit_estimator

    folder.mkdir(parents=True)
    (folder / "features.py").write_text(FEATURES.format(factor=factor))
    spec = TransformSpec(numeric=["bill_length_mm"], categorical=["island"], functions=FUNCTIONS)
    fitted = fit_transform(penguins_parquet, spec, base_dir=folder)
    estimator = build_estimator("sklearn.linear_model.LogisticRegression", {"max_iter": 1000}, seed=0)
    fit_estimator(estimator, fitted.apply_batch(rows), [row["species"] for row in rows])
    dest = folder / "package"
    save_package(dest, estimator=estimator, transform=fitted, task="classification", label="species",
                 signature=make_signature())  # fmt: skip
    return dest


@pytest.fixture(scope="module")
def code_package(tmp_path_factory, penguins_parquet: Path, penguins_rows: list[dict], make_signature) -> Path:
    return build(tmp_path_factory.mktemp("code") / "project", penguins_parquet, penguins_rows, make_signature)


def records(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in ("species", "year")} for row in rows]


def test_the_source_is_in_the_package_with_its_digest(code_package: Path) -> None:
    manifest = json.loads((code_package / "manifest.json").read_text())
    transform = json.loads((code_package / "transform.json").read_text())
    digest = transform["functions"][0]["digest"]
    assert (code_package / "code" / "features.py").read_text() == (code_package.parent / "features.py").read_text()
    assert manifest["files"]["code/features.py"] == digest
    assert [f["source"] for f in transform["functions"]] == ["features.py", "features.py"]
    assert manifest["features"][:3] == ["bill_length_mm", "mpf", "bill_shape"]


def test_a_fresh_process_in_another_folder_predicts_the_same(
    code_package: Path, penguins_rows: list[dict], tmp_path: Path
) -> None:
    rows = records(penguins_rows)
    here = load_package(code_package)
    expected = {"labels": here.predict(rows), "proba": here.predict_proba(rows[:5]), "one": here.predict(rows[:1])}
    moved = tmp_path / "elsewhere" / "model"
    moved.parent.mkdir()
    code_package.rename(moved)  # the project's features.py is now nowhere near the package
    try:
        script = (
            "import json, sys, modelyard\n"
            "model = modelyard.load_model(sys.argv[1])\n"
            "rows = json.load(sys.stdin)\n"
            "print(json.dumps({'labels': model.predict(rows), 'proba': model.predict_proba(rows[:5]),\n"
            "                  'one': model.predict(rows[:1]), 'modules': sorted(m for m in sys.modules\n"
            "                  if m.startswith('modelyard_code_') or m == 'features')}))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", script, str(moved)], input=json.dumps(rows), cwd=tmp_path,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        moved.rename(code_package)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert {k: got[k] for k in expected} == expected
    assert len(got["modules"]) == 1 and got["modules"][0].startswith("modelyard_code_")


def test_two_packages_with_their_own_features_py_live_in_one_process(
    tmp_path: Path, penguins_parquet: Path, penguins_rows: list[dict], make_signature
) -> None:
    one = load_package(build(tmp_path / "one", penguins_parquet, penguins_rows, make_signature, factor=1.0))
    two = load_package(build(tmp_path / "two", penguins_parquet, penguins_rows, make_signature, factor=3.0))
    row = records(penguins_rows)[0]
    first, second = one.transform.functions[0].fn, two.transform.functions[0].fn
    assert first is not None and second is not None and first.__module__ != second.__module__
    assert second(body_mass_g=3750.0, flipper_length_mm=181.0) == 3 * first(body_mass_g=3750.0, flipper_length_mm=181.0)
    # the raw value differs threefold, but each package scaled its own feature: both standardise the same
    assert one.transform.apply_record(row)[1] == pytest.approx(two.transform.apply_record(row)[1])


def test_a_tampered_code_file_is_refused(
    tmp_path: Path, penguins_parquet: Path, penguins_rows: list[dict], make_signature
) -> None:
    package = build(tmp_path / "p", penguins_parquet, penguins_rows, make_signature)
    source = package / "code" / "features.py"
    source.write_text(source.read_text().replace("FACTOR = 1.0", "FACTOR = 2.0"))
    with pytest.raises(StoreError, match=r"code/features\.py in .* does not match the digest in its manifest"):
        load_package(package)


def test_a_function_raising_at_predict_time_names_itself_and_the_record(
    code_package: Path, penguins_rows: list[dict]
) -> None:
    model = load_package(code_package)
    rows = records(penguins_rows[:3])
    rows[2] = {**rows[2], "body_mass_g": -5}
    with pytest.raises(DataError) as caught:
        model.predict(rows)
    assert str(caught.value).startswith("row 2: function features.py:mass_per_flipper raised ValueError: negative mass")
    with pytest.raises(DataError, match="mass_per_flipper raised ValueError: negative mass"):
        model.predict(rows[2:])
