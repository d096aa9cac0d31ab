"""The procrastinate app: jobs live in PostgreSQL, next to the data that needs them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import procrastinate
import procrastinate.exceptions
import psycopg
import psycopg_pool
from procrastinate.psycopg_connector import PsycopgConnector

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

# Task modules register themselves on import; workers import them all.
TASK_MODULES = [
    "app.jobs.periodic",
    "app.accounts.tasks",
    "app.sync.tasks",
    "app.writeback.tasks",
    "app.subscriptions.tasks",
    "app.inbox.tasks",
]


class _PoolSettings:
    """Where procrastinate's pool connects; set by ``open_job_queue`` before opening."""

    conninfo: str = ""
    max_size: int = 4


def _pool_factory(**kwargs: Any) -> psycopg_pool.AsyncConnectionPool:
    # procrastinate opens and closes the pool itself; we only say where it points.
    return psycopg_pool.AsyncConnectionPool(
        _PoolSettings.conninfo, min_size=1, max_size=_PoolSettings.max_size, **kwargs
    )


job_app = procrastinate.App(
    connector=PsycopgConnector(pool_factory=_pool_factory), import_paths=TASK_MODULES
)


async def defer_in_transaction(
    session: AsyncSession,
    task: procrastinate.tasks.Task[Any, Any, Any],
    *,
    lock: str | None = None,
    queueing_lock: str | None = None,
    schedule_in: dict[str, int] | None = None,
    **kwargs: Any,
) -> int | None:
    """Defer ``task`` on the session's own transaction (transactional outbox): the job
    exists if and only if the caller's writes commit.

    Returns the job id, or None when an identical job is already queued (its
    ``queueing_lock`` is taken).
    """
    from app.core.db import driver_connection

    return await defer_on_connection(
        await driver_connection(session),
        task,
        lock=lock,
        queueing_lock=queueing_lock,
        schedule_in=schedule_in,
        **kwargs,
    )


async def defer_on_connection(
    connection: psycopg.AsyncConnection[Any],
    task: procrastinate.tasks.Task[Any, Any, Any],
    *,
    lock: str | None = None,
    queueing_lock: str | None = None,
    schedule_in: dict[str, int] | None = None,
    **kwargs: Any,
) -> int | None:
    """``defer_in_transaction`` for a psycopg connection inside a transaction."""
    try:
        # A savepoint of psycopg's own (SQLAlchemy cannot see statements run on the driver
        # connection): without it, a refused deferral would abort the caller's transaction
        # and its COMMIT would silently roll back.
        async with connection.transaction():
            options: dict[str, Any] = {"connection": connection}
            if lock is not None:
                options["lock"] = lock
            if queueing_lock is not None:
                options["queueing_lock"] = queueing_lock
            if schedule_in is not None:
                options["schedule_in"] = schedule_in
            job_id: int = await task.configure(**options).defer_async(**kwargs)
            return job_id
    except procrastinate.exceptions.AlreadyEnqueued:
        return None
