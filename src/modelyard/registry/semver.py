"""Version numbers for model versions, and the rule that decides which part to bump.

Major when the input signature changes incompatibly (a client's request could break), minor for a retrain.
"""

from __future__ import annotations

from typing import Any

from modelyard.errors import UsageError


def parse(version: str) -> tuple[int, int, int]:
    parts = version.split(".")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise UsageError(f"'{version}' is not a version number", hint="write MAJOR.MINOR.PATCH, e.g. 1.2.0")
    major, minor, patch = (int(part) for part in parts)
    return major, minor, patch


def incompatible(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[str]:
    """Reasons a client of ``old`` could break against ``new``: removed inputs, changed types, new required ones."""
    if not old or not new:
        return []
    before = {field["name"]: field for field in old.get("inputs", [])}
    after = {field["name"]: field for field in new.get("inputs", [])}
    reasons = [f"input '{name}' was removed" for name in before if name not in after]
    for name, field in after.items():
        if name not in before:
            if not field.get("nullable", True):
                reasons.append(f"required input '{name}' was added")
        elif field.get("type") != before[name].get("type"):
            reasons.append(f"input '{name}' changed type {before[name].get('type')} -> {field.get('type')}")
    return reasons


def next_version(latest: str | None, *, breaking: bool) -> str:
    if latest is None:
        return "1.0.0"
    major, minor, _ = parse(latest)
    return f"{major + 1}.0.0" if breaking else f"{major}.{minor + 1}.0"
