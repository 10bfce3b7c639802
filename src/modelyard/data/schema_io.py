"""The schema as YAML: a file people read in review, edit by hand and keep in git.

Writing puts one block per column with only the keys that matter, lists on one line, and a header
that explains the keys, so a change to the contract is a small readable diff. Reading walks the YAML
node tree (not the plain loaded dict) so that every mistake, a misspelt key, a type that does not
exist, a number where a name belongs, is reported with the file, the line and a did-you-mean hint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelyard.core.schema import SCHEMA_VERSION, ColumnSchema, Environment, Schema
from modelyard.core.statistics import COLUMN_TYPES
from modelyard.errors import Location, NotFound, UsageError, did_you_mean

_HEADER = """\
# modelyard schema: the contract every new batch of data is checked against. Edit it and keep it in git.
# Per column:  type: int | float | string | bool | timestamp | list | other
#              nullable: true | false      min_presence: fraction of rows that must have a value (0..1)
#              domain: [allowed, values]   min / max: bounds for numbers
#              drift_threshold / skew_threshold: distance above which drift / training-serving skew is an
#                error (L-infinity for categories, Jensen-Shannon divergence for numbers; unset: a warning
#                above 0.1 / 0.02)
#              allow_nan / allow_inf: true when NaN / infinite numbers are expected (default false)
# rows:        min / max rows of a batch, max_change: largest relative change against the previous span
# environments: the columns a context leaves out, e.g. the label when serving.
"""

_TOP_KEYS = ("version", "rows", "columns", "environments")
_ROW_KEYS = ("min", "max", "max_change")
_COLUMN_KEYS = (
    "type",
    "nullable",
    "min_presence",
    "domain",
    "min",
    "max",
    "drift_threshold",
    "skew_threshold",
    "allow_nan",
    "allow_inf",
)
_ENVIRONMENT_KEYS = ("exclude",)


class _Flow(list):
    """A list written on one line (``[a, b, c]``): domains and exclusions read best that way."""


def _dumper() -> type:
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def flow(dumper: yaml.SafeDumper, data: _Flow) -> Any:
        return dumper.represent_sequence("tag:yaml.org,2002:seq", list(data), flow_style=True)

    Dumper.add_representer(_Flow, flow)
    return Dumper


def _column_block(column: ColumnSchema) -> dict[str, Any]:
    block: dict[str, Any] = {"type": column.type, "nullable": column.nullable}
    if column.nullable:
        block["min_presence"] = column.min_presence
    if column.domain is not None:
        block["domain"] = _Flow(column.domain)
    for key in ("min", "max", "drift_threshold", "skew_threshold"):
        value = getattr(column, key)
        if value is not None:
            block[key] = value
    for key in ("allow_nan", "allow_inf"):
        if getattr(column, key):
            block[key] = True
    return block


def schema_yaml(schema: Schema) -> str:
    """The YAML text of ``schema`` (what :func:`write_schema_yaml` writes)."""
    import yaml

    body: dict[str, Any] = {"version": schema.version}
    rows = {"min": schema.min_rows, "max": schema.max_rows, "max_change": schema.max_row_change}
    if any(value is not None for value in rows.values()):
        body["rows"] = {key: value for key, value in rows.items() if value is not None}
    body["columns"] = {column.name: _column_block(column) for column in schema.columns}
    if schema.environments:
        body["environments"] = {name: {"exclude": _Flow(env.exclude)} for name, env in schema.environments.items()}
    text = yaml.dump(body, Dumper=_dumper(), sort_keys=False, allow_unicode=True, width=100)
    return _HEADER + text


def write_schema_yaml(schema: Schema, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(schema_yaml(schema), encoding="utf-8")


def read_schema_yaml(path: Path) -> Schema:
    """Read a schema file; any mistake raises UsageError with the file, line and a hint."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise NotFound("schema file not found", where=Location(file=str(path)), hint="write one with infer")
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise UsageError(
            f"not valid YAML: {exc.problem}",
            where=Location(file=str(path), line=mark.line + 1 if mark else None),
            hint=exc.context,
        ) from None
    if root is None:
        raise UsageError("the schema file is empty", where=Location(file=str(path)), hint="write one with infer")
    return _SchemaReader(str(path)).schema(root)


class _SchemaReader:
    def __init__(self, file: str) -> None:
        import yaml

        self.file = file
        self.yaml = yaml
        self.constructor = yaml.constructor.SafeConstructor()

    def error(
        self, node: Any, message: str, *, column: str | None = None, key: str | None = None, hint: str | None = None
    ) -> UsageError:
        where = Location(file=self.file, line=node.start_mark.line + 1, column=column, field=key)
        return UsageError(message, where=where, hint=hint)

    def value(self, node: Any) -> Any:
        return self.constructor.construct_object(node, deep=True)

    def mapping(
        self, node: Any, what: str, known: tuple[str, ...] | None, column: str | None = None
    ) -> list[tuple[str, Any, Any]]:
        """``(key, key node, value node)`` of a mapping, rejecting unknown and repeated keys."""
        if not isinstance(node, self.yaml.MappingNode):
            raise self.error(node, f"{what} must be a mapping of 'key: value' lines", column=column)
        seen: set[str] = set()
        items = []
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if known is not None and key not in known:
                raise self.error(
                    key_node, f"unknown key '{key}' in {what}", column=column, key=key, hint=did_you_mean(key, known)
                )
            if key in seen:
                raise self.error(key_node, f"'{key}' appears twice in {what}", column=column, key=key)
            seen.add(key)
            items.append((key, key_node, value_node))
        return items

    def number(
        self, node: Any, column: str, key: str, low: float | None = None, high: float | None = None
    ) -> float | None:
        value = self.value(node)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(node, f"{key} must be a number, got {value!r}", column=column, key=key)
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise self.error(node, f"{key} must be {bounds}, got {value}", column=column, key=key)
        return float(value)

    def names(self, node: Any, what: str, column: str | None, key: str) -> tuple[str, ...]:
        if not isinstance(node, self.yaml.SequenceNode):
            raise self.error(node, f"{what} must be a list like [a, b]", column=column, key=key)
        names: list[str] = []
        for item in node.value:
            value = self.value(item)
            if not isinstance(value, str):
                raise self.error(
                    item,
                    f"{what} value {value!r} is not text",
                    column=column,
                    key=key,
                    hint=f"quote it: '{value}'" if not isinstance(value, list | dict) else None,
                )
            if value in names:
                raise self.error(item, f"{what} lists '{value}' twice", column=column, key=key)
            names.append(value)
        return tuple(names)

    def column(self, name: str, name_node: Any, node: Any) -> ColumnSchema:
        fields: dict[str, Any] = {}
        lines: dict[str, Any] = {}
        for key, key_node, value_node in self.mapping(node, f"column '{name}'", _COLUMN_KEYS, column=name):
            lines[key] = key_node
            if key == "type":
                value = self.value(value_node)
                if value not in COLUMN_TYPES:
                    raise self.error(
                        value_node,
                        f"unknown type {value!r}",
                        column=name,
                        key=key,
                        hint=did_you_mean(str(value), COLUMN_TYPES),
                    )
                fields["type"] = value
            elif key in ("nullable", "allow_nan", "allow_inf"):
                value = self.value(value_node)
                if not isinstance(value, bool):
                    raise self.error(value_node, f"{key} must be true or false, got {value!r}", column=name, key=key)
                fields[key] = value
            elif key == "min_presence":
                fields[key] = self.number(value_node, name, key, 0.0, 1.0)
            elif key == "domain":
                is_null = isinstance(value_node, self.yaml.ScalarNode) and self.value(value_node) is None
                fields[key] = None if is_null else self.names(value_node, "domain", name, key)
            elif key in ("drift_threshold", "skew_threshold"):
                fields[key] = self.number(value_node, name, key, 0.0)
            else:
                fields[key] = self.number(value_node, name, key)
        if "type" not in fields:
            raise self.error(name_node, f"column '{name}' has no type", column=name, hint="add e.g. 'type: float'")
        nullable = fields.get("nullable", False)
        if fields.get("min_presence") is None:
            fields["min_presence"] = 0.0 if nullable else 1.0
        if not nullable and fields["min_presence"] < 1.0:
            raise self.error(
                lines["min_presence"],
                "min_presence below 1 allows nulls but nullable is false",
                column=name,
                key="min_presence",
                hint="set nullable: true",
            )
        if fields.get("domain") is not None and fields["type"] != "string":
            raise self.error(
                lines["domain"],
                f"a domain needs type string, this column is {fields['type']}",
                column=name,
                key="domain",
                hint="use min and max to bound numbers",
            )
        low, high = fields.get("min"), fields.get("max")
        if low is not None and high is not None and low > high:
            raise self.error(lines["min"], f"min {low:g} is greater than max {high:g}", column=name, key="min")
        return ColumnSchema(name=name, **fields)

    def schema(self, root: Any) -> Schema:
        columns: list[ColumnSchema] = []
        environments: dict[str, Environment] = {}
        parts = {key: (key_node, value) for key, key_node, value in self.mapping(root, "the schema", _TOP_KEYS)}
        if "version" in parts:
            version = self.value(parts["version"][1])
            if not isinstance(version, int) or isinstance(version, bool) or version < 1:
                raise self.error(parts["version"][1], f"version must be a whole number, got {version!r}", key="version")
            if version > SCHEMA_VERSION:
                raise self.error(
                    parts["version"][1],
                    f"schema version {version} is newer than this modelyard reads ({SCHEMA_VERSION})",
                    key="version",
                    hint="upgrade modelyard",
                )
        if "columns" not in parts:
            raise self.error(root, "the schema has no 'columns' section", hint="infer one from statistics")
        for name, name_node, node in self.mapping(parts["columns"][1], "columns", None):
            columns.append(self.column(name, name_node, node))
        known = [column.name for column in columns]
        rows: dict[str, Any] = {}
        if "rows" in parts:
            for key, _, value_node in self.mapping(parts["rows"][1], "rows", _ROW_KEYS):
                value = self.number(value_node, "", key, 0.0)
                if key != "max_change" and value is not None:
                    if not float(value).is_integer():
                        raise self.error(value_node, f"rows {key} must be a whole number, got {value:g}", key=key)
                    value = int(value)
                rows[key] = value
            if rows.get("min") is not None and rows.get("max") is not None and rows["min"] > rows["max"]:
                raise self.error(parts["rows"][1], f"rows min {rows['min']} is greater than max {rows['max']}")
        if "environments" in parts:
            for env_name, _, node in self.mapping(parts["environments"][1], "environments", None):
                exclude: tuple[str, ...] = ()
                for key, _, value_node in self.mapping(node, f"environment '{env_name}'", _ENVIRONMENT_KEYS):
                    if key == "exclude":
                        exclude = self.names(value_node, "exclude", None, key)
                        for item, excluded in zip(value_node.value, exclude, strict=True):
                            if excluded not in known:
                                raise self.error(
                                    item,
                                    f"environment '{env_name}' excludes unknown column '{excluded}'",
                                    key=key,
                                    hint=did_you_mean(excluded, known),
                                )
                environments[env_name] = Environment(env_name, exclude)
        return Schema(
            columns=tuple(columns),
            environments=environments,
            min_rows=rows.get("min"),
            max_rows=rows.get("max"),
            max_row_change=rows.get("max_change"),
        )
