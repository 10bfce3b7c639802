"""A write-behind buffer for params, metrics and tags.

Why: a database round trip per ``log_metric`` is what makes MLflow cost milliseconds a call. Here a call only
appends to a list; a background thread writes batches, and ``close()`` writes the rest, so nothing is lost at
the end of a run, on an exception or at interpreter exit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from modelyard.errors import UsageError

FLUSH_EVERY_ROWS = 20_000
FLUSH_EVERY_SECONDS = 2.0

MetricRow = tuple[str, float, int, int, int | None]


class TrackingBuffer:
    """Collects rows for one run and hands them to ``write(params, metrics, tags)`` in batches."""

    def __init__(
        self,
        write: Callable[[list[tuple[str, str]], list[MetricRow], list[tuple[str, str]]], None],
        *,
        execution_id: int | None = None,
    ) -> None:
        self._write = write
        self._execution_id = execution_id
        self._lock = threading.Lock()
        self._params: list[tuple[str, str]] = []
        self._metrics: list[MetricRow] = []
        self._tags: list[tuple[str, str]] = []
        self._steps: dict[str, int] = {}
        self._wake = threading.Event()
        self._closed = False
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    # -- the caller's side: cheap appends -------------------------------------------------------------
    def param(self, key: str, value: Any) -> None:
        _check_key(key)
        self._append(self._params, (key, _as_text(value)))

    def tag(self, key: str, value: Any) -> None:
        _check_key(key)
        self._append(self._tags, (key, _as_text(value)))

    def metric(self, key: str, value: float, step: int | None = None, timestamp_ms: int | None = None) -> None:
        _check_key(key)
        if self._closed:
            raise UsageError("this run has ended; start a new run to log more")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise UsageError(f"metric '{key}' must be a number, got {value!r}") from None
        if step is None:
            step = self._steps.get(key, -1) + 1
        self._steps[key] = step
        stamp = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
        row = (key, number, int(step), stamp, self._execution_id)
        self._metrics.append(row)  # list.append is atomic under the GIL; the flusher swaps lists under the lock
        if len(self._metrics) >= FLUSH_EVERY_ROWS:
            self._ensure_flusher()
            self._wake.set()

    def _append(self, target: list[Any], row: Any) -> None:
        if self._closed:
            raise UsageError("this run has ended; start a new run to log more")
        target.append(row)

    # -- the writer's side -----------------------------------------------------------------------------
    def _ensure_flusher(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._flush_loop, name="modelyard-tracking", daemon=True)
            self._thread.start()

    def _flush_loop(self) -> None:
        while not self._closed:
            self._wake.wait(FLUSH_EVERY_SECONDS)
            self._wake.clear()
            try:
                self.flush()
            except BaseException as exc:  # kept and re-raised by close() so the caller learns of it
                self._error = exc
                return

    def flush(self) -> None:
        """Write everything buffered so far, in one transaction."""
        with self._lock:
            params, self._params = self._params, []
            metrics, self._metrics = self._metrics, []
            tags, self._tags = self._tags, []
            if params or metrics or tags:
                self._write(params, metrics, tags)

    def close(self) -> None:
        """Stop the flusher and write the rest; raises if a background write had failed."""
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()
        if self._error is not None:
            raise self._error


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key or len(key) > 250:
        raise UsageError(f"a tracking key must be a non-empty string of at most 250 characters, got {key!r}")


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)
