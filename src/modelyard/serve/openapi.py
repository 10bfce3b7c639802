"""The OpenAPI description served at ``/openapi.json``, built from the served models' signatures.

Built by hand rather than from Pydantic models because the request path deliberately has none; each model's
signature becomes the schema of its records, so a generated client knows the field names and types.
"""

from __future__ import annotations

from typing import Any

_JSON_TYPE = {"int": "integer", "float": "number", "string": "string", "bool": "boolean", "timestamp": "string"}


def _record_schema(signature: dict[str, Any]) -> dict[str, Any]:
    properties = {}
    for field in signature.get("inputs", []):
        prop: dict[str, Any] = {"type": _JSON_TYPE[field["type"]]}
        if field.get("nullable", True):
            prop["nullable"] = True
        domain = field.get("domain")
        if isinstance(domain, list):
            prop["enum"] = domain
        elif isinstance(domain, dict):
            prop.update({("minimum" if k == "min" else "maximum"): v for k, v in domain.items()})
        properties[field["name"]] = prop
    required = [f["name"] for f in signature.get("inputs", []) if not f.get("nullable", True)]
    return {"type": "object", "properties": properties, "required": required}


def _op(summary: str, body: str | None = None, ok: str = "#/components/schemas/Predictions") -> dict[str, Any]:
    errors = {
        code: {"description": text, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for code, text in (
            ("400", "malformed request"),
            ("404", "unknown model or version"),
            ("413", "payload too large"),
            ("422", "inputs do not match the signature"),
            ("503", "model not ready"),
        )
    }
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {
            "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": ok}}}},
            **errors,
        },
    }
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": {"$ref": body}}}}
    return op


def openapi_document(models: dict[str, dict[str, Any]], version: str) -> dict[str, Any]:
    """``models`` maps each served name to its signature."""
    name_param = {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "enum": list(models)}}
    version_param = {"name": "version", "in": "path", "required": True, "schema": {"type": "string"}}
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "properties": {"error": {"type": "string"}, "problems": {"type": "array", "items": {"type": "string"}}},
        },
        "Predictions": {"type": "object", "properties": {"predictions": {"type": "array", "items": {}}}},
        "Tensor": {
            "type": "object",
            "required": ["name", "shape", "datatype", "data"],
            "properties": {
                "name": {"type": "string"},
                "shape": {"type": "array", "items": {"type": "integer"}},
                "datatype": {"type": "string"},
                "parameters": {"type": "object"},
                "data": {"type": "array", "items": {}},
            },
        },
        "InferenceRequest": {
            "type": "object",
            "required": ["inputs"],
            "properties": {
                "id": {"type": "string"},
                "parameters": {"type": "object"},
                "inputs": {"type": "array", "items": {"$ref": "#/components/schemas/Tensor"}},
                "outputs": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
            },
        },
        "InferenceResponse": {
            "type": "object",
            "properties": {
                "model_name": {"type": "string"},
                "model_version": {"type": "string"},
                "id": {"type": "string"},
                "outputs": {"type": "array", "items": {"$ref": "#/components/schemas/Tensor"}},
            },
        },
        "PredictRequest": {
            "type": "object",
            "properties": {"instances": {"type": "array", "items": {"type": "object"}}, "inputs": {"type": "object"}},
        },
        "InvocationsRequest": {
            "type": "object",
            "properties": {
                "dataframe_split": {"type": "object"},
                "dataframe_records": {"type": "array", "items": {"type": "object"}},
                "instances": {"type": "array"},
                "inputs": {},
            },
        },
    }
    for name, signature in models.items():
        schemas[f"{name}.record"] = _record_schema(signature)
    infer = _op(
        "Open Inference Protocol inference",
        "#/components/schemas/InferenceRequest",
        "#/components/schemas/InferenceResponse",
    )
    health = {
        "get": {"summary": "health", "responses": {"200": {"description": "true"}, "503": {"description": "false"}}}
    }
    paths = {
        "/v2/health/live": health,
        "/v2/health/ready": health,
        "/v2": {"get": {"summary": "server metadata", "responses": {"200": {"description": "ok"}}}},
        "/v2/models/{name}": {
            "get": {
                "summary": "model metadata",
                "parameters": [name_param],
                "responses": {"200": {"description": "ok"}, "404": {"description": "unknown"}},
            }
        },
        "/v2/models/{name}/ready": {"get": {**health["get"], "parameters": [name_param]}},
        "/v2/models/{name}/infer": {"post": {**infer, "parameters": [name_param]}},
        "/v2/models/{name}/versions/{version}/infer": {"post": {**infer, "parameters": [name_param, version_param]}},
        "/v1/models/{name}:predict": {
            "post": {**_op("TF-Serving predict", "#/components/schemas/PredictRequest"), "parameters": [name_param]}
        },
        "/invocations": {
            "post": _op("MLflow scoring (the first served model)", "#/components/schemas/InvocationsRequest")
        },
        "/ping": {"get": {"summary": "MLflow health", "responses": {"200": {"description": "ready"}}}},
        "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text format"}}}},
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "modelyard inference server",
            "version": version,
            "description": "Serves: " + ", ".join(models),
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }
