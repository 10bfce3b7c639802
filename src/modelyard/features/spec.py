"""What a transform does, declared per column or column group, checked before any data is read.

Defaults apply to every column of a kind; ``features`` entries override them for a column or a group::

    numeric: [bill_length_mm, bill_depth_mm, body_mass_g]     # or derived from the schema types
    categorical: [island, sex]
    scale: zscore                       # default for numbers: zscore | minmax | robust | none
    features:
      - columns: [body_mass_g]
        clip: [2500, 6500]              # bounds (either may be null), applied after imputation
        log: true                       # sign(x) * log(1 + |x|), after clipping
        bucketize: {quantiles: 4}       # or {edges: [3500, 4500]}: one indicator per bucket
      - columns: [bill_length_mm, bill_depth_mm]
        impute: median                  # mean | median | most_frequent | zero | constant (+ fill_value)
        scale: robust                   # (x - median) / IQR
      - columns: [island]
        encode: onehot                  # onehot | ordinal | hash (+ buckets)
        top_k: 10
        min_frequency: 5                # rarer values go to the out-of-vocabulary bucket
    crosses:
      - {columns: [island, sex], buckets: 16}    # hashed feature cross
    dates:
      - {column: observed_at, parts: [year, month, day_of_week, hour]}   # numbers from a timestamp
    functions:                          # user Python functions -> numeric features (modelyard.features.functions)
      - {function: features.py:bmi, columns: [body_mass_g, flipper_length_mm], output: mass_per_flipper}

Why declared data rather than code: the spec is stored in the fitted transform and the model
package, so a reviewer (or ``yard models diff``) can read exactly what a model's features were.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from modelyard.errors import Location, UsageError, did_you_mean
from modelyard.features.code import split_function_ref

SCALES = ("zscore", "minmax", "robust", "none")
NUMERIC_IMPUTES = ("mean", "median", "most_frequent", "zero", "constant")
CATEGORICAL_IMPUTES = ("most_frequent", "constant")
ENCODINGS = ("onehot", "ordinal", "hash")
NUMERIC_OPTIONS = ("impute", "fill_value", "clip", "log", "scale", "bucketize")
CATEGORICAL_OPTIONS = ("impute", "encode", "top_k", "min_frequency", "buckets")
MAX_QUANTILE_BUCKETS = 100
DATE_PARTS = ("year", "month", "day", "day_of_week", "day_of_year", "hour", "minute")
FUNCTION_MODES = ("row", "batch")
_FUNCTION_KEYS = ("function", "mode", "columns", "output")


def choice(value: Any, choices: tuple[str, ...], what: str, where: str | None = None) -> str:
    if value not in choices:
        raise UsageError(
            f"unknown {what} {value!r}; choose one of {', '.join(choices)}",
            where=Location(field=where or what),
            hint=did_you_mean(str(value), choices),
        )
    return str(value)


def whole(value: Any, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"'{what}' must be a whole number", where=Location(field=what))
    if value < minimum:
        raise UsageError(f"'{what}' must be at least {minimum}, got {value}", where=Location(field=what))
    return value


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise UsageError(f"'{what}' must be a finite number, got {value!r}", where=Location(field=what))
    return float(value)


def check_numeric_options(options: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Validated numeric options with canonical shapes (clip as [lo|None, hi|None], bucketize as a dict)."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        field = f"{where}.{key}"
        if key not in NUMERIC_OPTIONS:
            raise UsageError(
                f"'{key}' is not an option for a numeric column",
                where=Location(field=field),
                hint=did_you_mean(key, NUMERIC_OPTIONS) or "numeric options: " + ", ".join(NUMERIC_OPTIONS),
            )
        if key == "impute":
            out[key] = choice(value, NUMERIC_IMPUTES, "impute", field)
        elif key == "scale":
            out[key] = choice(value, SCALES, "scale", field)
        elif key == "fill_value":
            out[key] = _number(value, field)
        elif key == "log":
            if not isinstance(value, bool):
                raise UsageError("'log' is true or false", where=Location(field=field))
            out[key] = value
        elif key == "clip":
            if not isinstance(value, list | tuple) or len(value) != 2:
                raise UsageError("'clip' is [low, high] (either may be null)", where=Location(field=field))
            low, high = (None if v is None else _number(v, field) for v in value)
            if low is not None and high is not None and low > high:
                raise UsageError(f"'clip' low {low} is above high {high}", where=Location(field=field))
            out[key] = [low, high]
        else:  # bucketize
            out[key] = _bucketize(value, field)
    if out.get("impute") == "constant" and "fill_value" not in out:
        raise UsageError("impute: constant needs a 'fill_value'", where=Location(field=f"{where}.fill_value"))
    return out


def _bucketize(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, Mapping) or len(value) != 1 or not ({"edges", "quantiles"} & set(value)):
        raise UsageError(
            "'bucketize' is {edges: [..]} or {quantiles: N}", where=Location(field=field), hint="e.g. {quantiles: 4}"
        )
    if "edges" in value:
        edges = value["edges"]
        if not isinstance(edges, list | tuple) or not edges:
            raise UsageError("'edges' is a non-empty list of numbers", where=Location(field=field))
        numbers = [_number(e, field) for e in edges]
        if numbers != sorted(set(numbers)):
            raise UsageError("'edges' must be strictly increasing", where=Location(field=field))
        return {"edges": numbers}
    return {"quantiles": whole(value["quantiles"], f"{field}.quantiles", 2)}


def check_categorical_options(options: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in options.items():
        field = f"{where}.{key}"
        if key not in CATEGORICAL_OPTIONS:
            raise UsageError(
                f"'{key}' is not an option for a categorical column",
                where=Location(field=field),
                hint=did_you_mean(key, CATEGORICAL_OPTIONS) or "categorical options: " + ", ".join(CATEGORICAL_OPTIONS),
            )
        if key == "impute":
            out[key] = choice(value, CATEGORICAL_IMPUTES, "impute", field)
        elif key == "encode":
            out[key] = choice(value, ENCODINGS, "encode", field)
        else:
            out[key] = whole(value, field, 1)
    return out


def check_features(entries: Any, numeric: Sequence[str], categorical: Sequence[str]) -> list[dict[str, Any]]:
    """Per-column/group overrides: each entry names ``columns`` of one kind and that kind's options."""
    if not isinstance(entries, list | tuple):
        raise UsageError("'features' is a list of {columns: [..], option: value}", where=Location(field="features"))
    out = []
    for i, entry in enumerate(entries):
        where = f"features[{i}]"
        if not isinstance(entry, Mapping) or "columns" not in entry:
            hint = "e.g. {columns: [a], log: true}"
            raise UsageError(f"{where} needs 'columns'", where=Location(field=where), hint=hint)
        columns = entry["columns"]
        columns = [columns] if isinstance(columns, str) else columns
        if not isinstance(columns, list | tuple) or not columns or not all(isinstance(c, str) for c in columns):
            raise UsageError(f"{where}.columns is a list of column names", where=Location(field=where))
        kinds = set()
        for name in columns:
            if name in numeric:
                kinds.add("numeric")
            elif name in categorical:
                kinds.add("categorical")
            else:
                raise UsageError(
                    f"{where} names column '{name}', which is not a feature of this transform",
                    where=Location(field=f"{where}.columns", column=name),
                    hint=did_you_mean(name, [*numeric, *categorical]),
                )
        if len(kinds) > 1:
            raise UsageError(f"{where} mixes numeric and categorical columns; split it", where=Location(field=where))
        options = {k: v for k, v in entry.items() if k != "columns"}
        checked = (
            check_numeric_options(options, where) if kinds == {"numeric"} else check_categorical_options(options, where)
        )
        out.append({"columns": list(columns), **checked})
    return out


def check_crosses(entries: Any, categorical: Sequence[str]) -> list[dict[str, Any]]:
    if not isinstance(entries, list | tuple):
        raise UsageError("'crosses' is a list of {columns: [a, b], buckets: N}", where=Location(field="crosses"))
    out = []
    for i, entry in enumerate(entries):
        where = f"crosses[{i}]"
        if isinstance(entry, list | tuple):
            entry = {"columns": list(entry)}
        if not isinstance(entry, Mapping) or set(entry) - {"columns", "buckets"} or "columns" not in entry:
            raise UsageError(f"{where} is {{columns: [a, b], buckets: N}}", where=Location(field=where))
        columns = entry["columns"]
        if not isinstance(columns, list | tuple) or len(columns) < 2:
            raise UsageError(f"{where} crosses at least two columns", where=Location(field=where))
        for name in columns:
            if name not in categorical:
                raise UsageError(
                    f"{where} crosses '{name}', which is not a categorical feature",
                    where=Location(field=where, column=str(name)),
                    hint=did_you_mean(str(name), categorical) or "cross categorical columns (bucketize numbers first)",
                )
        out.append({"columns": list(columns), "buckets": whole(entry.get("buckets", 32), f"{where}.buckets", 2)})
    return out


def check_dates(entries: Any, taken: Sequence[str]) -> list[dict[str, Any]]:
    """``dates`` entries: a timestamp column and the parts to extract (each one numeric feature)."""
    if not isinstance(entries, list | tuple):
        raise UsageError(
            "'dates' is a list of {column: name, parts: [year, month, ...]}", where=Location(field="dates")
        )
    out = []
    for i, entry in enumerate(entries):
        where = f"dates[{i}]"
        if (
            not isinstance(entry, Mapping)
            or not isinstance(entry.get("column"), str)
            or set(entry) - {"column", "parts"}
        ):
            raise UsageError(f"{where} is {{column: name, parts: [..]}}", where=Location(field=where))
        if entry["column"] in taken:
            raise UsageError(f"{where}: column '{entry['column']}' is already a numeric or categorical feature")
        parts = entry.get("parts", ["year", "month", "day", "day_of_week"])
        if isinstance(parts, str) or not isinstance(parts, list | tuple) or not parts:
            raise UsageError(f"{where}.parts is a list, e.g. [year, month]", where=Location(field=f"{where}.parts"))
        out.append(
            {"column": entry["column"], "parts": [choice(p, DATE_PARTS, "date part", f"{where}.parts") for p in parts]}
        )
    return out


def _names(value: Any, where: str, what: str) -> list[str]:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not names or not all(isinstance(n, str) and n for n in names):
        raise UsageError(f"'{where}' is a {what} or a list of them", where=Location(field=where))
    if len(set(names)) != len(names):
        raise UsageError(f"'{where}' lists a name twice", where=Location(field=where))
    return list(names)


def check_functions(entries: Any, taken: Sequence[str]) -> list[dict[str, Any]]:
    """Canonical ``functions`` entries (``output`` always a list); ``taken`` are the spec's column names."""
    if not isinstance(entries, list | tuple):
        raise UsageError(
            "'functions' is a list of {function: file.py:fn, columns: [..], output: name}",
            where=Location(field="functions"),
        )
    out: list[dict[str, Any]] = []
    produced: dict[str, int] = {}
    for i, entry in enumerate(entries):
        where = f"functions[{i}]"
        if not isinstance(entry, Mapping):
            raise UsageError(
                f"{where} is {{function: file.py:fn, columns: [..], output: name}}", where=Location(field=where)
            )
        for key in entry:
            if key not in _FUNCTION_KEYS:
                raise UsageError(
                    f"'{key}' is not a key of a function transform",
                    where=Location(field=f"{where}.{key}"),
                    hint=did_you_mean(str(key), _FUNCTION_KEYS),
                )
        for key in ("function", "columns", "output"):
            if key not in entry:
                raise UsageError(f"{where} needs '{key}'", where=Location(field=f"{where}.{key}"),
                                 hint="e.g. {function: features.py:bmi, columns: [a, b], output: bmi}")  # fmt: skip
        split_function_ref(entry["function"], f"{where}.function")
        mode = entry.get("mode", "row")
        if mode not in FUNCTION_MODES:
            raise UsageError(
                f"unknown mode {mode!r}; choose one of {', '.join(FUNCTION_MODES)}",
                where=Location(field=f"{where}.mode"),
                hint=did_you_mean(str(mode), FUNCTION_MODES),
            )
        columns = _names(entry["columns"], f"{where}.columns", "column name")
        outputs = _names(entry["output"], f"{where}.output", "feature name")
        for name in outputs:
            if name in taken or name in columns:
                raise UsageError(
                    f"{where} output '{name}' clashes with a column of the same name",
                    where=Location(field=f"{where}.output", column=name),
                    hint="give the new feature a name of its own",
                )
            if name in produced:
                raise UsageError(
                    f"{where} output '{name}' is also an output of functions[{produced[name]}]",
                    where=Location(field=f"{where}.output", column=name),
                )
            produced[name] = i
        out.append({"function": entry["function"], "mode": mode, "columns": columns, "output": outputs})
    for i, entry in enumerate(out):
        for name in entry["columns"]:
            if name in produced:
                raise UsageError(
                    f"functions[{i}] reads '{name}', the output of functions[{produced[name]}]",
                    where=Location(field=f"functions[{i}].columns", column=name),
                    hint="functions read raw columns; compute both values in one function",
                )
    return out


def check_function_columns(entries: Any, columns: Mapping[str, str]) -> None:
    """Against the raw input (name -> type): inputs must exist, outputs must not reuse a column name."""
    for i, entry in enumerate(entries or []):
        if not isinstance(entry, Mapping):
            continue  # the spec check reports the shape
        names = entry.get("columns")
        for name in [names] if isinstance(names, str) else names or []:
            if name not in columns:
                raise UsageError(
                    f"functions[{i}] reads column {name!r}, which the input does not have",
                    where=Location(field=f"functions[{i}].columns", column=str(name)),
                    hint=did_you_mean(str(name), columns),
                )
        outputs = entry.get("output")
        for name in [outputs] if isinstance(outputs, str) else outputs or []:
            if name in columns:
                raise UsageError(
                    f"functions[{i}] output '{name}' clashes with the input column '{name}'",
                    where=Location(field=f"functions[{i}].output", column=str(name)),
                    hint="give the new feature a name of its own",
                )


def outputs_of(entries: Sequence[Mapping[str, Any]]) -> list[str]:
    return [name for entry in entries for name in entry["output"]]
