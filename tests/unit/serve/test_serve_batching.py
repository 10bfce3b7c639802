"""Concurrent requests share predict calls, yet each gets its own answer or its own error."""

from __future__ import annotations

import asyncio
import time

from modelyard.errors import ValidationFailed
from modelyard.serve.batching import MicroBatcher
from modelyard.serve.status import Overloaded


def doubling(calls: list[int]):
    def predict(records: list[dict]) -> list[int]:
        calls.append(len(records))
        if any(r["x"] < 0 for r in records):
            raise ValidationFailed("negative", problems=[f"record {i}" for i, r in enumerate(records) if r["x"] < 0])
        return [r["x"] * 2 for r in records]

    return predict


def test_requests_that_arrive_together_share_one_call() -> None:
    calls: list[int] = []
    batcher = MicroBatcher(doubling(calls), max_rows=64)

    async def main() -> list[list[int]]:
        return await asyncio.gather(*(batcher.predict([{"x": i}, {"x": 10 * i}]) for i in range(16)))

    answers = asyncio.run(main())
    assert answers == [[2 * i, 20 * i] for i in range(16)]
    assert sum(calls) == 32 and len(calls) < 16


def test_a_batch_never_exceeds_max_rows() -> None:
    calls: list[int] = []
    batcher = MicroBatcher(doubling(calls), max_rows=5)

    async def main() -> list[list[int]]:
        return await asyncio.gather(*(batcher.predict([{"x": i}, {"x": i}]) for i in range(10)))

    assert asyncio.run(main()) == [[2 * i, 2 * i] for i in range(10)]
    assert max(calls) <= 5 and sum(calls) == 20


def test_a_bad_request_fails_alone() -> None:
    batcher = MicroBatcher(doubling([]), max_rows=64)

    async def main() -> list[object]:
        jobs = [batcher.predict([{"x": 1}]), batcher.predict([{"x": -1}]), batcher.predict([{"x": 3}])]
        return await asyncio.gather(*jobs, return_exceptions=True)

    good, bad, other = asyncio.run(main())
    assert (good, other) == ([2], [6])
    assert isinstance(bad, ValidationFailed) and bad.problems == ["record 0"]


def test_a_request_queued_past_the_deadline_gets_overloaded() -> None:
    def slow(records: list[dict]) -> list[int]:
        time.sleep(0.05)
        return [0] * len(records)

    batcher = MicroBatcher(slow, max_rows=1, queue_timeout=0.02)

    async def main() -> list[object]:
        return await asyncio.gather(*(batcher.predict([{"x": i}]) for i in range(3)), return_exceptions=True)

    first, *later = asyncio.run(main())
    assert first == [0]
    assert all(isinstance(answer, Overloaded) for answer in later)
    assert "the limit is 0.02 s" in str(later[0])
