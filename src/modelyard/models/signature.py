"""The model signature: the input contract a model package enforces before any number reaches NumPy.

A signature is plain JSON, ``{"inputs": [{"name", "type", "nullable", "domain"?}], "outputs": [...]}``
with types ``int | float | string | bool | timestamp``. A ``domain`` is either a list of allowed values
(``{"values": [...]}`` is accepted too) or a numeric range ``{"min": .., "max": ..}``.

:func:`check_records` reports *every* offence in one :class:`~modelyard.errors.ValidationFailed`, worded
for the person who sent the request ("record 3, field 'bill_length_mm': expected a number, got 'abc'"),
so a client fixes its payload in one round trip instead of meeting a NumPy traceback. ``coerce=True``
converts only what converts without loss ("39.1" -> 39.1, 3 -> 3.0, "true" -> True).
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from modelyard.core.memo import IdentityMemo
from modelyard.errors import UsageError, ValidationFailed
from modelyard.features.values import category_key, describe, is_bool, is_missing

TYPES = ("int", "float", "string", "bool", "timestamp")
_FIELD_KEYS = ("name", "type", "nullable", "domain", "description")
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


class _Bad(Exception):
    """Internal: one field of one record is wrong; the text becomes a problem line."""


def normalize_signature(signature: Mapping[str, Any]) -> dict[str, Any]:
    """Check a signature's shape and fill defaults (``nullable`` defaults to true); UsageError if wrong."""
    if not isinstance(signature, Mapping) or not isinstance(signature.get("inputs"), list):
        raise UsageError(
            "a signature is a mapping with an 'inputs' list",
            hint='e.g. {"inputs": [{"name": "bill_length_mm", "type": "float", "nullable": true}]}',
        )
    out: dict[str, Any] = {}
    for part in ("inputs", "outputs"):
        fields = signature.get(part, [])
        if not isinstance(fields, list):
            raise UsageError(f"signature '{part}' must be a list of fields")
        seen: set[str] = set()
        normalized = []
        for i, spec in enumerate(fields):
            where = f"signature {part}[{i}]"
            if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str):
                raise UsageError(f"{where} must be a mapping with a 'name'")
            unknown = sorted(set(spec) - set(_FIELD_KEYS))
            if unknown:
                raise UsageError(f"{where} has unknown key(s) {', '.join(unknown)}; known: {', '.join(_FIELD_KEYS)}")
            if spec.get("type") not in TYPES:
                raise UsageError(f"{where} ('{spec['name']}') has type {spec.get('type')!r}; known: {', '.join(TYPES)}")
            if spec["name"] in seen:
                raise UsageError(f"{where}: field '{spec['name']}' appears twice")
            seen.add(spec["name"])
            field = {"name": spec["name"], "type": spec["type"], "nullable": bool(spec.get("nullable", True))}
            if spec.get("domain") is not None:
                field["domain"] = _normalize_domain(spec["domain"], spec["type"], where)
            if spec.get("description"):
                field["description"] = str(spec["description"])
            normalized.append(field)
        out[part] = normalized
    return out


def _normalize_domain(domain: Any, kind: str, where: str) -> Any:
    if isinstance(domain, Mapping) and "values" in domain:
        domain = domain["values"]
    if isinstance(domain, list | tuple):
        return list(domain)
    if isinstance(domain, Mapping) and set(domain) <= {"min", "max"} and domain:
        if kind not in ("int", "float"):
            raise UsageError(f"{where}: a range domain applies to int or float fields, not {kind}")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in domain.values()):
            raise UsageError(f"{where}: a range domain needs numeric 'min'/'max'")
        return dict(domain)
    raise UsageError(f"{where}: a domain is a list of allowed values or a range {{'min': .., 'max': ..}}")


def _looks_numeric(text: str) -> bool:
    try:
        float(text.strip())
    except ValueError:
        return False
    return True


def _as_number(value: Any, coerce: bool, *, whole: bool) -> Any:
    expected = "a whole number" if whole else "a number"
    if is_bool(value):
        raise _Bad(f"expected {expected}, got {describe(value)}")
    if isinstance(value, str):
        if not coerce:
            hint = " (coerce=True converts numeric strings)" if _looks_numeric(value) else ""
            raise _Bad(f"expected {expected}, got {describe(value)}{hint}")
        try:
            number: Any = int(value.strip()) if whole else float(value.strip())
        except ValueError:
            try:
                number = float(value.strip())
            except ValueError:
                raise _Bad(f"expected {expected}, got {describe(value)}, which is not a number") from None
        value = number
    if isinstance(value, numbers.Integral):
        return int(value) if (whole or not coerce) else float(value)
    if isinstance(value, numbers.Real | Decimal):
        try:
            number = float(value)
        except OverflowError:
            raise _Bad(f"expected {expected}, got {describe(value)}, which is out of range") from None
        if not math.isfinite(number):
            raise _Bad(f"expected a finite number, got {describe(value)}")
        if whole:
            if not number.is_integer():
                raise _Bad(f"expected {expected}, got {describe(value)}")
            return int(number)
        return number if coerce else value
    raise _Bad(f"expected {expected}, got {describe(value)}")


def _as_string(value: Any, coerce: bool) -> str:
    if isinstance(value, str):
        return value
    if coerce and not is_bool(value) and isinstance(value, numbers.Real | Decimal):
        key = category_key(value)
        if key is not None:
            return key
    raise _Bad(f"expected a string, got {describe(value)}")


def _as_bool(value: Any, coerce: bool) -> bool:
    if is_bool(value):
        return bool(value)
    if coerce:
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        if isinstance(value, numbers.Integral) and int(value) in (0, 1):
            return bool(value)
    raise _Bad(f"expected true or false, got {describe(value)}")


def _as_timestamp(value: Any, coerce: bool) -> Any:
    if isinstance(value, dt.datetime | dt.date) or type(value).__name__ == "datetime64":
        return value
    if coerce and isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _Bad(f"expected a timestamp, got {describe(value)}")


@dataclass(frozen=True)
class FieldCheck:
    """One input field, prepared once per model so a request does no per-call set building."""

    name: str
    kind: str
    nullable: bool
    domain: Any = None
    allowed: frozenset[str | None] | None = None  # canonical keys of a value domain

    @property
    def any_float(self) -> bool:
        """A float field without a domain: every finite float passes as it is."""
        return self.kind == "float" and self.domain is None


def compile_signature(signature: Mapping[str, Any]) -> tuple[FieldCheck, ...]:
    """The signature's inputs as :class:`FieldCheck` s (a ModelPackage does this once, at load)."""
    out = []
    for spec in signature["inputs"]:
        domain = spec.get("domain")
        allowed = frozenset(category_key(v) for v in domain) if isinstance(domain, list) else None
        out.append(FieldCheck(spec["name"], spec["type"], spec["nullable"], domain, allowed))
    return tuple(out)


def _check_domain(value: Any, domain: Any, allowed: frozenset[str | None] | None = None) -> None:
    if isinstance(domain, list):
        if allowed is None:
            allowed = frozenset(category_key(v) for v in domain)
        if category_key(value) not in allowed:
            shown = ", ".join(str(v) for v in domain[:10]) + (", ..." if len(domain) > 10 else "")
            raise _Bad(f"{describe(value)} is not one of the allowed values ({shown})")
        return
    if "min" in domain and value < domain["min"]:
        raise _Bad(f"{describe(value)} is below the minimum {domain['min']}")
    if "max" in domain and value > domain["max"]:
        raise _Bad(f"{describe(value)} is above the maximum {domain['max']}")


def _convert(value: Any, kind: str, coerce: bool) -> Any:
    if kind == "float":
        return _as_number(value, coerce, whole=False)
    if kind == "int":
        return _as_number(value, coerce, whole=True)
    if kind == "string":
        return _as_string(value, coerce)
    if kind == "bool":
        return _as_bool(value, coerce)
    return _as_timestamp(value, coerce)


_FLOAT_ONLY = {float}


def _fast(check: FieldCheck, value: Any) -> tuple[bool, Any]:
    """(handled, clean value) for the common exact types, with the same verdicts as the full path.

    A JSON request is floats, ints and strings; checking ``type(value) is float`` first skips the ABC
    isinstance chain, which is most of the cost of a check on a 30-field record.
    """
    kind, t = check.kind, type(value)
    if t is float and kind == "float" and value == value and value not in (math.inf, -math.inf):
        domain = check.domain
        if domain is None or isinstance(domain, list):
            return (True, value) if domain is None else (False, None)
        if ("min" in domain and value < domain["min"]) or ("max" in domain and value > domain["max"]):
            return False, None
        return True, value
    if t is str and kind == "string":
        if check.allowed is not None and value not in check.allowed:
            return False, None
        return True, value
    return False, None


_Plan = tuple[list[tuple[FieldCheck, bool]], list[str], list[tuple[FieldCheck, bool]], list[str]]


def _split(fields: Sequence[FieldCheck]) -> _Plan:
    """Per-field work split once per compiled signature (a served model checks every request against the
    same one): (check, any_float) pairs; the names of the fields any finite float passes as it is, which a
    record of finite floats (a numeric JSON request) clears with C-level map/set/sum calls instead of one
    Python step per field; the checks left for such a record; all names in signature order."""
    return (
        [(check, check.any_float) for check in fields],
        [check.name for check in fields if check.any_float],
        [(check, False) for check in fields if not check.any_float],
        [check.name for check in fields],
    )


_plan = IdentityMemo(_split)


def check_records(
    signature: Mapping[str, Any],
    records: Sequence[Any],
    *,
    coerce: bool = False,
    compiled: Sequence[FieldCheck] | None = None,
) -> list[dict[str, Any]]:
    """Validate ``records`` against the signature's inputs and return clean copies.

    Each returned record holds exactly the signature's input fields (a missing nullable field becomes
    None; fields the signature does not know, such as the label, are dropped). A dict that already holds
    exactly those fields, all finite floats, is returned itself rather than copied (the server's hot path;
    nothing downstream mutates a clean record). Raises ValidationFailed
    listing every offence when any record breaks the contract.
    """
    if isinstance(records, Mapping | str | bytes) or not isinstance(records, Sequence):
        raise UsageError(
            f"expected a list of records, got a {type(records).__name__}",
            hint="wrap a single record in a list: [record]",
        )
    fields = compiled if compiled is not None else compile_signature(signature)
    checks, float_names, rest, names = _plan(fields)
    problems: list[str] = []
    bad_records = 0
    clean: list[dict[str, Any]] = []
    for i, record in enumerate(records):
        if not isinstance(record, Mapping):
            problems.append(f"record {i}: expected a mapping of field to value, got {describe(record)}")
            bad_records += 1
            continue
        out: dict[str, Any] = {}
        before = len(problems)
        todo = checks
        if float_names:
            values = list(map(record.get, float_names))
            if set(map(type, values)) == _FLOAT_ONLY and -math.inf < sum(values) < math.inf:  # NaN, inf fail
                if not rest and type(record) is dict and len(record) == len(float_names):
                    clean.append(record)  # exactly the signature's fields, all clean: no copy is needed
                    continue
                out = dict(zip(float_names, values, strict=True))
                todo = rest
        for check, any_float in todo:
            name = check.name
            value = record.get(name)
            if any_float and type(value) is float and -math.inf < value < math.inf:  # _fast's first case, inlined
                out[name] = value
                continue
            handled, clean_value = _fast(check, value)
            if handled:
                out[name] = clean_value
                continue
            if is_missing(value):
                if not check.nullable:
                    reason = "required field is missing" if name not in record else "null/NaN is not allowed here"
                    problems.append(f"record {i}, field '{name}': {reason} (the field is not nullable)")
                out[name] = None
                continue
            try:
                value = _convert(value, check.kind, coerce)
                if check.domain is not None:
                    _check_domain(value, check.domain, check.allowed)
            except _Bad as bad:
                problems.append(f"record {i}, field '{name}': {bad}")
                continue
            out[name] = value
        if len(problems) > before:
            bad_records += 1
        elif todo is rest and rest:
            out = {name: out[name] for name in names}  # the signature's order, as the per-field path gives
        clean.append(out)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ValidationFailed(
            f"{bad_records} of {len(records)} record(s) do not match the model signature: {problems[0]}{more}",
            problems=problems,
            hint="every offence is listed in .problems",
        )
    return clean
