"""A small closed-loop HTTP/1.1 load generator on asyncio streams, for benchmarks/serve_vs_mlflow.py.

Why not httpx or aiohttp: on a 2-core machine a general-purpose client spends more CPU per request than a
lean server does, so it would measure itself. Each of ``clients`` coroutines keeps one keep-alive connection
and sends the same request again as soon as the answer is in (bounded load: at most ``clients`` requests in
flight). Loopback only: the benchmark never points it anywhere else.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    def percentile(self, q: float) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def request_bytes(port: int, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def _client(port: int, payload: bytes, stop_at: float, warm_until: float, result: LoadResult) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while True:
            started = time.perf_counter()
            if started >= stop_at:
                return
            writer.write(payload)
            await writer.drain()
            status = await _read_response(reader)
            if started < warm_until:
                continue
            if status == 200:
                result.latencies.append(time.perf_counter() - started)
            else:
                result.errors += 1
    finally:
        writer.close()


async def _run(port: int, path: str, body: bytes, clients: int, seconds: float, warmup: float) -> LoadResult:
    result = LoadResult()
    payload = request_bytes(port, path, body)
    now = time.perf_counter()
    warm_until, stop_at = now + warmup, now + warmup + seconds
    await asyncio.gather(*(_client(port, payload, stop_at, warm_until, result) for _ in range(clients)))
    result.seconds = seconds
    return result


def run_load(port: int, path: str, body: bytes, *, clients: int, seconds: float, warmup: float = 1.0) -> LoadResult:
    """Closed-loop load for ``seconds`` after ``warmup`` seconds whose answers are not counted."""
    return asyncio.run(_run(port, path, body, clients, seconds, warmup))
