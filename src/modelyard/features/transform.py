"""The fitted transform: what a model needs to turn raw columns into a numeric feature matrix.

A :class:`TransformSpec` says *what* to do (which columns are numeric or categorical, how to impute,
clip, log, scale or bucketize them, how to encode categories, which columns to cross; per column or
column group, see :mod:`modelyard.features.spec`). :func:`fit_transform` runs the analyzers once over the training
data and freezes the results into a :class:`FittedTransform`, a plain value that serialises to JSON and
travels inside the model package. Applying it to a batch or to one request goes through the same
arithmetic (see :mod:`modelyard.features.apply`), which is what makes training/serving skew impossible.

Layout of the output: numeric columns first, in spec order (one column each, or one indicator per
bucket when bucketized), then each categorical column (one-hot: one indicator per vocabulary value
followed by one out-of-vocabulary (OOV) indicator for rare values cut by ``top_k``/``min_frequency``
and values never seen in training; ordinal: one column holding the index; hash: ``buckets``
indicators), then each hashed cross (``buckets`` indicators). Outputs of user functions
(:mod:`modelyard.features.functions`) are numeric columns placed after the spec's own numeric columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from modelyard.errors import DataError, Location, UsageError, did_you_mean
from modelyard.features.fitting import fitted_categorical, fitted_numeric
from modelyard.features.functions import FunctionParams, input_columns, load_functions, training_data
from modelyard.features.params import (
    MISSING_CATEGORY,
    OOV,
    CategoricalParams,
    CrossParams,
    DateParams,
    NumericParams,
)
from modelyard.features.spec import (
    CATEGORICAL_IMPUTES,
    ENCODINGS,
    SCALES,
    check_crosses,
    check_dates,
    check_features,
    check_function_columns,
    check_functions,
    choice,
    outputs_of,
    whole,
)

__all__ = ["MISSING_CATEGORY", "OOV", "FittedTransform", "TransformSpec", "fit_transform"]

NUMERIC_IMPUTES = ("mean", "median", "most_frequent", "zero")  # "constant" needs a value: per column only
COLUMN_TYPES = ("int", "float", "string", "bool", "timestamp")
_OPTION_KEYS = (
    "scale", "impute_numeric", "impute_categorical", "max_categories", "min_frequency", "encode", "hash_buckets",
    "features", "crosses", "dates", "functions",
)  # fmt: skip
_PARAM_KEYS = ("numeric", "categorical", "exclude", *_OPTION_KEYS)
_AUTO_NUMERIC = ("int", "float")
_AUTO_CATEGORICAL = ("string", "bool")
_ALLOWED = {"numeric": ("int", "float", "bool"), "categorical": ("string", "bool", "int")}
FORMAT = "modelyard.transform"
FORMAT_VERSION = 3
_PLAIN_VERSION = 2  # a transform without functions is still written as version 2, readable by older releases


@dataclass(frozen=True)
class TransformSpec:
    """What the transform does; validated on construction so a bad spec fails before any data is read."""

    numeric: list[str]
    categorical: list[str]
    scale: str = "zscore"
    impute_numeric: str = "mean"
    impute_categorical: str = "most_frequent"
    max_categories: int = 50
    min_frequency: int = 1
    encode: str = "onehot"
    hash_buckets: int = 32
    features: list[dict[str, Any]] = field(default_factory=list)
    crosses: list[dict[str, Any]] = field(default_factory=list)
    dates: list[dict[str, Any]] = field(default_factory=list)
    functions: list[dict[str, Any]] = field(default_factory=list)

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
        choice(self.scale, SCALES, "scale")
        choice(self.impute_numeric, NUMERIC_IMPUTES, "impute_numeric")
        choice(self.impute_categorical, CATEGORICAL_IMPUTES, "impute_categorical")
        choice(self.encode, ENCODINGS, "encode")
        whole(self.max_categories, "max_categories", 1)
        whole(self.min_frequency, "min_frequency", 1)
        whole(self.hash_buckets, "hash_buckets", 2)
        object.__setattr__(self, "dates", check_dates(self.dates, [*self.numeric, *self.categorical]))
        taken = [*self.numeric, *self.categorical, *(d["column"] for d in self.dates)]
        object.__setattr__(self, "functions", check_functions(self.functions, taken))
        derived = [*self.numeric, *outputs_of(self.functions)]
        object.__setattr__(self, "features", check_features(self.features, derived, self.categorical))
        object.__setattr__(self, "crosses", check_crosses(self.crosses, self.categorical))

    def numeric_options(self, name: str) -> dict[str, Any]:
        """The defaults for a numeric column with every ``features`` entry naming it applied in order."""
        out: dict[str, Any] = {"impute": self.impute_numeric, "scale": self.scale, "log": False, "clip": None}
        for entry in self.features:
            if name in entry["columns"]:
                out.update({k: v for k, v in entry.items() if k != "columns"})
        return out

    def categorical_options(self, name: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "impute": self.impute_categorical,
            "encode": self.encode,
            "top_k": self.max_categories,
            "min_frequency": self.min_frequency,
            "buckets": self.hash_buckets,
        }
        for entry in self.features:
            if name in entry["columns"]:
                out.update({k: v for k, v in entry.items() if k != "columns"})
        return out

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
        dated = []
        for i, entry in enumerate(params.get("dates") or []):
            name = entry.get("column") if isinstance(entry, Mapping) else None
            if name not in columns:
                raise UsageError(
                    f"'dates' names column {name!r}, which the input does not have",
                    where=Location(field=f"dates[{i}].column"),
                    hint=did_you_mean(str(name), columns),
                )
            if columns[name] not in ("timestamp", "string"):
                raise UsageError(
                    f"column '{name}' is {columns[name]}; date parts come from a timestamp (or ISO string) column",
                    where=Location(field=f"dates[{i}].column", column=name),
                )
            dated.append(name)
        check_function_columns(params.get("functions"), columns)
        taken = set(listed.get("exclude", [])) | set(listed.get("numeric", [])) | set(listed.get("categorical", []))
        taken |= set(dated)
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
        options = {k: params[k] for k in _OPTION_KEYS if params.get(k) is not None}
        return cls(numeric=list(numeric), categorical=list(categorical), **options)

    def to_dict(self) -> dict[str, Any]:
        return {
            "numeric": list(self.numeric),
            "categorical": list(self.categorical),
            "scale": self.scale,
            "impute_numeric": self.impute_numeric,
            "impute_categorical": self.impute_categorical,
            "max_categories": self.max_categories,
            "min_frequency": self.min_frequency,
            "encode": self.encode,
            "hash_buckets": self.hash_buckets,
            "features": [dict(entry) for entry in self.features],
            "crosses": [dict(entry) for entry in self.crosses],
            "dates": [dict(entry) for entry in self.dates],
            **({"functions": [dict(entry) for entry in self.functions]} if self.functions else {}),
        }


@dataclass(frozen=True)
class FittedTransform:
    """Frozen analyzer results; applying it is pure arithmetic, with no data access and no fitting."""

    spec: TransformSpec
    rows: int
    numeric: tuple[NumericParams, ...]
    categorical: tuple[CategoricalParams, ...]
    crosses: tuple[CrossParams, ...] = ()
    dates: tuple[DateParams, ...] = ()
    functions: tuple[FunctionParams, ...] = ()

    FORMAT: ClassVar[str] = FORMAT
    FORMAT_VERSION: ClassVar[int] = FORMAT_VERSION

    @property
    def input_columns(self) -> list[str]:
        """The raw columns the transform reads: numeric, categorical, timestamp, then function input columns."""
        derived = {name for f in self.functions for name in f.outputs}
        listed = [p.name for p in (*self.numeric, *self.categorical, *self.dates) if p.name not in derived]
        return input_columns(self.functions, listed)

    @property
    def feature_names_out(self) -> list[str]:
        """One name per output column: ``bill_length_mm``, ``island=Biscoe``, ``island=__oov__``, ..."""
        names: list[str] = []
        for part in (*self.numeric, *self.categorical, *self.crosses, *self.dates):
            names += part.feature_names()
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
        numeric = []
        for p in self.numeric:
            entry = asdict(p)
            entry["edges"] = None if p.edges is None else list(p.edges)
            numeric.append(entry)
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION if self.functions else _PLAIN_VERSION,
            "spec": self.spec.to_dict(),
            "rows": self.rows,
            "numeric": numeric,
            "categorical": [
                {
                    "name": p.name,
                    "vocabulary": [[value, count] for value, count in zip(p.vocabulary, p.counts, strict=True)],
                    "missing": p.missing,
                    "fill": p.fill,
                    "encode": p.encode,
                    "buckets": p.buckets,
                }
                for p in self.categorical
            ],
            "crosses": [{"columns": list(c.columns), "buckets": c.buckets} for c in self.crosses],
            "dates": [{"name": d.name, "parts": list(d.parts)} for d in self.dates],
            **({"functions": [f.to_dict() for f in self.functions]} if self.functions else {}),
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
            numeric = tuple(
                NumericParams(**{**p, "edges": None if p.get("edges") is None else tuple(p["edges"])})
                for p in d["numeric"]
            )
            categorical = tuple(
                CategoricalParams(
                    name=p["name"],
                    vocabulary=tuple(str(value) for value, _ in p["vocabulary"]),
                    counts=tuple(int(count) for _, count in p["vocabulary"]),
                    missing=int(p["missing"]),
                    fill=p["fill"],
                    encode=p.get("encode", "onehot"),
                    buckets=int(p.get("buckets", 0)),
                )
                for p in d["categorical"]
            )
            crosses = tuple(CrossParams(tuple(c["columns"]), int(c["buckets"])) for c in d.get("crosses", []))
            dates = tuple(DateParams(p["name"], tuple(p["parts"])) for p in d.get("dates", []))
            functions = tuple(FunctionParams.from_dict(p) for p in d.get("functions", []))
            transform = cls(
                spec=spec, rows=int(d["rows"]), numeric=numeric, categorical=categorical, crosses=crosses, dates=dates,
                functions=functions,
            )  # fmt: skip
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"transform description is malformed: {exc!r}") from exc
        expected = [*spec.numeric, *outputs_of(spec.functions)]
        if [p.name for p in numeric] != expected or [p.name for p in categorical] != spec.categorical:
            raise DataError("transform description is malformed: fitted columns do not match its spec")
        return transform


def fit_transform(
    train: Path, spec: TransformSpec, *, base_dir: Path | None = None, files: Mapping[str, Path] | None = None
) -> FittedTransform:
    """Fit ``spec`` on the Parquet file ``train`` with one DuckDB pass over the data.

    Function references are resolved under ``base_dir`` (default: the current folder), or read from
    ``files`` (module part -> path); they are imported and checked before any data is read.
    """
    from modelyard.features.analyzers import summarize

    functions = load_functions(spec.functions, base_dir=Path(base_dir or Path.cwd()), files=files)
    names = [*spec.numeric, *outputs_of(spec.functions)]
    numeric_options = {n: spec.numeric_options(n) for n in names}
    with training_data(Path(train), spec, functions) as data:
        summary = summarize(data, names, spec.categorical, numeric_options)
    return FittedTransform(
        spec=spec,
        rows=summary.rows,
        numeric=tuple(fitted_numeric(n, summary.numeric[n], numeric_options[n]) for n in names),
        categorical=tuple(
            fitted_categorical(n, summary.categorical[n], spec.categorical_options(n)) for n in spec.categorical
        ),
        crosses=tuple(CrossParams(tuple(c["columns"]), c["buckets"]) for c in spec.crosses),
        dates=tuple(DateParams(d["column"], tuple(d["parts"])) for d in spec.dates),
        functions=functions,
    )
