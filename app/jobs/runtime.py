"""Opening the job queue over our database and running workers."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator

import prometheus_client
from sqlalchemy import URL, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import libpq_conninfo
from app.jobs import TASK_MODULES, _PoolSettings, job_app

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def open_job_queue(url: URL, *, max_size: int = 4) -> AsyncIterator[None]:
    """Open procrastinate on its own small pool of connections to ``url``."""
    _PoolSettings.conninfo = libpq_conninfo(url)
    _PoolSettings.max_size = max_size
    async with job_app.open_async():
        for module in TASK_MODULES:
            importlib.import_module(module)
        yield


async def run_worker(*, concurrency: int, wait: bool = True) -> None:
    """Process jobs until cancelled (``wait=False``: until the queue is empty)."""
    await job_app.run_worker_async(
        concurrency=concurrency,
        wait=wait,
        install_signal_handlers=False,
        listen_notify=wait,
    )


@contextlib.asynccontextmanager
async def background_worker(*, concurrency: int) -> AsyncIterator[asyncio.Task[None]]:
    """Run a worker inside this process while the block runs (``icp-sync serve``)."""
    task = asyncio.create_task(run_worker(concurrency=concurrency), name="icp-sync-worker")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        log.info("in-process worker stopped")


async def queue_depth(session: AsyncSession) -> dict[str, int]:
    """Jobs waiting or running, by task name."""
    result = await session.execute(
        text(
            "SELECT task_name, count(*) FROM procrastinate_jobs "
            "WHERE status IN ('todo', 'doing') GROUP BY task_name"
        )
    )
    return {row[0]: row[1] for row in result.all()}


def start_metrics_server(port: int) -> None:
    """Serve this process's Prometheus metrics on ``port`` (a standalone worker has no API)."""
    prometheus_client.start_http_server(port)
    log.info("metrics on :%d/metrics", port)
