"""A small HTTP/1.1 load generator on raw asyncio streams (keep-alive, prebuilt requests), so
that the client costs little next to the servers it measures. Loopback only."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(slots=True)
class LoadResult:
    """What a load run saw."""

    requests: int
    seconds: float
    statuses: dict[int, int]
    latencies: list[float]

    @property
    def rate(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds

    def percentile(self, share: float) -> float:
        """Latency at ``share`` (0..1), in seconds."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def http_request(path: str, port: int, body: bytes, headers: dict[str, str]) -> bytes:
    """One POST to 127.0.0.1:``port`` as bytes on the wire."""
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if length:
        await reader.readexactly(length)
    return status


async def run_load(
    port: int, requests: Sequence[bytes], *, connections: int, rate: float | None = None
) -> LoadResult:
    """Send every request once over ``connections`` keep-alive connections: as fast as they
    answer, or (``rate``) paced to that many requests per second in all."""
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    started = time.perf_counter()
    interval = connections / rate if rate else 0.0

    async def worker(index: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for n, request in enumerate(requests[index::connections]):
                if interval:
                    due = started + index * (interval / connections) + n * interval
                    delay = due - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                sent = time.perf_counter()
                writer.write(request)
                status = await _read_response(reader)
                latencies.append(time.perf_counter() - sent)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    await asyncio.gather(*(worker(i) for i in range(connections)))
    return LoadResult(len(requests), time.perf_counter() - started, statuses, latencies)
