"""A worker process for bench_sync: one full sync against ``argv[1]``; prints its peak RSS."""

from __future__ import annotations

import asyncio
import json
import sys
import time

from tests.bench.bench_sync import _connect_and_sync
from tests.bench.harness import bench_database, peak_rss_mb


async def main(url: str) -> None:
    """Sync, then report."""
    async with bench_database() as (database, _):
        started = time.perf_counter()
        run = await _connect_and_sync(database, url, calls_per_10s=0)
        seconds = time.perf_counter() - started
    print(
        json.dumps(
            {"peak_rss_mb": peak_rss_mb(), "seconds": seconds, "written": run.counts["written"]}  # type: ignore[attr-defined]
        )
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
