"""Request bodies of the three protocols turned into records, and predictions turned into their responses.

Every dialect ends in the same place: a list of records (one mapping per row) that the model package checks
against its signature. Only the *shape* of a body is checked here (is ``inputs`` a list, do the tensor shapes
match their data); field types, missing fields and domains are the signature's job, so a wrong value gets
the same words whichever protocol carried it.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import repeat
from typing import Any

from modelyard.errors import ValidationFailed, did_you_mean
from modelyard.serve.status import BadRequest

V2_TYPES = {
    "BOOL": bool,
    **{f"{s}INT{b}": int for s in ("", "U") for b in (8, 16, 32, 64)},
    **{f"FP{b}": float for b in (16, 32, 64)},
    "BYTES": str,
}
_DATATYPE_OF = {"int": "INT64", "float": "FP64", "string": "BYTES", "bool": "BOOL", "timestamp": "BYTES"}
PROBABILITIES = "probabilities"


def datatype_of(kind: str) -> str:
    """The Open Inference Protocol datatype for a signature type (timestamps travel as ISO strings)."""
    return _DATATYPE_OF.get(kind, "BYTES")


@dataclass(frozen=True)
class CsvBody:
    """A ``text/csv`` request body (MLflow's /invocations accepts one): a header row, then one row per record."""

    text: str


def csv_records(body: CsvBody, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records from CSV text, each cell read as its signature type (CSV has no types of its own).

    An empty cell is a missing value; a cell that is not a number where the signature wants one is left as
    text so that the signature check names the record and field.
    """
    import csv
    import io

    reader = csv.DictReader(io.StringIO(body.text))
    if not reader.fieldnames:
        raise BadRequest("the CSV body has no header row", hint="first line: the column names")
    kinds = {field["name"]: field.get("type") for field in inputs}
    records = []
    for row in reader:
        if None in row:
            raise BadRequest(f"CSV line {reader.line_num} has more cells than the header")
        records.append({name: _csv_cell(value, kinds.get(name)) for name, value in row.items()})
    if not records:
        raise BadRequest("the CSV body has a header but no rows")
    return records


def _csv_cell(value: str | None, kind: str | None) -> Any:
    if value is None or value == "":
        return None
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
    except ValueError:
        return value
    if kind == "bool" and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    return value


def _object(body: Any, what: str) -> Mapping[str, Any]:
    if type(body) is dict:  # what orjson gives: no ABC check
        return body
    if isinstance(body, CsvBody):
        raise BadRequest(f"this route takes a JSON object ({what}); text/csv is accepted on /invocations only")
    if not isinstance(body, Mapping):
        raise BadRequest(f"the request body must be a JSON object ({what}), got a JSON {_json_kind(body)}")
    return body


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return "number" if isinstance(value, int | float) else "object"


def _flatten(data: Any, out: list[Any]) -> None:
    for item in data:
        if isinstance(item, list):
            _flatten(item, out)
        else:
            out.append(item)


def _fits(value: Any, kind: type) -> bool:
    if value is None:
        return True  # a missing value is the signature's decision (nullable or not)
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return isinstance(value, str)


def _tensor(spec: Any, index: int) -> tuple[str, list[int], list[Any]]:
    """(name, shape, flat data) of one V2 input tensor; BadRequest when the tensor contradicts itself."""
    where = f"inputs[{index}]"
    if not isinstance(spec, Mapping):
        raise BadRequest(f"{where} must be an object with name, shape, datatype and data")
    missing = [key for key in ("name", "shape", "datatype", "data") if key not in spec]
    if missing:
        raise BadRequest(
            f"{where} has no {', '.join(missing)}", hint="each input tensor needs name, shape, datatype, data"
        )
    name, shape, datatype, data = spec["name"], spec["shape"], spec["datatype"], spec["data"]
    if not isinstance(name, str):
        raise BadRequest(f"{where}.name must be a string")
    where = f"input '{name}'"
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise BadRequest(f"{where}: shape must be a list of non-negative whole numbers, got {shape!r}")
    if datatype not in V2_TYPES:
        raise BadRequest(f"{where}: unknown datatype {datatype!r}", hint=did_you_mean(str(datatype), V2_TYPES))
    if not isinstance(data, list):
        raise BadRequest(f"{where}: data must be a JSON array (binary tensor data is not supported)")
    flat: list[Any] = []
    _flatten(data, flat)
    expected = math.prod(shape)
    if len(flat) != expected:
        raise BadRequest(f"{where}: shape {shape} holds {expected} element(s) but data has {len(flat)}")
    kind = V2_TYPES[datatype]
    bad = [(i, v) for i, v in enumerate(flat) if not _fits(v, kind)]
    if bad:
        problems = [f"input '{name}', element {i}: {v!r} is not a {datatype} value" for i, v in bad[:20]]
        raise ValidationFailed(
            f"input '{name}' is declared {datatype} but {len(bad)} element(s) are not: {problems[0]}",
            problems=problems,
        )
    return name, shape, flat


def v2_records(body: Any, fields: list[str]) -> list[dict[str, Any]]:
    """Records from an inference request: one tensor per signature field (shape [N] or [N, 1]), or a single
    [N, F] tensor whose columns are the signature's inputs in order."""
    body = _object(body, 'an inference request with "inputs"')
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise BadRequest('an inference request needs a non-empty "inputs" list of tensors')
    tensors = [_tensor(spec, i) for i, spec in enumerate(inputs)]
    names = [name for name, _, _ in tensors]
    if len(tensors) == 1 and names[0] not in fields:
        _, shape, flat = tensors[0]
        if len(shape) == 2 and shape[1] == len(fields):
            return [dict(zip(fields, flat[r * shape[1] : (r + 1) * shape[1]], strict=True)) for r in range(shape[0])]
    unknown = [name for name in names if name not in fields]
    if unknown:
        problems = [f"input '{n}': the model has no such input ({did_you_mean(n, fields)})" for n in unknown]
        raise ValidationFailed(f"unknown input(s) {', '.join(unknown)}", problems=problems)
    if len(set(names)) != len(names):
        raise BadRequest("an input tensor is named twice")
    rows = {shape[0] if shape else 1 for _, shape, _ in tensors}
    for name, shape, _ in tensors:
        if len(shape) > 2 or (len(shape) == 2 and shape[1] != 1):
            raise BadRequest(f"input '{name}': a column tensor has shape [N] or [N, 1], got {shape}")
    if len(rows) != 1:
        raise BadRequest(f"the input tensors have different numbers of rows: {sorted(rows)}")
    count = rows.pop()
    columns = {name: flat for name, _, flat in tensors}
    return [{name: values[r] for name, values in columns.items()} for r in range(count)]


def v2_requested_outputs(body: Mapping[str, Any], label: str, can_proba: bool) -> list[str]:
    """The output names the request asks for (default: the prediction only)."""
    requested = body.get("outputs")
    if requested is None:
        return [label]
    if not isinstance(requested, list) or not all(
        isinstance(o, Mapping) and isinstance(o.get("name"), str) for o in requested
    ):
        raise BadRequest('"outputs" must be a list of objects with a "name"')
    known = [label, PROBABILITIES] if can_proba else [label]
    names = [o["name"] for o in requested]
    for name in names:
        if name not in known:
            raise BadRequest(f"the model has no output '{name}'", hint=did_you_mean(name, known))
    return names or [label]


def v2_response(
    *,
    model: str,
    version: str,
    request_id: Any,
    label: str,
    kind: str,
    predictions: list[Any],
    probabilities: list[dict[str, float]] | None,
) -> dict[str, Any]:
    outputs = []
    if predictions is not None:
        data = [v.isoformat() if hasattr(v, "isoformat") else v for v in predictions]
        outputs.append({"name": label, "shape": [len(data)], "datatype": datatype_of(kind), "data": data})
    if probabilities is not None:
        classes = list(probabilities[0]) if probabilities else []
        flat = [row[c] for row in probabilities for c in classes]
        outputs.append(
            {
                "name": PROBABILITIES,
                "shape": [len(probabilities), len(classes)],
                "datatype": "FP64",
                "parameters": {"classes": classes},
                "data": flat,
            }
        )
    return {
        "model_name": model,
        "model_version": version,
        "id": request_id if isinstance(request_id, str) else str(uuid.uuid4()),
        "outputs": outputs,
    }


def _rows_from_lists(rows: list[Any], fields: list[str], what: str) -> list[dict[str, Any]]:
    width = len(fields)
    if all(type(row) is list and len(row) == width for row in rows):  # the common shape, without ABC checks
        return [dict(zip(fields, row, strict=True)) for row in rows]
    out = []
    for i, row in enumerate(rows):
        if isinstance(row, Mapping):
            out.append(dict(row))
        elif isinstance(row, list):
            if len(row) != len(fields):
                raise BadRequest(
                    f"{what}[{i}] has {len(row)} value(s); the model takes {len(fields)} ({', '.join(fields)})"
                )
            out.append(dict(zip(fields, row, strict=True)))
        else:
            raise BadRequest(f"{what}[{i}] must be an object (field: value) or a list, got a JSON {_json_kind(row)}")
    return out


def _columnar(columns: Any, fields: list[str], what: str) -> list[dict[str, Any]]:
    """Rows from ``{"field": [values...]}``; a list here is taken as rows, as both MLflow and TF-Serving do."""
    if isinstance(columns, list):
        return _rows_from_lists(columns, fields, what)
    if not isinstance(columns, Mapping) or not columns:
        raise BadRequest(f'"{what}" must map each input name to a list of values', hint='e.g. {"x": [1, 2]}')
    lengths = {name: len(values) if isinstance(values, list) else 1 for name, values in columns.items()}
    if len(set(lengths.values())) != 1:
        raise BadRequest(f"the columns in {what} have different lengths: {lengths}")
    count = next(iter(lengths.values()))
    return [
        {name: (values[r] if isinstance(values, list) else values) for name, values in columns.items()}
        for r in range(count)
    ]


def tf_records(body: Any, fields: list[str]) -> list[dict[str, Any]]:
    """TF-Serving's predict body: ``instances`` (row format) or ``inputs`` (columnar format)."""
    body = _object(body, 'with "instances" or "inputs"')
    if ("instances" in body) == ("inputs" in body):
        raise BadRequest('a predict request has exactly one of "instances" (rows) or "inputs" (columns)')
    if "instances" in body:
        instances = body["instances"]
        if not isinstance(instances, list):
            raise BadRequest('"instances" must be a list of records')
        return _rows_from_lists(instances, fields, "instances")
    return _columnar(body["inputs"], fields, "inputs")


MLFLOW_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")


def mlflow_records(body: Any, fields: list[str]) -> list[dict[str, Any]]:
    """MLflow's ``/invocations`` JSON: exactly one of dataframe_split, dataframe_records, instances, inputs."""
    body = _object(body, "with one of " + ", ".join(MLFLOW_KEYS))
    present = [key for key in MLFLOW_KEYS if key in body]
    if len(present) != 1:
        found = ", ".join(present) or ", ".join(sorted(map(str, body))) or "nothing"
        raise BadRequest(
            f"an /invocations body has exactly one of {', '.join(MLFLOW_KEYS)}; found {found}",
            hint='e.g. {"dataframe_records": [{"field": 1}]}',
        )
    key = present[0]
    value = body[key]
    if key == "dataframe_split":
        if not (type(value) is dict or isinstance(value, Mapping)) or not isinstance(value.get("data"), list):
            raise BadRequest('"dataframe_split" needs "columns" and "data" (a list of rows)')
        columns = value.get("columns", fields)
        if columns != fields and (not isinstance(columns, list) or not all(map(isinstance, columns, repeat(str)))):
            raise BadRequest('"dataframe_split.columns" must be a list of column names')
        return _rows_from_lists(value["data"], columns, "dataframe_split.data")
    if key == "dataframe_records":
        if not isinstance(value, list):
            raise BadRequest('"dataframe_records" must be a list of records')
        return _rows_from_lists(value, fields, "dataframe_records")
    if key == "instances":
        if not isinstance(value, list):
            raise BadRequest('"instances" must be a list of records')
        return _rows_from_lists(value, fields, "instances")
    return _columnar(value, fields, "inputs")
