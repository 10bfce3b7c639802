"""Adaptive micro-batching: requests that arrive while the model is busy share its next call.

Why: a scikit-learn ``predict`` has a fixed cost (input validation, array set-up) far above the cost of one
more row, so under concurrent load one call for 16 rows is several times cheaper per row than 16 calls. Why
adaptive: the batcher never waits for company unless ``max_wait`` says so. A request alone is predicted at
once; requests that queue up while a batch runs form the next batch. At low load latency is unchanged, at
high load throughput rises.

A bad record must not fail its neighbours: the batch is predicted as one call, and only when that call
fails is each request predicted on its own, so every request gets its own answer or its own error. A request
that waited in the queue longer than ``queue_timeout`` is refused (Overloaded, 503) instead of queued forever.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from modelyard.serve.status import Overloaded

Predict = Callable[[list[dict[str, Any]]], list[Any]]


class MicroBatcher:
    """Batches ``predict`` calls of one model version on the running event loop."""

    def __init__(
        self,
        predict: Predict,
        *,
        max_rows: int = 64,
        max_wait: float = 0.0,
        queue_timeout: float = 5.0,
        on_batch: Callable[[int], None] | None = None,
    ):
        self._predict = predict
        self._on_batch = on_batch  # told the size of every model call: the server's batch metrics
        self.max_rows = max_rows
        self.max_wait = max_wait
        self.queue_timeout = queue_timeout
        self._queue: deque[tuple[list[dict[str, Any]], asyncio.Future[list[Any]], float]] = deque()
        self._worker: asyncio.Task[None] | None = None
        self.batches = 0  # how many predict calls served how many requests (/metrics: via on_batch)
        self.requests = 0

    async def predict(self, records: list[dict[str, Any]]) -> list[Any]:
        return await self.submit(records)

    def submit(self, records: list[dict[str, Any]]) -> asyncio.Future[list[Any]]:
        """Queue ``records`` for the next batch; the future holds their predictions (or their error).

        A plain function, so that the server awaits the future itself: a coroutine around it would be one
        more frame for every request to cross on the way out and back."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Any]] = loop.create_future()
        self._queue.append((records, future, time.monotonic()))
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._drain())
        return future

    async def _drain(self) -> None:
        while self._queue:
            await asyncio.sleep(0)  # requests already parsed on this loop join the batch
            if self.max_wait > 0 and sum(len(r) for r, _, _ in self._queue) < self.max_rows:
                await asyncio.sleep(self.max_wait)
            self._run(self._take())

    def _take(self) -> list[tuple[list[dict[str, Any]], asyncio.Future[list[Any]]]]:
        batch: list[tuple[list[dict[str, Any]], asyncio.Future[list[Any]]]] = []
        rows = 0
        now = time.monotonic()
        while self._queue and (not batch or rows + len(self._queue[0][0]) <= self.max_rows):
            records, future, queued = self._queue.popleft()
            if future.done():  # the client went away
                continue
            if now - queued > self.queue_timeout:
                future.set_exception(
                    Overloaded(
                        f"the request waited {now - queued:.1f} s for the model; the limit is {self.queue_timeout:g} s",
                        hint="retry later, or run more --workers",
                    )
                )
                continue
            batch.append((records, future))
            rows += len(records)
        return batch

    def _run(self, batch: list[tuple[list[dict[str, Any]], asyncio.Future[list[Any]]]]) -> None:
        if not batch:
            return
        self.batches += 1
        self.requests += len(batch)
        if self._on_batch is not None:
            self._on_batch(len(batch))
        if len(batch) > 1:
            try:
                predictions = self._predict([record for records, _ in batch for record in records])
            except Exception:
                pass  # someone's record is bad: answer each request on its own below
            else:
                start = 0
                for records, future in batch:
                    if not future.done():
                        future.set_result(predictions[start : start + len(records)])
                    start += len(records)
                return
        for records, future in batch:
            try:
                result = self._predict(records)
            except Exception as exc:
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(result)
