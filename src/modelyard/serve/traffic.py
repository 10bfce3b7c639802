"""A server's run-time traffic: the canary and shadow routers per model, and the live counters per version.

Why apart from the app: the watcher thread changes shares and reads counters while the event loop routes
and counts. Routers are replaced, never mutated, so a request sees one share or the other; counters are
guarded by one lock (uncontended on the hot path: the watcher takes it once a second).
"""

from __future__ import annotations

import threading
from typing import Any

from modelyard.serve.policy import VersionCounters
from modelyard.serve.routing import CanaryRouter


class Traffic:
    """Routers (``routers``: canary, ``shadows``: mirror) by model name, and counters by model and version."""

    def __init__(self, names: list[str], canary_percent: float, shadow_percent: float) -> None:
        self.routers = {name: CanaryRouter(canary_percent) for name in names}
        self.shadows = {name: CanaryRouter(shadow_percent) for name in names if shadow_percent > 0}
        self._counters: dict[str, dict[str, VersionCounters]] = {}
        self._lock = threading.Lock()

    def set_shares(self, name: str, canary_percent: float, shadow_percent: float) -> None:
        """New shares take effect on the next request; an unchanged share keeps its router (and its spread)."""
        for routers, percent in ((self.routers, canary_percent), (self.shadows, shadow_percent)):
            router = routers.get(name)
            if percent <= 0:
                routers.pop(name, None)
            elif router is None or router.percent != percent:
                routers[name] = CanaryRouter(percent)

    def count(self, name: str, version: str, status: int, seconds: float, outputs: Any) -> None:
        with self._lock:
            counters = self._counters.setdefault(name, {})
            counter = counters.get(version)
            if counter is None:
                counter = counters[version] = VersionCounters()
            counter.observe(status, seconds, outputs if status < 400 else None)

    def reset(self, name: str) -> None:
        """A new comparison (epoch) starts from zero."""
        with self._lock:
            self._counters.pop(name, None)

    def snapshot(self, name: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {version: counter.to_dict() for version, counter in self._counters.get(name, {}).items()}
