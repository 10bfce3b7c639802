"""The model package: what is on disk, that it reloads anywhere, that its bytes are reproducible, and
the errors for folders that are not (or no longer) valid packages."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from modelyard.errors import NotFound, PluginNotFound, StoreError, UsageError
from modelyard.models.package import load_package, package_digest, save_package


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_package_folder_describes_itself(package_dir: Path) -> None:
    assert sorted(p.name for p in package_dir.iterdir()) == [
        "estimator.pkl", "manifest.json", "requirements.txt", "transform.json",
    ]  # fmt: skip
    manifest = json.loads((package_dir / "manifest.json").read_text())
    assert (manifest["format"], manifest["format_version"], manifest["flavor"]) == ("modelyard.model", 1, "sklearn")
    assert (manifest["task"], manifest["label"]) == ("classification", "species")
    assert manifest["classes"] == ["Adelie", "Chinstrap", "Gentoo"]
    assert manifest["estimator"]["class"].endswith("LogisticRegression")
    assert manifest["estimator"]["params"]["max_iter"] == 1000
    assert set(manifest["libraries"]) >= {"python", "sklearn", "numpy"}
    assert manifest["metadata"] == {"run_id": 7, "metrics": {"accuracy": 0.99}}
    inputs = {f["name"]: f for f in manifest["signature"]["inputs"]}
    assert inputs["island"] == {
        "name": "island", "type": "string", "nullable": True, "domain": ["Biscoe", "Dream", "Torgersen"],
    }  # fmt: skip
    assert (
        manifest["files"]["estimator.pkl"] == hashlib.sha256((package_dir / "estimator.pkl").read_bytes()).hexdigest()
    )
    assert "scikit-learn==" in (package_dir / "requirements.txt").read_text()


def test_predictions_survive_a_fresh_interpreter(package_dir: Path, penguins_rows: list[dict]) -> None:
    package = load_package(package_dir)
    here_labels = package.predict(penguins_rows)
    here_proba = package.predict_proba(penguins_rows)
    script = (
        "import json, sys\n"
        "from modelyard.models.package import load_package\n"
        "rows = json.load(sys.stdin)\n"
        f"package = load_package({str(package_dir)!r})\n"
        "print(json.dumps({'labels': package.predict(rows), 'proba': package.predict_proba(rows)}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(penguins_rows),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    there = json.loads(done.stdout)
    assert there["labels"] == here_labels
    assert there["proba"] == here_proba  # exact: JSON floats round-trip bit for bit
    accuracy = sum(p == r["species"] for p, r in zip(here_labels, penguins_rows, strict=True)) / len(penguins_rows)
    assert accuracy > 0.95
    assert set(here_proba[0]) == {"Adelie", "Chinstrap", "Gentoo"}
    assert sum(here_proba[0].values()) == pytest.approx(1.0)


def test_records_dataframe_and_arrow_give_the_same_predictions(
    package_dir: Path, penguins_parquet: Path, penguins_rows: list[dict]
) -> None:
    package = load_package(package_dir)
    table = pq.read_table(penguins_parquet)
    expected = package.predict(penguins_rows)
    assert package.predict(table) == expected
    assert package.predict(table.to_pandas()) == expected  # ints with nulls arrive as floats here
    assert package.predict(table.to_pandas().drop(columns=["species"])) == expected
    assert package.predict([]) == [] and package.predict_proba([]) == []


def test_same_state_same_bytes(tmp_path: Path, trained, train, make_signature, penguins_parquet, penguins_rows) -> None:
    fitted, estimator = trained
    common = {"transform": fitted, "task": "classification", "label": "species", "signature": make_signature()}
    save_package(tmp_path / "a", estimator=estimator, metadata={"seed": 0}, **common)
    save_package(tmp_path / "b", estimator=estimator, metadata={"seed": 0}, **common)
    assert digests(tmp_path / "a") == digests(tmp_path / "b")
    # retraining from scratch with the same seed reproduces the package digest too
    refitted, re_estimator = train(penguins_parquet, penguins_rows, seed=0)
    save_package(tmp_path / "c", estimator=re_estimator, metadata={"seed": 0}, **{**common, "transform": refitted})
    assert package_digest(tmp_path / "c") == package_digest(tmp_path / "a")
    # and anything that matters changes it
    save_package(tmp_path / "d", estimator=estimator, metadata={"seed": 1}, **common)
    assert package_digest(tmp_path / "d") != package_digest(tmp_path / "a")


def test_regression_package_predicts_floats_and_has_no_probabilities(
    tmp_path: Path, penguins_parquet: Path, penguins_rows: list[dict]
) -> None:
    from modelyard.features.transform import TransformSpec, fit_transform
    from modelyard.models.trainer import build_estimator, fit_estimator

    rows = [r for r in penguins_rows if r["body_mass_g"] is not None]
    fitted = fit_transform(penguins_parquet, TransformSpec(numeric=["flipper_length_mm"], categorical=["species"]))
    estimator = build_estimator("sklearn.linear_model.Ridge", {"alpha": 1.0}, seed=None)
    fit_estimator(estimator, fitted.apply_batch(rows), [r["body_mass_g"] for r in rows])
    signature = {"inputs": [{"name": "flipper_length_mm", "type": "int"}, {"name": "species", "type": "string"}]}
    save_package(tmp_path / "m", estimator=estimator, transform=fitted, task="regression", label="body_mass_g",
                 signature=signature)  # fmt: skip
    package = load_package(tmp_path / "m")
    predicted = package.predict([{"flipper_length_mm": 200, "species": "Gentoo"}, {"flipper_length_mm": 180}])
    assert all(type(v) is float for v in predicted) and 3000 < predicted[1] < predicted[0] < 6000
    assert package.manifest["signature"]["outputs"] == [{"name": "body_mass_g", "type": "float", "nullable": False}]
    with pytest.raises(UsageError, match="cannot give probabilities"):
        package.predict_proba([{"flipper_length_mm": 200}])


def test_save_refuses_inconsistent_packages(tmp_path: Path, trained, make_signature) -> None:
    from sklearn.linear_model import LogisticRegression

    fitted, estimator = trained
    common = {"transform": fitted, "label": "species", "task": "classification"}
    with_label = make_signature()
    with_label["inputs"].append({"name": "species", "type": "string"})
    with pytest.raises(UsageError, match="label 'species' is among the signature inputs"):
        save_package(tmp_path / "x", estimator=estimator, signature=with_label, **common)
    short = {"inputs": make_signature()["inputs"][1:]}
    with pytest.raises(UsageError, match=r"no input for column.*island"):
        save_package(tmp_path / "x", estimator=estimator, signature=short, **common)
    with pytest.raises(UsageError, match="not fitted"):
        save_package(tmp_path / "x", estimator=LogisticRegression(), signature=make_signature(), **common)
    with pytest.raises(UsageError, match="did you mean 'classification'"):
        save_package(
            tmp_path / "x", estimator=estimator, signature=make_signature(), **{**common, "task": "clasification"}
        )
    bad_type = make_signature(island={"type": "text"})
    with pytest.raises(UsageError, match="has type 'text'"):
        save_package(tmp_path / "x", estimator=estimator, signature=bad_type, **common)
    with pytest.raises(UsageError, match=r"metadata.score is nan"):
        save_package(
            tmp_path / "x", estimator=estimator, signature=make_signature(), metadata={"score": float("nan")}, **common
        )
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not empty"):
        save_package(tmp_path / "busy", estimator=estimator, signature=make_signature(), **common)
    assert not (tmp_path / "x").exists()  # nothing half-written


def test_load_explains_what_is_wrong_with_a_folder(tmp_path: Path, package_dir: Path) -> None:
    with pytest.raises(NotFound, match="no model package"):
        load_package(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match=r"not a model package .*no manifest.json"):
        load_package(tmp_path / "empty")

    def copy_with(name: str, change) -> Path:
        dest = tmp_path / name
        dest.mkdir()
        for p in package_dir.iterdir():
            (dest / p.name).write_bytes(p.read_bytes())
        change(dest)
        return dest

    def edit_manifest(**fields):
        def change(dest: Path) -> None:
            manifest = json.loads((dest / "manifest.json").read_text())
            (dest / "manifest.json").write_text(json.dumps({**manifest, **fields}))

        return change

    with pytest.raises(UsageError, match="format_version 2; this modelyard reads up to 1"):
        load_package(copy_with("future", edit_manifest(format_version=2)))
    with pytest.raises(PluginNotFound, match=r"unknown model flavor 'sklern'.*did you mean 'sklearn'"):
        load_package(copy_with("flavor", edit_manifest(flavor="sklern")))
    tampered = copy_with("tampered", lambda d: (d / "estimator.pkl").write_bytes(b"\x80\x05N."))
    with pytest.raises(StoreError, match=r"estimator.pkl .* does not match the digest"):
        load_package(tampered)
