"""Semantic version ordering and validation used by the registry records."""

from __future__ import annotations

import pytest

from modelyard.errors import UsageError
from modelyard.store.metadata.registry import check_semver, semver_key


def test_semver_precedence() -> None:
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.2.0",
        "1.10.0",
        "2.0.0",
    ]
    assert sorted(reversed(ordered), key=semver_key) == ordered
    assert semver_key("1.0.0+build.5") == semver_key("1.0.0")


@pytest.mark.parametrize("bad", ["1", "1.0", "v1.0.0", "01.0.0", "1.0.0-", "1.0.0-01", "latest", ""])
def test_non_semver_versions_are_refused(bad: str) -> None:
    with pytest.raises(UsageError, match=r"MAJOR\.MINOR\.PATCH"):
        check_semver(bad)
