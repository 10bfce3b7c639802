"""Canary routing: which served version answers a request that names only the model.

Why deterministic: with a random draw the challenger's share wanders (a 10 % canary over 1,000 requests
lands anywhere from 8 % to 12 %), which makes a policy that compares the two versions noisy for no reason.
Requests without a key are spread by a counter, so after n requests the canary has had exactly
floor(n * percent / 100). Requests with a key (the ``X-Request-Key`` header: a user or session id) are
sticky: a hash of the key picks the version, so one user sees one version for the whole canary.
"""

from __future__ import annotations

import hashlib

KEY_HEADER = "x-request-key"
_BUCKETS = 10_000


class CanaryRouter:
    """Sends ``percent`` of a model's unversioned requests to its canary version."""

    def __init__(self, percent: float) -> None:
        if not 0 <= percent <= 100:
            raise ValueError(f"a canary share is a percentage between 0 and 100, got {percent}")
        self.percent = percent
        self._seen = 0

    def to_canary(self, key: str | None = None) -> bool:
        if key:
            digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
            return int.from_bytes(digest, "big") % _BUCKETS < self.percent * _BUCKETS / 100
        seen = self._seen
        self._seen = seen + 1
        return (seen + 1) * self.percent // 100 > seen * self.percent // 100
