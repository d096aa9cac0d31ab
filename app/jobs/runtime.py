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


# A worker that stopped on its own is started again after these pauses (the last repeats),
# back at the first once it has run this long: a database that is down for minutes is not
# hammered, one that blinks costs a second.
RESTART_DELAYS_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)
HEALTHY_RUN_SECONDS = 60.0


async def run_worker_until_cancelled(*, concurrency: int) -> None:
    """Process jobs until cancelled, starting the worker again whenever it stops on its own.

    procrastinate's worker stops when its listening connection dies (a database restart, a
    failover, a terminated backend) and raises when the database cannot be reached; a
    long-running process must not be left serving with no worker behind it."""
    loop = asyncio.get_running_loop()
    this_task = asyncio.current_task()
    assert this_task is not None
    failures = 0
    while True:
        started = loop.time()
        try:
            await run_worker(concurrency=concurrency)
            reason = "its database connection was lost"
        except Exception as exc:
            if this_task.cancelling():
                # Stopping, and the database did not answer the worker's last call (its
                # unregistration): its row is pruned by the next worker's start.
                log.warning("job worker stopped without unregistering: %s", _brief(exc))
                raise asyncio.CancelledError from exc
            reason = _brief(exc)
            log.debug("job worker failed", exc_info=exc)
        if loop.time() - started >= HEALTHY_RUN_SECONDS:
            failures = 0
        delay = RESTART_DELAYS_SECONDS[min(failures, len(RESTART_DELAYS_SECONDS) - 1)]
        failures += 1
        log.warning("job worker stopped (%s); starting it again in %.0f s", reason, delay)
        await asyncio.sleep(delay)


def _brief(exc: BaseException) -> str:
    """An exception in one line: procrastinate's own messages are blank, its cause says it."""
    cause = exc.__cause__ or exc
    return " ".join(str(cause).split()) or type(cause).__name__


@contextlib.asynccontextmanager
async def background_worker(*, concurrency: int) -> AsyncIterator[asyncio.Task[None]]:
    """Run a worker inside this process while the block runs (``icp-sync serve``)."""
    task = asyncio.create_task(
        run_worker_until_cancelled(concurrency=concurrency), name="icp-sync-worker"
    )
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
