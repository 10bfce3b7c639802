"""``/metrics`` summed over the worker processes of one ``yard serve --workers N``.

Why files and not shared memory: the label sets grow at run time (model, version, protocol, code), which a
fixed shared-memory layout handles badly, and Prometheus scrapes every few seconds, so figures of the other
workers that are up to ``interval`` old are accurate enough. The request path is untouched: it still only
adds to the worker's own dicts. A background thread writes the worker's snapshot to
``FOLDER/WORKER.json`` once per ``interval`` when something changed (temporary file + rename, so a reader
never sees half a file); the worker answering a scrape adds every *other* file to its own live figures.

Counters never go down: a worker that dies leaves its last file behind, so its requests stay counted, and
they are counted once: a restarted worker gets a new id (pid + random suffix) and starts from zero in a file
of its own. The command that created the folder removes it when the server stops.
"""

from __future__ import annotations

import os
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import orjson

from modelyard.serve.metrics import Metrics


class SharedMetrics:
    """One worker's side of the exchange: publish its own snapshot, read everybody else's."""

    def __init__(self, folder: Path, metrics: Metrics, *, interval: float = 1.0) -> None:
        self.folder = Path(folder)
        self.metrics = metrics
        self.interval = interval
        self.worker = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._written = 0  # observations already published (none to publish yet)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def path(self) -> Path:
        return self.folder / f"{self.worker}.json"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._loop, name="modelyard-metrics", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.publish()
            except OSError as exc:  # a full disk must not stop the worker; the next round retries
                print(f"modelyard: cannot write worker metrics to {self.folder}: {exc}", file=sys.stderr)

    def publish(self) -> bool:
        """Write this worker's snapshot if it changed since the last write; True when a file was written."""
        observed = self.metrics.observed
        if observed == self._written:
            return False
        data = {"worker": self.worker, "pid": os.getpid(), "metrics": self.metrics.snapshot()}
        tmp = self.folder / f".{self.worker}.tmp"
        tmp.write_bytes(orjson.dumps(data))
        os.replace(tmp, self.path)
        self._written = observed
        return True

    def others(self) -> list[dict[str, Any]]:
        """The latest snapshot of every other worker, live or dead (a file being replaced is read whole, as
        the rename is atomic)."""
        found = []
        for path in sorted(self.folder.glob("*.json")):
            if path.name == self.path.name:
                continue  # this worker's own figures are taken live, not from its (older) file
            try:
                found.append(orjson.loads(path.read_bytes())["metrics"])
            except (OSError, ValueError, KeyError, TypeError):
                continue  # removed meanwhile, or not ours: nothing to add
        return found

    def render(self) -> str:
        """The Prometheus text of the whole server: this worker's live figures plus everybody else's."""
        return Metrics.total(self.metrics.snapshot(), *self.others()).render()

    def close(self) -> None:
        """Stop the thread and write the final figures, so a cleanly stopped worker's requests stay counted."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            self.publish()
        except OSError:
            pass  # the folder went away with the server
