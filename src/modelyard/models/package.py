"""The model package: one self-describing folder holding everything needed to predict.

Layout (``format_version`` 1)::

    manifest.json     format, flavor, task, label, signature, classes, library versions, metadata,
                      and the sha256 of every other file
    transform.json    the fitted transform (see modelyard.features.transform)
    estimator.pkl     the fitted estimator, pickled
    requirements.txt  pinned versions of the libraries the estimator needs
    code/             the source files of user function transforms (imported from here on load)

Why this shape: the transform travels with the estimator so serving applies exactly the arithmetic
training used; the signature lets a server reject a bad request with words instead of a traceback; the
library versions say why an old package may not unpickle. Files are written deterministically (sorted
JSON keys, no timestamps) so the same estimator state gives the same bytes and the package digest is
reproducible, which is what lets a pipeline cache a training step and a registry deduplicate versions.

Loading unpickles ``estimator.pkl``, which can run code: load only packages you trust (your own store).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import pickle
import platform
import shutil
import sys
import warnings
from collections.abc import Mapping
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from modelyard.errors import (
    DataError,
    Location,
    NotFound,
    PluginNotFound,
    StoreError,
    UsageError,
    did_you_mean,
)
from modelyard.features.code import CODE_FOLDER, bind_code, code_files
from modelyard.features.transform import FittedTransform
from modelyard.models.signature import check_records, compile_signature, normalize_signature

FORMAT = "modelyard.model"
FORMAT_VERSION = 1
FLAVORS = ("sklearn", "lightgbm", "xgboost", "python_function")
# flavor -> the distribution whose version the manifest pins (python_function pins nothing extra)
_FLAVOR_DISTRIBUTIONS = {"sklearn": "scikit-learn", "lightgbm": "lightgbm", "xgboost": "xgboost"}
TASKS = ("classification", "regression")
MANIFEST_FILE = "manifest.json"
TRANSFORM_FILE = "transform.json"
ESTIMATOR_FILE = "estimator.pkl"
REQUIREMENTS_FILE = "requirements.txt"
_PACKAGE_FILES = (MANIFEST_FILE, TRANSFORM_FILE, ESTIMATOR_FILE, REQUIREMENTS_FILE, CODE_FOLDER)
_PICKLE_PROTOCOL = 5


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _plain(value: Any, path: str) -> Any:
    """``value`` as JSON data; NumPy scalars and paths are converted, anything else is a UsageError."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UsageError(f"{path} is {value}, which JSON cannot hold", hint="store None or a string")
        return value
    if isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise UsageError(f"{path} has a non-string key {key!r}; JSON keys are strings")
        return {key: _plain(item, f"{path}.{key}") for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item, f"{path}[{i}]") for i, item in enumerate(value)]
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return _plain(value.item(), path)
    if isinstance(value, Path):
        return str(value)
    raise UsageError(f"{path} is a {type(value).__name__}, which a manifest cannot hold as JSON")


def _as_list(values: Any) -> list[Any]:
    """Plain Python values from an array or a list (estimators outside scikit-learn may return either)."""
    return values.tolist() if hasattr(values, "tolist") else list(values)


def _param_value(value: Any) -> Any:
    """Estimator parameters for the manifest: JSON values as they are, other objects by type name only
    (a ``repr`` may contain a memory address, which would make the bytes differ run to run)."""
    try:
        return _plain(value, "param")
    except UsageError:
        return f"<{type(value).__module__}.{type(value).__qualname__}>"


def _version(distribution: str) -> str:
    try:
        return importlib_metadata.version(distribution)
    except importlib_metadata.PackageNotFoundError:
        return "unknown"


def _libraries(flavor: str = "sklearn") -> dict[str, str]:
    out = {
        "python": platform.python_version(),
        "sklearn": _version("scikit-learn"),
        "numpy": _version("numpy"),
        "modelyard": _version("modelyard"),
    }
    if flavor in ("lightgbm", "xgboost"):
        out[flavor] = _version(flavor)
    return out


def flavor_of(estimator: Any) -> str:
    """``sklearn``, ``lightgbm`` or ``xgboost`` by the estimator's home package; ``python_function`` for
    any other object with ``predict`` (a user's own model class)."""
    root = type(estimator).__module__.split(".")[0]
    if root in ("lightgbm", "xgboost"):
        return root
    if root == "sklearn":
        return "sklearn"
    try:
        from sklearn.base import BaseEstimator
    except ModuleNotFoundError:  # scikit-learn is a dependency, but a python_function needs none of it
        return "python_function"
    return "sklearn" if isinstance(estimator, BaseEstimator) else "python_function"


def _check_estimator(estimator: Any, transform: FittedTransform, task: str, flavor: str) -> list[Any] | None:
    if not callable(getattr(estimator, "predict", None)):
        raise UsageError(
            f"a {type(estimator).__name__} has no predict(); a model package needs an object that predicts",
            hint="return the fitted estimator (or any object with predict(X)) from the train function",
        )
    if flavor != "python_function":
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted

        try:
            check_is_fitted(estimator)
        except (NotFittedError, TypeError) as exc:
            raise UsageError(f"the estimator is not fitted: {exc}", hint="fit it before saving") from exc
    width = len(transform.feature_names_out)
    fitted_width = getattr(estimator, "n_features_in_", width)
    if fitted_width != width:
        raise UsageError(
            f"the estimator was fitted on {fitted_width} features but the transform produces {width}",
            hint="fit the estimator on transform.apply_batch(...) of the same transform",
        )
    if task == "classification":
        if not hasattr(estimator, "classes_"):
            raise UsageError(f"task is classification but a {type(estimator).__name__} has no classes_")
        return [_plain(c, "classes") for c in _as_list(estimator.classes_)]
    return None


def _default_outputs(label: str, classes: list[Any] | None) -> list[dict[str, Any]]:
    if classes is None:
        kind = "float"
    elif all(isinstance(c, bool) for c in classes):
        kind = "bool"
    elif all(isinstance(c, int) and not isinstance(c, bool) for c in classes):
        kind = "int"
    else:
        kind = "string"
    return [{"name": label, "type": kind, "nullable": False}]


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def save_package(
    dest: Path,
    *,
    estimator: Any,
    transform: FittedTransform,
    task: str,
    label: str,
    signature: dict[str, Any],
    metadata: dict[str, Any] | None = None,
) -> None:
    """Write a model package into the folder ``dest`` (created if needed; an old package is replaced).

    The signature must cover every column the transform reads and must not contain the label.
    """
    if task not in TASKS:
        raise UsageError(f"unknown task {task!r}; known: {', '.join(TASKS)}", hint=did_you_mean(str(task), TASKS))
    if not isinstance(label, str) or not label:
        raise UsageError("label must be the name of the column the model predicts")
    sig = normalize_signature(signature)
    names = [f["name"] for f in sig["inputs"]]
    if label in names:
        raise UsageError(
            f"the label '{label}' is among the signature inputs",
            hint="a model must not receive its own answer; remove it from 'inputs'",
        )
    uncovered = [c for c in transform.input_columns if c not in names]
    if uncovered:
        raise UsageError(
            f"the signature has no input for column(s) {', '.join(uncovered)}, which the transform reads",
            hint="add them to signature 'inputs'",
        )
    flavor = flavor_of(estimator)
    classes = _check_estimator(estimator, transform, task, flavor)
    if not sig["outputs"]:
        sig["outputs"] = _default_outputs(label, classes)

    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"{dest} is a file; a model package is a folder")
    if dest.is_dir():
        strangers = sorted(p.name for p in dest.iterdir() if p.name not in _PACKAGE_FILES)
        if strangers:
            raise UsageError(
                f"{dest} is not empty ({', '.join(strangers[:5])}); refusing to mix a package with other files",
                hint="save into a new folder",
            )
    libraries = _libraries(flavor)
    pins = {"scikit-learn": libraries["sklearn"], "numpy": libraries["numpy"]}
    if flavor in libraries:
        pins[_FLAVOR_DISTRIBUTIONS[flavor]] = libraries[flavor]
    payload = {
        TRANSFORM_FILE: _json_bytes(transform.to_dict()),
        ESTIMATOR_FILE: pickle.dumps(estimator, protocol=_PICKLE_PROTOCOL),
        REQUIREMENTS_FILE: "".join(f"{name}=={version}\n" for name, version in sorted(pins.items())).encode(),
        **{f"{CODE_FOLDER}/{name}": data for name, data in code_files(transform).items()},
    }
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "flavor": flavor,
        "task": task,
        "label": label,
        "signature": sig,
        "classes": classes,
        "features": transform.feature_names_out,
        "estimator": {
            "class": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
            "params": {k: _param_value(v) for k, v in sorted(estimator.get_params(deep=False).items())}
            if hasattr(estimator, "get_params")
            else {},
        },
        "libraries": libraries,
        "files": {name: _sha256(data) for name, data in sorted(payload.items())},
        "metadata": _plain(metadata or {}, "metadata"),
    }
    manifest_bytes = _json_bytes(manifest)
    dest.mkdir(parents=True, exist_ok=True)
    if (dest / CODE_FOLDER).is_dir():  # a replaced package's code must not linger beside the new one
        shutil.rmtree(dest / CODE_FOLDER)
    if transform.functions:
        (dest / CODE_FOLDER).mkdir()
    for name, data in payload.items():
        _write_atomic(dest / name, data)
    _write_atomic(dest / MANIFEST_FILE, manifest_bytes)  # last: a folder without it is not a package


def package_digest(path: Path) -> str:
    """The package's content digest: the sha256 of its manifest, which pins every other file's sha256."""
    return _sha256((Path(path) / MANIFEST_FILE).read_bytes())


def _read_manifest(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise NotFound(f"no model package at {path}")
    if not path.is_dir():
        raise UsageError(f"{path} is a file; a model package is a folder with a {MANIFEST_FILE}")
    manifest_path = path / MANIFEST_FILE
    if not manifest_path.is_file():
        raise UsageError(
            f"{path} is not a model package (it has no {MANIFEST_FILE})",
            hint="point at the folder save_package wrote",
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{MANIFEST_FILE} is not valid JSON: {exc.msg}",
            where=Location(file=str(manifest_path), line=exc.lineno),
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise UsageError(f"{path} is not a modelyard model package (its manifest has no format '{FORMAT}')")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise DataError(
            f"{MANIFEST_FILE} has an invalid format_version {version!r}",
            where=Location(file=str(manifest_path)),
        )
    if version > FORMAT_VERSION:
        raise UsageError(
            f"the package at {path} has format_version {version}; this modelyard reads up to {FORMAT_VERSION}",
            hint="upgrade modelyard to load it",
        )
    flavor = manifest.get("flavor")
    if flavor not in FLAVORS:
        raise PluginNotFound(f"unknown model flavor {flavor!r}", hint=did_you_mean(str(flavor), FLAVORS))
    return manifest


def _read_verified(path: Path, name: str, manifest: dict[str, Any]) -> bytes:
    expected = manifest.get("files", {}).get(name)
    file = path / name
    if expected is None or not file.is_file():
        raise StoreError(f"the package at {path} is incomplete: {name} is missing")
    data = file.read_bytes()
    if _sha256(data) != expected:
        raise StoreError(
            f"{name} in {path} does not match the digest in its manifest",
            hint="the package was modified or is corrupt; save it again",
        )
    return data


def load_package(path: Path) -> ModelPackage:
    """Open the package folder at ``path``; every file is checked against its manifest digest."""
    path = Path(path)
    manifest = _read_manifest(path)
    transform = FittedTransform.from_dict(json.loads(_read_verified(path, TRANSFORM_FILE, manifest)))
    if transform.functions:  # user code runs from the package's own verified copy, not from wherever it came from
        code = {f.source: _read_verified(path, f"{CODE_FOLDER}/{f.source}", manifest) for f in transform.functions}
        transform = bind_code(transform, code, path)
    saved_with = manifest.get("libraries", {})
    installed = _libraries(manifest["flavor"])
    for lib in ("sklearn", "numpy", manifest["flavor"]):
        if lib not in installed:
            continue
        if saved_with.get(lib) and saved_with[lib] != installed[lib]:
            warnings.warn(
                f"model package {path} was saved with {lib} {saved_with[lib]}; this is {installed[lib]}, "
                "so predictions may differ",
                stacklevel=2,
            )
    try:
        estimator = pickle.loads(_read_verified(path, ESTIMATOR_FILE, manifest))
    except Exception as exc:  # unpickling fails in many ways (missing module, moved class, bad bytes)
        raise StoreError(
            f"cannot unpickle the estimator in {path}: {exc}",
            hint=f"it was saved with {saved_with}; install matching versions",
        ) from exc
    return ModelPackage(path=path, manifest=manifest, transform=transform, estimator=estimator)


def _as_records(data: Any) -> list[Any]:
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(data, pandas.DataFrame):
        return data.to_dict(orient="records")
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None and isinstance(data, pyarrow.Table | pyarrow.RecordBatch):
        return data.to_pylist()
    if isinstance(data, list | tuple):
        return list(data)
    raise UsageError(
        f"cannot predict on a {type(data).__name__}",
        hint="pass a list of records (dicts), a pandas DataFrame or a pyarrow Table",
    )


def _estimate_function(estimator: Any) -> Any:
    """The estimator's predict, or for scikit-learn's plain linear models the same arithmetic without the
    per-call validation (see models.linear_fast)."""
    if type(estimator).__module__.startswith("sklearn."):
        from modelyard.models.linear_fast import LinearPredict

        fast = LinearPredict(estimator)
        if fast.active:
            return fast
    return estimator.predict


class ModelPackage:
    """A loaded package: checks inputs against the signature, transforms, then calls the estimator."""

    def __init__(self, *, path: Path, manifest: dict[str, Any], transform: FittedTransform, estimator: Any):
        self.path = path
        self.manifest = manifest
        self.signature: dict[str, Any] = manifest["signature"]
        self.transform = transform
        self.estimator = estimator
        self.task: str = manifest["task"]
        self.label: str = manifest["label"]
        self.classes: list[Any] | None = manifest.get("classes")
        self._checks = compile_signature(self.signature)
        self._estimate = _estimate_function(estimator)

    def __repr__(self) -> str:
        return f"ModelPackage({str(self.path)!r}, task={self.task!r}, label={self.label!r})"

    def check_inputs(self, records: list[dict[str, Any]], *, coerce: bool = False) -> list[dict[str, Any]]:
        """Clean copies of ``records`` or ValidationFailed listing every offence (see models.signature)."""
        return check_records(self.signature, records, coerce=coerce, compiled=self._checks)

    def _features(self, data: Any, coerce: bool, checked: bool = False) -> Any:
        clean = data if checked else self.check_inputs(_as_records(data), coerce=coerce)
        if len(clean) == 1:  # one request: the lean record path (bit-identical to the batch row)
            return self.transform.apply_record(clean[0])[None, :]
        return self.transform.apply_batch(clean)

    def predict(self, data: Any, *, coerce: bool = False, checked: bool = False) -> list[Any]:
        """Predictions as plain Python values: class labels for classification, floats for regression.

        ``checked``: ``data`` is a list that ``check_inputs`` returned. The server checks each request on its
        own as it arrives, so that a bad record fails only its own request, and predicts the micro-batch of
        clean records without checking them twice."""
        features = self._features(data, coerce, checked)
        if len(features) == 0:
            return []
        predicted = self._estimate(features)
        if self.task == "regression":
            return [float(v) for v in predicted]
        return [_plain(v, "prediction") for v in _as_list(predicted)]

    def predict_proba(self, data: Any, *, coerce: bool = False) -> list[dict[str, float]]:
        """Class probabilities per record, keyed by the class label as a string."""
        if self.task != "classification" or not hasattr(self.estimator, "predict_proba"):
            raise UsageError(
                f"this model cannot give probabilities (task {self.task}, {type(self.estimator).__name__})",
                hint="use predict(); probabilities need a classifier with predict_proba",
            )
        features = self._features(data, coerce)
        if len(features) == 0:
            return []
        keys = [str(c) for c in _as_list(self.estimator.classes_)]
        return [dict(zip(keys, map(float, row), strict=True)) for row in self.estimator.predict_proba(features)]
