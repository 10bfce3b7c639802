"""IdentityMemo derives once per live object, never hands one object's value to another."""

from __future__ import annotations

from modelyard.core.memo import IdentityMemo


def test_derived_once_per_object_and_bounded() -> None:
    calls: list[tuple] = []
    memo = IdentityMemo(lambda obj: calls.append(obj) or len(obj), limit=3)
    a, b = (1, 2), (1, 2, 3)
    assert (memo(a), memo(a), memo(b)) == (2, 2, 3)
    assert calls == [a, b]
    equal_but_other = tuple([1, 2])  # equal value, another object: derived for itself
    assert memo(equal_but_other) == 2 and len(calls) == 3
    for n in range(10):  # throwaway objects do not pile up
        memo(tuple(range(n)))
    assert len(memo._table) <= 3
