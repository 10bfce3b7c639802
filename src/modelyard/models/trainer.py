"""Building an estimator from a dotted class path in a pipeline file, and fitting it.

A pipeline names its estimator as text (``sklearn.linear_model.LogisticRegression``) with a parameter
mapping, so every mistake in that text must come back as a UsageError that points at the wrong part and
suggests the right one: a misspelled module, a misspelled class, an unknown parameter, a bad value. The
check happens here, before training data is touched, instead of as a TypeError deep inside a fit.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import time
import warnings
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from modelyard.errors import DataError, UsageError, did_you_mean


def _public_names(module: ModuleType) -> list[str]:
    names = {n for n in dir(module) if not n.startswith("_")}
    if hasattr(module, "__path__"):
        names |= {m.name for m in pkgutil.iter_modules(module.__path__) if not m.name.startswith("_")}
    return sorted(names)


def _import_module(dotted: str, class_path: str) -> ModuleType:
    """Import ``dotted``, or explain which part of it does not exist."""
    parts = dotted.split(".")
    module: ModuleType | None = None
    for i in range(len(parts)):
        name = ".".join(parts[: i + 1])
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # the module exists but one of its own imports is missing
                raise UsageError(
                    f"importing '{name}' for '{class_path}' failed: {exc}",
                    hint=f"install the package that provides '{exc.name}'",
                ) from exc
            if module is None:
                candidates = [m.name for m in pkgutil.iter_modules() if not m.name.startswith("_")]
            else:
                candidates = _public_names(module)
            raise UsageError(
                f"no module '{name}' (from estimator '{class_path}')",
                hint=did_you_mean(parts[i], candidates),
            ) from exc
    if module is None:  # only reachable with an empty path, which the caller rules out
        raise UsageError(f"'{class_path}' names no module")
    return module


def _valid_params(cls: type) -> tuple[list[str], bool]:
    """Constructor parameter names, and whether it also takes arbitrary keyword arguments."""
    try:
        parameters = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return [], True
    names = [p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return names, any(p.kind is p.VAR_KEYWORD for p in parameters)


def build_estimator(class_path: str, params: Mapping[str, Any], *, seed: int | None) -> object:
    """An unfitted estimator from ``"package.module.Class"`` and its parameters.

    When ``seed`` is given and the class takes ``random_state``, it is set to ``seed`` unless the params
    set ``random_state`` themselves (an explicit parameter wins over the pipeline-wide seed).
    """
    if not isinstance(class_path, str) or "." not in class_path.strip(".") or " " in class_path:
        raise UsageError(
            f"estimator must be a dotted class path like 'sklearn.linear_model.LogisticRegression', got {class_path!r}"
        )
    if not isinstance(params, Mapping):
        raise UsageError(f"estimator parameters must be a mapping, got a {type(params).__name__}")
    module_name, _, class_name = class_path.rpartition(".")
    module = _import_module(module_name, class_path)
    cls = getattr(module, class_name, None)
    if cls is None:
        raise UsageError(
            f"module '{module_name}' has no '{class_name}'",
            hint=did_you_mean(
                class_name, [n for n in _public_names(module) if n[:1].isupper()] or _public_names(module)
            ),
        )
    if not inspect.isclass(cls) or not hasattr(cls, "fit"):
        raise UsageError(f"'{class_path}' is not an estimator class (it needs a fit method)")

    valid, open_ended = _valid_params(cls)
    unknown = [name for name in params if name not in valid]
    if unknown and not open_ended:
        close = did_you_mean(unknown[0], valid) or ""
        listing = "valid parameters: " + ", ".join(valid)
        raise UsageError(
            f"{cls.__name__} has no parameter{'s' if len(unknown) > 1 else ''} " + ", ".join(f"'{u}'" for u in unknown),
            hint=f"{close}; {listing}" if close.startswith("did you mean") else listing,
        )
    kwargs = dict(params)
    if seed is not None and "random_state" in valid and "random_state" not in kwargs:
        kwargs["random_state"] = seed
    try:
        estimator = cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"cannot create {cls.__name__}: {exc}") from exc
    _validate_early(estimator)
    return estimator


def _validate_early(estimator: object) -> None:
    """Let scikit-learn check parameter values now rather than at fit time, when it offers that.

    ``_validate_params`` is scikit-learn's own (underscored) hook; it raises an error naming the bad
    parameter and its allowed values. Estimators without it are checked when they are fitted.
    """
    validate = getattr(estimator, "_validate_params", None)
    if not callable(validate):
        return
    try:
        validate()
    except (TypeError, ValueError) as exc:
        raise UsageError(f"bad parameter value: {exc}") from exc


def _missing_labels(y: Any) -> int:
    import numpy as np

    if y.dtype.kind == "f":
        return int(np.isnan(y).sum())
    if y.dtype.kind == "O":
        return sum(1 for v in y if v is None or (isinstance(v, float) and v != v))
    return 0


def feature_importances(estimator: Any, feature_names: Sequence[str]) -> tuple[dict[str, float], str] | None:
    """(importance by feature name, kind) when the estimator exposes them (``feature_importances_`` or
    ``coef_``), else None; the kind says how to read the numbers (impurity or mean |coefficient|)."""
    found = _importances(estimator)
    if found is None or len(found[0]) != len(feature_names):
        return None
    return dict(zip(feature_names, found[0], strict=True)), found[1]


def _importances(estimator: Any) -> tuple[list[float], str] | None:
    import numpy as np

    if getattr(estimator, "feature_importances_", None) is not None:
        return [float(v) for v in np.asarray(estimator.feature_importances_).ravel()], "impurity"
    coef = getattr(estimator, "coef_", None)
    if coef is not None:
        coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
        return [float(v) for v in np.abs(coef).mean(axis=0)], "mean_abs_coefficient"
    return None


def fit_estimator(estimator: Any, X: Any, y: Any, *, feature_names: Sequence[str] | None = None) -> dict[str, Any]:
    """Fit ``estimator`` on the feature matrix ``X`` and labels ``y``; return what a run should record.

    The result holds ``training_seconds``, ``n_samples``, ``n_features``, ``warnings`` (e.g. a solver
    that did not converge) and, when the estimator exposes them, ``feature_importances`` (keyed by
    ``feature_names`` when given) with ``importance_kind``.
    """
    import numpy as np

    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2:
        raise DataError(f"the feature matrix must be 2-D, got shape {X.shape}")
    if len(X) != len(y):
        raise DataError(f"{len(X)} feature rows but {len(y)} labels")
    if len(y) == 0:
        raise DataError("no training rows", hint="the training split is empty")
    missing = _missing_labels(y)
    if missing:
        raise DataError(f"the label has {missing} missing value(s)", hint="drop unlabeled rows before training")
    if feature_names is not None and len(feature_names) != X.shape[1]:
        raise UsageError(f"{len(feature_names)} feature names for {X.shape[1]} features")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        started = time.perf_counter()
        try:
            estimator.fit(X, y)
        except ValueError as exc:
            if type(exc).__name__ == "InvalidParameterError":
                raise UsageError(f"bad parameter value: {exc}") from exc
            raise DataError(f"training {type(estimator).__name__} failed: {exc}") from exc
        seconds = time.perf_counter() - started
    result: dict[str, Any] = {
        "training_seconds": seconds,
        "n_samples": int(X.shape[0]),
        "n_features": int(X.shape[1]),
        "warnings": sorted({f"{w.category.__name__}: {str(w.message).splitlines()[0]}" for w in caught}),
    }
    found = _importances(estimator)
    if found is not None:
        values, kind = found
        named = feature_names is not None and len(feature_names) == len(values)
        result["feature_importances"] = dict(zip(feature_names, values, strict=True)) if named else values
        result["importance_kind"] = kind
    return result
