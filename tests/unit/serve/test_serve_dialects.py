"""Each protocol's body becomes the same records; a body that contradicts itself says where."""

from __future__ import annotations

import pytest

from modelyard.errors import ValidationFailed
from modelyard.serve import dialects
from modelyard.serve.status import BadRequest

FIELDS = ["a", "b"]
ROWS = [{"a": 1.0, "b": "x"}, {"a": 2.5, "b": "y"}]


def test_v2_column_tensors_nested_or_flat_give_records() -> None:
    body = {"inputs": [{"name": "a", "shape": [2, 1], "datatype": "FP32", "data": [[1.0], [2.5]]},
                       {"name": "b", "shape": [2], "datatype": "BYTES", "data": ["x", "y"]}]}  # fmt: skip
    assert dialects.v2_records(body, FIELDS) == ROWS


def test_v2_one_matrix_is_split_in_row_major_order_by_signature_fields() -> None:
    body = {"inputs": [{"name": "input-0", "shape": [2, 2], "datatype": "FP64", "data": [1, 2, 3, 4]}]}
    assert dialects.v2_records(body, FIELDS) == [{"a": 1, "b": 2}, {"a": 3, "b": 4}]


@pytest.mark.parametrize(
    ("tensor", "words"),
    [
        ({"name": "a", "shape": [2], "datatype": "FP64"}, "has no data"),
        ({"name": "a", "shape": [-1], "datatype": "FP64", "data": [1]}, "non-negative"),
        ({"name": "a", "shape": [2], "datatype": "FP65", "data": [1, 2]}, "did you mean 'FP64'"),
        ({"name": "a", "shape": [2], "datatype": "FP64", "data": "AAAA"}, "JSON array"),
        ({"name": "a", "shape": [2, 2], "datatype": "FP64", "data": [1, 2, 3, 4]}, "[N] or [N, 1]"),
    ],
)
def test_v2_tensor_shape_mistakes_are_bad_requests(tensor, words) -> None:
    with pytest.raises(BadRequest, match=words.replace("[", r"\[").replace("]", r"\]")):
        dialects.v2_records({"inputs": [tensor]}, FIELDS)


def test_v2_element_of_the_wrong_datatype_is_named() -> None:
    body = {"inputs": [{"name": "a", "shape": [3], "datatype": "INT64", "data": [1, "two", True]}]}
    with pytest.raises(ValidationFailed) as caught:
        dialects.v2_records(body, FIELDS)
    assert caught.value.problems == [
        "input 'a', element 1: 'two' is not a INT64 value",
        "input 'a', element 2: True is not a INT64 value",
    ]


def test_v2_columns_of_different_lengths_are_refused() -> None:
    body = {"inputs": [{"name": "a", "shape": [2], "datatype": "FP64", "data": [1, 2]},
                       {"name": "b", "shape": [1], "datatype": "BYTES", "data": ["x"]}]}  # fmt: skip
    with pytest.raises(BadRequest, match="different numbers of rows"):
        dialects.v2_records(body, FIELDS)


def test_tf_serving_rows_lists_and_columns_agree() -> None:
    assert dialects.tf_records({"instances": ROWS}, FIELDS) == ROWS
    assert dialects.tf_records({"instances": [[1.0, "x"], [2.5, "y"]]}, FIELDS) == ROWS
    assert dialects.tf_records({"inputs": {"a": [1.0, 2.5], "b": ["x", "y"]}}, FIELDS) == ROWS
    with pytest.raises(BadRequest, match="has 1 value"):
        dialects.tf_records({"instances": [[1.0]]}, FIELDS)


def test_mlflow_four_forms_agree_and_exactly_one_is_required() -> None:
    split = {"dataframe_split": {"columns": ["b", "a"], "data": [["x", 1.0], ["y", 2.5]], "index": [0, 1]}}
    for body in (
        split,
        {"dataframe_records": ROWS},
        {"instances": ROWS},
        {"inputs": {"a": [1.0, 2.5], "b": ["x", "y"]}},
    ):
        assert dialects.mlflow_records(body, FIELDS) == ROWS
    with pytest.raises(BadRequest, match="found dataframe_records, instances"):
        dialects.mlflow_records({"dataframe_records": ROWS, "instances": ROWS}, FIELDS)
    with pytest.raises(BadRequest, match="different lengths"):
        dialects.mlflow_records({"inputs": {"a": [1.0, 2.5], "b": ["x"]}}, FIELDS)
