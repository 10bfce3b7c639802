"""Request counters and a latency histogram by model and version, rendered in Prometheus' text format.

Why hand-written instead of prometheus_client: three metric families do not justify a dependency, and the
hot path only adds to dicts (no locks: one event loop per worker process). With ``--workers N`` each worker
counts its own requests and a scrape adds the other workers' latest snapshots (``serve.shared_metrics``), so
the answer is the sum over the whole server; ``snapshot`` and ``add`` are the two halves of that exchange.
"""

from __future__ import annotations

import bisect
from typing import Any

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Metrics:
    """Counts per (model, version, protocol, code), errors per (model, version, protocol, code) for codes
    >= 400, and latency per (model, version)."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, str, str], int] = {}
        self.errors: dict[tuple[str, str, str, str], int] = {}
        self.latency: dict[tuple[str, str], list[float]] = {}  # bucket counts, then sum, then count
        self.batches: dict[tuple[str, str], list[int]] = {}  # model calls, and the requests they answered
        self.observed = 0  # how many observations so far: a snapshot writer skips a worker that saw nothing new

    def observe(self, model: str, version: str, protocol: str, code: int, seconds: float) -> None:
        self.observed += 1
        key = (model, version, protocol, str(code))
        self.requests[key] = self.requests.get(key, 0) + 1
        if code >= 400:
            self.errors[key] = self.errors.get(key, 0) + 1
            return  # latency describes served predictions, not rejections
        series = self.latency.get((model, version))
        if series is None:
            series = self.latency[(model, version)] = [0.0] * (len(BUCKETS) + 2)
        index = bisect.bisect_left(BUCKETS, seconds)
        if index < len(BUCKETS):
            series[index] += 1
        series[-2] += seconds
        series[-1] += 1

    def batched(self, model: str, version: str, requests: int) -> None:
        """One micro-batched model call that answered ``requests`` requests: requests / calls is the mean
        batch size, the figure that says whether batching pays under the current load."""
        series = self.batches.get((model, version))
        if series is None:
            series = self.batches[(model, version)] = [0, 0]
        series[0] += 1
        series[1] += requests

    def snapshot(self) -> dict[str, Any]:
        """The figures as JSON-ready lists. Safe to call from another thread than the one observing: each
        dict and list is copied in one step under the GIL, so a snapshot may trail a request, never tear one
        number."""
        requests, errors, latency = self.requests.copy(), self.errors.copy(), self.latency.copy()
        batches = self.batches.copy()
        return {
            "requests": [[*key, count] for key, count in requests.items()],
            "errors": [[*key, count] for key, count in errors.items()],
            "latency": [[*key, list(series)] for key, series in latency.items()],
            "batches": [[*key, list(series)] for key, series in batches.items()],
        }

    def add(self, snapshot: dict[str, Any]) -> None:
        """Add another worker's ``snapshot`` to these figures: counters and histogram buckets add up."""
        for family, target in (("requests", self.requests), ("errors", self.errors)):
            for *key, count in snapshot.get(family, []):
                target[tuple(key)] = target.get(tuple(key), 0) + int(count)  # type: ignore[index]
        for model, version, series in snapshot.get("latency", []):
            mine = self.latency.get((model, version))
            if mine is None:
                mine = self.latency[(model, version)] = [0.0] * (len(BUCKETS) + 2)
            if len(series) == len(mine):  # a worker of another release with other buckets cannot be added
                for i, value in enumerate(series):
                    mine[i] += value
        for model, version, (calls, requests) in snapshot.get("batches", []):
            mine_b = self.batches.setdefault((model, version), [0, 0])
            mine_b[0] += int(calls)
            mine_b[1] += int(requests)

    @classmethod
    def total(cls, *snapshots: dict[str, Any]) -> Metrics:
        """New figures that are the sum of ``snapshots``."""
        summed = cls()
        for snapshot in snapshots:
            summed.add(snapshot)
        return summed

    def render(self) -> str:
        lines = [
            "# HELP modelyard_requests_total Prediction requests by model, version, protocol and status code.",
            "# TYPE modelyard_requests_total counter",
        ]
        names = ("model", "version", "protocol", "code")
        for key, count in sorted(self.requests.items()):
            lines.append(f"modelyard_requests_total{{{self._labels(names, key)}}} {count}")
        lines += [
            "# HELP modelyard_request_errors_total Prediction requests answered with a 4xx or 5xx status.",
            "# TYPE modelyard_request_errors_total counter",
        ]
        for key, count in sorted(self.errors.items()):
            lines.append(f"modelyard_request_errors_total{{{self._labels(names, key)}}} {count}")
        lines += [
            "# HELP modelyard_request_duration_seconds Time to answer a successful prediction request.",
            "# TYPE modelyard_request_duration_seconds histogram",
        ]
        for (model, version), series in sorted(self.latency.items()):
            labels = self._labels(("model", "version"), (model, version))
            running = 0.0
            for bound, count in zip(BUCKETS, series, strict=False):
                running += count
                lines.append(f'modelyard_request_duration_seconds_bucket{{{labels},le="{bound}"}} {int(running)}')
            lines.append(f'modelyard_request_duration_seconds_bucket{{{labels},le="+Inf"}} {int(series[-1])}')
            lines.append(f"modelyard_request_duration_seconds_sum{{{labels}}} {series[-2]:.6f}")
            lines.append(f"modelyard_request_duration_seconds_count{{{labels}}} {int(series[-1])}")
        for family, index, text in (
            ("modelyard_batches_total", 0, "Micro-batched model calls."),
            ("modelyard_batched_requests_total", 1, "Requests answered by micro-batched calls (/ calls = mean size)."),
        ):
            lines += [f"# HELP {family} {text}", f"# TYPE {family} counter"]
            for key, pair in sorted(self.batches.items()):
                lines.append(f"{family}{{{self._labels(('model', 'version'), key)}}} {pair[index]}")
        return "\n".join(lines) + "\n"

    @staticmethod
    def _labels(names: tuple[str, ...], values: tuple[str, ...]) -> str:
        return ",".join(f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True))
