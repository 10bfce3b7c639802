"""Values derived once per object, for objects that hold still (a compiled signature, a fitted transform).

Why keyed by identity and not by value: the objects are tuples of small dataclasses, hashing them on every
request would cost what the cache saves, and a served model passes the very same object each time. The
object is kept beside its value, so a recycled ``id`` of a dead object is never mistaken for it; the table is
emptied when it grows past ``limit`` (callers that derive from throwaway objects must not pile them up).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class IdentityMemo(Generic[V]):
    """``memo(obj)`` is ``derive(obj)``, computed once per live object."""

    def __init__(self, derive: Callable[[Any], V], limit: int = 256) -> None:
        self._derive = derive
        self._limit = limit
        self._table: dict[int, tuple[Any, V]] = {}

    def __call__(self, obj: Any) -> V:
        hit = self._table.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        value = self._derive(obj)
        if len(self._table) >= self._limit:
            self._table.clear()
        self._table[id(obj)] = (obj, value)
        return value
