"""Property: applying a fitted transform to a batch gives, row for row, the bytes the per-record path gives.

This is the "no training/serving skew" promise: training and batch scoring use ``apply_batch``, a
server answering one request uses ``apply_record``. Random training frames (with nulls and NaN) are
fitted with random specs; random serving rows (with nulls, NaN, infinities, dropped keys and categories
never seen in training) are then pushed through every input form: records, DataFrame, Arrow table.
Specs may include user functions (``feature_functions.py``): a row function over any columns and a batch
function over numeric columns, whose outputs may themselves be clipped, logged, scaled or bucketized.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.features.code import bind_code, code_files
from modelyard.features.params import CrossParams
from modelyard.features.transform import FittedTransform, TransformSpec, fit_transform

ARROW_TYPES = {
    "float": pa.float64(), "int": pa.int64(), "bool": pa.bool_(), "string": pa.string(), "ts": pa.timestamp("us"),
}  # fmt: skip
HERE = Path(__file__).parent
moments = st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2200, 1, 1))
SEEN_WORDS = ["a", "b", "c", "d", "e"]
UNSEEN_WORDS = ["zz", "", "Ω"]

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
missing = st.sampled_from([None, math.nan])


def train_values(kind: str) -> st.SearchStrategy:
    if kind == "ts":
        return st.one_of(st.none(), moments)
    if kind == "float":
        return st.one_of(missing, finite)
    if kind == "int":
        return st.one_of(st.none(), st.integers(-(10**6), 10**6))
    if kind == "bool":
        return st.one_of(st.none(), st.booleans())
    if kind == "string":
        return st.one_of(st.none(), st.sampled_from(SEEN_WORDS))
    return st.one_of(st.none(), st.integers(0, 5))  # "code": an int column used as a category


def serve_values(kind: str) -> st.SearchStrategy:
    if kind == "ts":
        return st.one_of(st.none(), moments)
    if kind == "float":
        return st.one_of(missing, finite, st.floats(allow_nan=False), st.just(math.inf))
    if kind == "int":
        return st.one_of(st.none(), st.integers(-(2**62), 2**62))
    if kind == "bool":
        return st.one_of(st.none(), st.booleans())
    if kind == "string":
        return st.one_of(st.none(), st.sampled_from(SEEN_WORDS + UNSEEN_WORDS))
    return st.one_of(st.none(), st.integers(0, 9))


@st.composite
def numeric_options(draw: st.DrawFn) -> dict:
    """Random per-column numeric options: impute, clip, log, scale or bucketize, in any combination."""
    options: dict = {}
    if draw(st.booleans()):
        options["impute"] = draw(st.sampled_from(["mean", "median", "most_frequent", "zero", "constant"]))
        if options["impute"] == "constant":
            options["fill_value"] = draw(finite)
    if draw(st.booleans()):
        low, high = sorted([draw(finite), draw(finite)])
        options["clip"] = [draw(st.sampled_from([low, None])), draw(st.sampled_from([high, None]))]
    if draw(st.booleans()):
        options["log"] = True
    if draw(st.booleans()):
        options["scale"] = draw(st.sampled_from(["zscore", "minmax", "robust", "none"]))
    elif draw(st.booleans()):
        if draw(st.booleans()):
            options["bucketize"] = {"quantiles": draw(st.integers(2, 5))}
        else:
            edges = sorted(set(draw(st.lists(finite, min_size=1, max_size=4))))
            options["bucketize"] = {"edges": edges}
    return options


@st.composite
def categorical_options(draw: st.DrawFn) -> dict:
    options: dict = {"encode": draw(st.sampled_from(["onehot", "ordinal", "hash"]))}
    if draw(st.booleans()):
        options["top_k"] = draw(st.integers(1, 5))
    if draw(st.booleans()):
        options["min_frequency"] = draw(st.integers(1, 4))
    if options["encode"] == "hash":
        options["buckets"] = draw(st.integers(2, 7))
    return options


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dict[str, str], TransformSpec, list[dict], list[dict]]:
    numeric_kinds = draw(st.lists(st.sampled_from(["float", "int", "bool"]), max_size=3))
    categorical_kinds = draw(st.lists(st.sampled_from(["string", "code"]), max_size=3))
    if not numeric_kinds and not categorical_kinds:
        numeric_kinds = ["float"]
    columns = {f"n{i}": kind for i, kind in enumerate(numeric_kinds)}
    columns |= {f"c{i}": kind for i, kind in enumerate(categorical_kinds)}
    dated = [f"t{i}" for i in range(draw(st.integers(0, 2)))]
    columns |= {name: "ts" for name in dated}
    parts = ["year", "month", "day", "day_of_week", "day_of_year", "hour", "minute"]
    numeric = [f"n{i}" for i in range(len(numeric_kinds))]
    categorical = [f"c{i}" for i in range(len(categorical_kinds))]
    features = [{"columns": [name], **draw(numeric_options())} for name in numeric if draw(st.booleans())]
    features += [{"columns": [name], **draw(categorical_options())} for name in categorical if draw(st.booleans())]
    functions = []
    if draw(st.booleans()):
        inputs = draw(st.lists(st.sampled_from(sorted(columns)), min_size=1, max_size=3, unique=True))
        if draw(st.booleans()):
            functions.append({"function": "feature_functions.py:row_mix", "columns": inputs, "output": "mix"})
        else:
            pair = {
                "function": "feature_functions.py:row_pair",
                "columns": inputs,
                "output": ["pair_count", "pair_mix"],
            }
            functions.append(pair)
    if numeric and draw(st.booleans()):
        inputs = draw(st.lists(st.sampled_from(numeric), min_size=1, max_size=3, unique=True))
        functions.append(
            {"function": "feature_functions.py:batch_mix", "mode": "batch", "columns": inputs, "output": ["b0", "b1"]}
        )
    outputs = [name for entry in functions for name in ([entry["output"]] if isinstance(entry["output"], str)
                                                        else entry["output"])]  # fmt: skip
    features += [{"columns": [name], **draw(numeric_options())} for name in outputs if draw(st.booleans())]
    crosses = []
    if len(categorical) >= 2 and draw(st.booleans()):
        crosses = [{"columns": draw(st.permutations(categorical))[:2], "buckets": draw(st.integers(2, 9))}]
    spec = TransformSpec(
        numeric=numeric,
        categorical=categorical,
        scale=draw(st.sampled_from(["zscore", "minmax", "robust", "none"])),
        impute_numeric=draw(st.sampled_from(["mean", "median", "most_frequent", "zero"])),
        impute_categorical=draw(st.sampled_from(["most_frequent", "constant"])),
        max_categories=draw(st.integers(1, 4)),
        min_frequency=draw(st.integers(1, 3)),
        encode=draw(st.sampled_from(["onehot", "ordinal", "hash"])),
        hash_buckets=draw(st.integers(2, 8)),
        features=features,
        crosses=crosses,
        dates=[
            {"column": name, "parts": draw(st.lists(st.sampled_from(parts), min_size=1, max_size=4))} for name in dated
        ],
        functions=functions,
    )
    train = draw(
        st.lists(st.fixed_dictionaries({n: train_values(k) for n, k in columns.items()}), min_size=1, max_size=25)
    )
    serve = draw(
        st.lists(st.fixed_dictionaries({n: serve_values(k) for n, k in columns.items()}), min_size=1, max_size=15)
    )
    # JSON clients leave out null fields: drop some keys from some serving records
    dropped = draw(st.lists(st.tuples(st.integers(0, len(serve) - 1), st.sampled_from(sorted(columns))), max_size=4))
    for row, name in dropped:
        serve[row].pop(name, None)
    return columns, spec, train, serve


def arrow_schema(columns: dict[str, str]) -> pa.Schema:
    return pa.schema([(n, ARROW_TYPES["int" if k == "code" else k]) for n, k in columns.items()])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_batch_rows_equal_single_records_bit_for_bit(scenario) -> None:
    columns, spec, train, serve = scenario
    schema = arrow_schema(columns)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.parquet"
        pq.write_table(pa.Table.from_pylist(train, schema=schema), path)
        fitted = fit_transform(path, spec, base_dir=HERE)
    # what the model package stores is what a server loads (its code bound from the stored bytes);
    # the round trip must not change a bit
    fitted = bind_code(FittedTransform.from_dict(fitted.to_dict()), code_files(fitted))

    singles = [fitted.apply_record(row) for row in serve]
    table = pa.Table.from_pylist(serve, schema=schema)
    batches = {
        "records": fitted.apply_batch(serve),
        "arrow": fitted.apply_batch(table),
        "pandas from arrow": fitted.apply_batch(table.to_pandas()),
        "pandas from records": fitted.apply_batch(pd.DataFrame(serve, columns=list(columns))),
    }
    width = len(fitted.feature_names_out)
    for form, batch in batches.items():
        assert batch.dtype == np.float64 and batch.shape == (len(serve), width), form
        for i, single in enumerate(singles):
            assert single.dtype == np.float64 and single.shape == (width,)
            message = f"{form}: row {i} differs: {batch[i].tolist()} != {single.tolist()}"
            assert batch[i].tobytes() == single.tobytes(), message

    # every indicator block (buckets, one-hot, hash, cross) lights exactly one indicator per row,
    # unseen values included; a missing value is imputed, never passed through as NaN
    start = 0
    for part in (*fitted.numeric, *fitted.categorical, *fitted.crosses):
        block = batches["records"][:, start : start + part.width]
        indicators = getattr(part, "edges", None) is not None or getattr(part, "encode", "ordinal") != "ordinal"
        if indicators or isinstance(part, CrossParams):
            assert (block.sum(axis=1) == 1.0).all(), part
        absent = [i for i, row in enumerate(serve) if (v := row.get(part.name)) is None or v != v]
        assert not np.isnan(block[absent]).any(), part.name
        start += part.width
