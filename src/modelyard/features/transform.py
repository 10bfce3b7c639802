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
indicators), then each hashed cross (``buckets`` indicators).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from modelyard.errors import DataError, Location, UsageError, did_you_mean
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
    choice,
    whole,
)

__all__ = ["MISSING_CATEGORY", "OOV", "FittedTransform", "TransformSpec", "fit_transform"]

NUMERIC_IMPUTES = ("mean", "median", "most_frequent", "zero")  # "constant" needs a value: per column only
COLUMN_TYPES = ("int", "float", "string", "bool", "timestamp")
_OPTION_KEYS = (
    "scale", "impute_numeric", "impute_categorical", "max_categories", "min_frequency", "encode", "hash_buckets",
    "features", "crosses", "dates",
)  # fmt: skip
_PARAM_KEYS = ("numeric", "categorical", "exclude", *_OPTION_KEYS)
_AUTO_NUMERIC = ("int", "float")
_AUTO_CATEGORICAL = ("string", "bool")
_ALLOWED = {"numeric": ("int", "float", "bool"), "categorical": ("string", "bool", "int")}
FORMAT = "modelyard.transform"
FORMAT_VERSION = 2


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
        object.__setattr__(self, "features", check_features(self.features, self.numeric, self.categorical))
        object.__setattr__(self, "crosses", check_crosses(self.crosses, self.categorical))
        object.__setattr__(self, "dates", check_dates(self.dates, [*self.numeric, *self.categorical]))

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
        }


def _numeric_params(name: str, stats: Any, options: Mapping[str, Any]) -> NumericParams:
    impute = options["impute"]
    center = {
        "mean": stats.mean, "median": stats.median, "most_frequent": stats.mode, "zero": 0.0,
        "constant": options.get("fill_value"),
    }[impute]  # fmt: skip
    fill = 0.0 if center is None else float(center)
    offset, divisor = 0.0, 1.0
    scale = options["scale"]
    if scale == "zscore" and stats.shaped_mean is not None:
        offset = stats.shaped_mean
        divisor = stats.shaped_std if stats.shaped_std else 1.0  # a constant column is centred, not blown up
    elif scale == "minmax" and stats.shaped_min is not None and stats.shaped_max is not None:
        offset = stats.shaped_min
        divisor = (stats.shaped_max - stats.shaped_min) or 1.0
    elif scale == "robust" and stats.shaped_quartiles is not None:
        q1, median, q3 = stats.shaped_quartiles
        offset = median
        divisor = (q3 - q1) or 1.0
    clip_low, clip_high = options.get("clip") or (None, None)
    bucketize = options.get("bucketize") or {}
    edges = bucketize.get("edges")
    if "quantiles" in bucketize:
        edges = stats.shaped_edges or ()
    return NumericParams(
        name=name, fill=fill, offset=float(offset), divisor=float(divisor), count=stats.count,
        mean=stats.mean, std=stats.std, min=stats.min, max=stats.max, median=stats.median,
        clip_low=clip_low, clip_high=clip_high, log=bool(options.get("log")),
        edges=None if edges is None else tuple(float(e) for e in edges),
    )  # fmt: skip


def _categorical_params(name: str, stats: Any, options: Mapping[str, Any]) -> CategoricalParams:
    counts = dict(stats.counts)
    if options["impute"] == "constant" and stats.missing:
        counts[MISSING_CATEGORY] = counts.get(MISSING_CATEGORY, 0) + stats.missing
    frequent = [(value, count) for value, count in counts.items() if count >= options["min_frequency"]]
    ranked = sorted(frequent, key=lambda item: (-item[1], item[0]))[: options["top_k"]]
    vocabulary = tuple(value for value, _ in ranked)
    if options["impute"] == "constant":
        fill: str | None = MISSING_CATEGORY
    else:
        fill = vocabulary[0] if vocabulary else None
    return CategoricalParams(
        name=name,
        vocabulary=vocabulary,
        counts=tuple(count for _, count in ranked),
        missing=stats.missing,
        fill=fill,
        encode=options["encode"],
        buckets=options["buckets"] if options["encode"] == "hash" else 0,
    )


@dataclass(frozen=True)
class FittedTransform:
    """Frozen analyzer results; applying it is pure arithmetic, with no data access and no fitting."""

    spec: TransformSpec
    rows: int
    numeric: tuple[NumericParams, ...]
    categorical: tuple[CategoricalParams, ...]
    crosses: tuple[CrossParams, ...] = ()
    dates: tuple[DateParams, ...] = ()

    FORMAT: ClassVar[str] = FORMAT
    FORMAT_VERSION: ClassVar[int] = FORMAT_VERSION

    @property
    def input_columns(self) -> list[str]:
        """The raw columns the transform reads: numeric, categorical, then timestamp columns."""
        return [p.name for p in (*self.numeric, *self.categorical, *self.dates)]

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
            "format_version": FORMAT_VERSION,
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
            transform = cls(
                spec=spec, rows=int(d["rows"]), numeric=numeric, categorical=categorical, crosses=crosses, dates=dates
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"transform description is malformed: {exc!r}") from exc
        if [p.name for p in numeric] != spec.numeric or [p.name for p in categorical] != spec.categorical:
            raise DataError("transform description is malformed: fitted columns do not match its spec")
        return transform


def fit_transform(train: Path, spec: TransformSpec) -> FittedTransform:
    """Fit ``spec`` on the Parquet file ``train`` with one DuckDB pass over the data."""
    from modelyard.features.analyzers import summarize

    numeric_options = {n: spec.numeric_options(n) for n in spec.numeric}
    summary = summarize(Path(train), spec.numeric, spec.categorical, numeric_options)
    return FittedTransform(
        spec=spec,
        rows=summary.rows,
        numeric=tuple(_numeric_params(n, summary.numeric[n], numeric_options[n]) for n in spec.numeric),
        categorical=tuple(
            _categorical_params(n, summary.categorical[n], spec.categorical_options(n)) for n in spec.categorical
        ),
        crosses=tuple(CrossParams(tuple(c["columns"]), c["buckets"]) for c in spec.crosses),
        dates=tuple(DateParams(d["column"], tuple(d["parts"])) for d in spec.dates),
    )
