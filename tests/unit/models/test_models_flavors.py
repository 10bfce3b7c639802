"""Flavors: the package records what kind of model it holds and pins that library; any object with
predict() can be packaged as a generic python_function, and LightGBM/XGBoost when they are installed."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from modelyard.errors import UsageError
from modelyard.models.package import flavor_of, load_package, save_package

USER_MODEL = '''
import numpy as np

class Nearest:
    """A user's own classifier: the class of the nearest training centroid."""

    def fit(self, X, y):
        self.classes_ = np.array(sorted(set(y)))
        self.centroids_ = np.array([X[np.asarray(y) == c].mean(axis=0) for c in self.classes_])
        return self

    def predict(self, X):
        distances = ((np.asarray(X)[:, None, :] - self.centroids_[None]) ** 2).sum(axis=2)
        return self.classes_[distances.argmin(axis=1)]
'''


@pytest.fixture
def user_module(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "user_models.py").write_text(textwrap.dedent(USER_MODEL))
    sys.path.insert(0, str(tmp_path))
    import user_models

    yield user_models
    sys.path.remove(str(tmp_path))
    sys.modules.pop("user_models", None)


def test_a_plain_python_model_is_a_python_function_package(
    tmp_path: Path, user_module, trained, make_signature, penguins_rows
) -> None:
    fitted, _ = trained
    model = user_module.Nearest().fit(fitted.apply_batch(penguins_rows), [r["species"] for r in penguins_rows])
    assert flavor_of(model) == "python_function"
    dest = tmp_path / "pkg"
    save_package(dest, estimator=model, transform=fitted, task="classification", label="species",
                 signature=make_signature())  # fmt: skip
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["flavor"] == "python_function" and manifest["classes"] == ["Adelie", "Chinstrap", "Gentoo"]
    loaded = load_package(dest)
    predictions = loaded.predict(penguins_rows[:50])
    assert np.mean([p == r["species"] for p, r in zip(predictions, penguins_rows[:50], strict=True)]) > 0.9
    with pytest.raises(UsageError, match="cannot give probabilities"):
        loaded.predict_proba(penguins_rows[:2])


def test_an_object_without_predict_is_refused(tmp_path: Path, trained, make_signature) -> None:
    fitted, _ = trained
    with pytest.raises(UsageError, match="has no predict"):
        save_package(tmp_path / "x", estimator=object(), transform=fitted, task="regression", label="species",
                     signature=make_signature())  # fmt: skip


def test_sklearn_packages_pin_scikit_learn(package_dir: Path) -> None:
    manifest = json.loads((package_dir / "manifest.json").read_text())
    assert manifest["flavor"] == "sklearn"
    assert (package_dir / "requirements.txt").read_text().startswith("numpy==")
    assert "scikit-learn==" in (package_dir / "requirements.txt").read_text()


@pytest.mark.parametrize(
    ("module", "class_path"), [("lightgbm", "LGBMClassifier"), ("xgboost", "XGBClassifier")]
)  # fmt: skip
def test_boosting_flavors_when_installed(tmp_path: Path, module: str, class_path: str, trained, make_signature,
                                         penguins_rows) -> None:  # fmt: skip
    library = pytest.importorskip(module, reason=f"the [{module}] extra is not installed")
    fitted, _ = trained
    X = fitted.apply_batch(penguins_rows)
    labels = sorted({r["species"] for r in penguins_rows})
    y = np.array([labels.index(r["species"]) for r in penguins_rows])
    model = getattr(library, class_path)(n_estimators=10, random_state=0).fit(X, y)
    dest = tmp_path / module
    save_package(dest, estimator=model, transform=fitted, task="classification", label="species",
                 signature=make_signature())  # fmt: skip
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["flavor"] == module and module in manifest["libraries"]
    assert f"{module}==" in (dest / "requirements.txt").read_text()
    assert load_package(dest).predict(penguins_rows[:5]) == model.predict(X[:5]).tolist()
