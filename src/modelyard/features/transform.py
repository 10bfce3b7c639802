"""The fitted transform: what a model needs to turn raw columns into a numeric feature matrix.

A :class:`TransformSpec` says *what* to do (which columns are numeric or categorical, how to impute and
scale, how big a vocabulary may be). :func:`fit_transform` runs the analyzers once over the training
data and freezes the results into a :class:`FittedTransform`, a plain value that serialises to JSON and
travels inside the model package. Applying it to a batch or to one request goes through the same
arithmetic (see :mod:`modelyard.features.apply`), which is what makes training/serving skew impossible.

Layout of the output: numeric columns first, in spec order, then for each categorical column one
indicator per vocabulary value followed by one out-of-vocabulary (OOV) indicator that catches rare
values cut by ``max_categories`` and values never seen in training.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from modelyard.errors import DataError, Location, UsageError, did_you_mean

SCALES = ("zscore", "minmax", "none")
NUMERIC_IMPUTES = ("mean", "median", "zero")
CATEGORICAL_IMPUTES = ("most_frequent", "constant")
MISSING_CATEGORY = "__missing__"
OOV = "__oov__"
COLUMN_TYPES = ("int", "float", "string", "bool", "timestamp")
_PARAM_KEYS = (
    "numeric", "categorical", "exclude", "scale", "impute_numeric", "impute_categorical", "max_categories",
)  # fmt: skip
_AUTO_NUMERIC = ("int", "float")
_AUTO_CATEGORICAL = ("string", "bool")
_ALLOWED = {"numeric": ("int", "float", "bool"), "categorical": ("string", "bool", "int")}
FORMAT = "modelyard.transform"
FORMAT_VERSION = 1


def _choice(value: Any, choices: tuple[str, ...], what: str) -> None:
    if value not in choices:
        raise UsageError(
            f"unknown {what} {value!r}; choose one of {', '.join(choices)}",
            where=Location(field=what),
            hint=did_you_mean(str(value), choices),
        )


@dataclass(frozen=True)
class TransformSpec:
    """What the transform does; validated on construction so a bad spec fails before any data is read."""

    numeric: list[str]
    categorical: list[str]
    scale: str = "zscore"
    impute_numeric: str = "mean"
    impute_categorical: str = "most_frequent"
    max_categories: int = 50

    def __post_init__(self) -> None:
        for what in ("numeric", "categorical"):
            names = getattr(self, what)
            if isinstance(names, str) or not all(isinstance(n, str) for n in names):
                raise UsageError(f"'{what}' must be a list of column names", where=Location(field=what))
            object.__setattr__(self, what, list(names))
        for names, what in ((self.numeric, "numeric"), (self.categorical, "categorical")):
            seen: set[str] = set()
            for name in names:
                if name in seen:
                    raise UsageError(f"column '{name}' is listed twice in '{what}'", where=Location(field=what))
                seen.add(name)
        both = sorted(set(self.numeric) & set(self.categorical))
        if both:
            raise UsageError(
                f"column(s) {', '.join(both)} listed as both numeric and categorical",
                where=Location(field="categorical"),
                hint="a column is encoded one way; list it once",
            )
        _choice(self.scale, SCALES, "scale")
        _choice(self.impute_numeric, NUMERIC_IMPUTES, "impute_numeric")
        _choice(self.impute_categorical, CATEGORICAL_IMPUTES, "impute_categorical")
        if isinstance(self.max_categories, bool) or not isinstance(self.max_categories, int):
            raise UsageError("'max_categories' must be a whole number", where=Location(field="max_categories"))
        if self.max_categories < 1:
            raise UsageError(
                f"'max_categories' must be at least 1, got {self.max_categories}",
                where=Location(field="max_categories"),
            )

    @classmethod
    def from_params(cls, params: Mapping[str, Any], *, columns: Mapping[str, str]) -> TransformSpec:
        """Build a spec from step parameters and the raw input's column types (label already removed).

        ``numeric``/``categorical`` may be listed explicitly; whatever is not listed is derived from the
        types (int/float -> numeric, string/bool -> categorical; timestamps are left out). ``exclude``
        drops columns from the derivation, e.g. an id.
        """
        for key in params:
            if key not in _PARAM_KEYS:
                raise UsageError(
                    f"unknown transform parameter '{key}'",
                    where=Location(field=key),
                    hint=did_you_mean(key, _PARAM_KEYS),
                )
        for name, kind in columns.items():
            if kind not in COLUMN_TYPES:
                raise UsageError(
                    f"column '{name}' has unknown type {kind!r}; known: {', '.join(COLUMN_TYPES)}",
                    where=Location(column=name),
                )
        listed: dict[str, list[str]] = {}
        for what in ("numeric", "categorical", "exclude"):
            if what in params and params[what] is not None:
                names = params[what]
                if isinstance(names, str) or not isinstance(names, list | tuple):
                    raise UsageError(f"'{what}' must be a list of column names", where=Location(field=what))
                for name in names:
                    if name not in columns:
                        raise UsageError(
                            f"'{what}' names column '{name}', which the input does not have",
                            where=Location(field=what, column=str(name)),
                            hint=did_you_mean(str(name), columns),
                        )
                    if what in _ALLOWED and columns[name] not in _ALLOWED[what]:
                        raise UsageError(
                            f"column '{name}' is {columns[name]} and cannot be a {what} feature",
                            where=Location(field=what, column=name),
                            hint=f"{what} features may be {', '.join(_ALLOWED[what])}",
                        )
                listed[what] = list(names)
        taken = set(listed.get("exclude", [])) | set(listed.get("numeric", [])) | set(listed.get("categorical", []))
        derived = {
            what: [n for n, kind in columns.items() if kind in auto and n not in taken]
            for what, auto in (("numeric", _AUTO_NUMERIC), ("categorical", _AUTO_CATEGORICAL))
        }
        numeric = listed.get("numeric", derived["numeric"])
        categorical = listed.get("categorical", derived["categorical"])
        if not numeric and not categorical:
            raise UsageError(
                "the transform has no feature columns",
                hint="the input has no int, float, string or bool column besides the label; list some "
                "under 'numeric' or 'categorical'",
            )
        options = {
            k: params[k]
            for k in ("scale", "impute_numeric", "impute_categorical", "max_categories")
            if params.get(k) is not None
        }
        return cls(numeric=list(numeric), categorical=list(categorical), **options)

    def to_dict(self) -> dict[str, Any]:
        return {
            "numeric": list(self.numeric),
            "categorical": list(self.categorical),
            "scale": self.scale,
            "impute_numeric": self.impute_numeric,
            "impute_categorical": self.impute_categorical,
            "max_categories": self.max_categories,
        }


@dataclass(frozen=True)
class NumericParams:
    """A fitted numeric column: ``(value, or fill when missing) - offset) / divisor``, plus its statistics."""

    name: str
    fill: float
    offset: float
    divisor: float
    count: int
    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    median: float | None


@dataclass(frozen=True)
class CategoricalParams:
    """A fitted categorical column: the kept vocabulary (most frequent first) and the fill for missing."""

    name: str
    vocabulary: tuple[str, ...]
    counts: tuple[int, ...]
    missing: int
    fill: str | None  # the key a missing value is replaced by; None sends it to the OOV bucket
    index: dict[str, int] = field(init=False, repr=False, compare=False, hash=False)
    fill_index: int = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        index = {value: i for i, value in enumerate(self.vocabulary)}
        object.__setattr__(self, "index", index)
        oov = len(self.vocabulary)
        object.__setattr__(self, "fill_index", oov if self.fill is None else index.get(self.fill, oov))

    @property
    def width(self) -> int:
        return len(self.vocabulary) + 1


def _numeric_params(name: str, stats: Any, spec: TransformSpec) -> NumericParams:
    center = {"mean": stats.mean, "median": stats.median, "zero": 0.0}[spec.impute_numeric]
    fill = 0.0 if center is None else float(center)
    offset, divisor = 0.0, 1.0
    if spec.scale == "zscore" and stats.mean is not None:
        offset = stats.mean
        divisor = stats.std if stats.std else 1.0  # a constant column is centred, not blown up
    elif spec.scale == "minmax" and stats.min is not None and stats.max is not None:
        offset = stats.min
        divisor = (stats.max - stats.min) or 1.0
    return NumericParams(
        name=name, fill=fill, offset=float(offset), divisor=float(divisor), count=stats.count,
        mean=stats.mean, std=stats.std, min=stats.min, max=stats.max, median=stats.median,
    )  # fmt: skip


def _categorical_params(name: str, stats: Any, spec: TransformSpec) -> CategoricalParams:
    counts = dict(stats.counts)
    if spec.impute_categorical == "constant" and stats.missing:
        counts[MISSING_CATEGORY] = counts.get(MISSING_CATEGORY, 0) + stats.missing
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[: spec.max_categories]
    vocabulary = tuple(value for value, _ in ranked)
    if spec.impute_categorical == "constant":
        fill: str | None = MISSING_CATEGORY
    else:
        fill = vocabulary[0] if vocabulary else None
    return CategoricalParams(
        name=name,
        vocabulary=vocabulary,
        counts=tuple(count for _, count in ranked),
        missing=stats.missing,
        fill=fill,
    )


@dataclass(frozen=True)
class FittedTransform:
    """Frozen analyzer results; applying it is pure arithmetic, with no data access and no fitting."""

    spec: TransformSpec
    rows: int
    numeric: tuple[NumericParams, ...]
    categorical: tuple[CategoricalParams, ...]

    FORMAT: ClassVar[str] = FORMAT
    FORMAT_VERSION: ClassVar[int] = FORMAT_VERSION

    @property
    def input_columns(self) -> list[str]:
        """The raw columns the transform reads, numeric first."""
        return [p.name for p in self.numeric] + [p.name for p in self.categorical]

    @property
    def feature_names_out(self) -> list[str]:
        """One name per output column: ``bill_length_mm``, ``island=Biscoe``, ``island=__oov__``."""
        names = [p.name for p in self.numeric]
        for p in self.categorical:
            names += [f"{p.name}={value}" for value in p.vocabulary] + [f"{p.name}={OOV}"]
        return names

    def apply_batch(self, data: Any) -> Any:
        """Transform many rows (records, a pandas DataFrame or an Arrow table) into a float64 matrix."""
        from modelyard.features.apply import apply_batch

        return apply_batch(self, data)

    def apply_record(self, record: Mapping[str, Any]) -> Any:
        """Transform one record into a 1-D float64 array, bit-identical to its row in a batch."""
        from modelyard.features.apply import apply_record

        return apply_record(self, record)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able, versioned description; ``from_dict(to_dict())`` gives an equal transform."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "spec": self.spec.to_dict(),
            "rows": self.rows,
            "numeric": [asdict(p) for p in self.numeric],
            "categorical": [
                {
                    "name": p.name,
                    "vocabulary": [[value, count] for value, count in zip(p.vocabulary, p.counts, strict=True)],
                    "missing": p.missing,
                    "fill": p.fill,
                }
                for p in self.categorical
            ],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FittedTransform:
        """Rebuild a transform written by :meth:`to_dict`; refuses other formats and newer versions."""
        if not isinstance(d, Mapping) or d.get("format") != FORMAT:
            raise DataError(f"not a modelyard transform description (expected format '{FORMAT}')")
        version = d.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise UsageError(
                f"transform format_version {version!r} is not supported (this modelyard reads up to {FORMAT_VERSION})",
                hint="upgrade modelyard to read transforms written by a newer version",
            )
        try:
            spec = TransformSpec(**d["spec"])
            numeric = tuple(NumericParams(**p) for p in d["numeric"])
            categorical = tuple(
                CategoricalParams(
                    name=p["name"],
                    vocabulary=tuple(str(value) for value, _ in p["vocabulary"]),
                    counts=tuple(int(count) for _, count in p["vocabulary"]),
                    missing=int(p["missing"]),
                    fill=p["fill"],
                )
                for p in d["categorical"]
            )
            transform = cls(spec=spec, rows=int(d["rows"]), numeric=numeric, categorical=categorical)
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"transform description is malformed: {exc!r}") from exc
        if [p.name for p in numeric] != spec.numeric or [p.name for p in categorical] != spec.categorical:
            raise DataError("transform description is malformed: fitted columns do not match its spec")
        return transform


def fit_transform(train: Path, spec: TransformSpec) -> FittedTransform:
    """Fit ``spec`` on the Parquet file ``train`` with one DuckDB pass over the data."""
    from modelyard.features.analyzers import summarize

    summary = summarize(Path(train), spec.numeric, spec.categorical)
    return FittedTransform(
        spec=spec,
        rows=summary.rows,
        numeric=tuple(_numeric_params(n, summary.numeric[n], spec) for n in spec.numeric),
        categorical=tuple(_categorical_params(n, summary.categorical[n], spec) for n in spec.categorical),
    )
