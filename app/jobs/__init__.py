"""The procrastinate app: jobs live in PostgreSQL, next to the data that needs them.

Services and repositories never import a tasks module: they describe the job they need as a
``JobRequest`` (the task's registered name, its arguments and locks) and defer it here, on
their own transaction. Only the worker imports the task modules (``TASK_MODULES``).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import procrastinate
import procrastinate.exceptions
import procrastinate.jobs
import psycopg
import psycopg_pool
from procrastinate.psycopg_connector import PsycopgConnector
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import driver_connection
from app.core.metrics import JOBS_FINISHED
from app.jobs.names import LEGACY_NAMES, TaskName

__all__ = [
    "TASK_MODULES",
    "JobRequest",
    "Reaction",
    "TaskName",
    "defer",
    "defer_all",
    "job_app",
    "task",
]

log = logging.getLogger(__name__)

# Task modules register themselves on import; workers (and the first deferral) import them.
TASK_MODULES = [
    "app.jobs.periodic",
    "app.accounts.tasks",
    "app.sync.tasks",
    "app.writeback.tasks",
    "app.subscriptions.tasks",
    "app.inbox.tasks",
    "app.health.tasks",
]


# How long a job-queue call waits for a connection before it fails. The pool's default (30 s)
# held a stopping process that long when its database was gone; a live database hands one
# out in milliseconds (calls are short), and a worker whose call failed is started again.
QUEUE_CONNECT_TIMEOUT_SECONDS = 5.0


class _PoolSettings:
    """Where procrastinate's pool connects; set by ``open_job_queue`` before opening."""

    conninfo: str = ""
    max_size: int = 4


def _pool_factory(**kwargs: Any) -> psycopg_pool.AsyncConnectionPool:
    # procrastinate opens and closes the pool itself; we only say where it points.
    return psycopg_pool.AsyncConnectionPool(
        _PoolSettings.conninfo,
        min_size=1,
        max_size=_PoolSettings.max_size,
        timeout=QUEUE_CONNECT_TIMEOUT_SECONDS,
        **kwargs,
    )


job_app = procrastinate.App(
    connector=PsycopgConnector(pool_factory=_pool_factory), import_paths=TASK_MODULES
)


def task(name: TaskName, **options: Any) -> Callable[[Callable[..., Any]], Any]:
    """Register a task under its explicit ``name`` (and the dotted path it had before names
    were given, so jobs an earlier release queued still run), counting how each run ends."""

    def register(function: Callable[..., Awaitable[Any]]) -> Any:
        @functools.wraps(function)
        async def counted(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                result = await function(*args, **kwargs)
            except BaseException as exc:
                JOBS_FINISHED.labels(str(name), "failed").inc()
                log.warning(
                    "job %s failed after %.1fs: %r", name, time.perf_counter() - started, exc
                )
                raise
            JOBS_FINISHED.labels(str(name), "succeeded").inc()
            log.info("job %s done in %.1fs: %s", name, time.perf_counter() - started, result)
            return result

        aliases = [LEGACY_NAMES[name]] if name in LEGACY_NAMES else []
        return job_app.task(name=str(name), aliases=aliases, **options)(counted)

    return register


@dataclass(frozen=True, slots=True)
class JobRequest:
    """A job to defer: its task's registered name, its arguments and its locks."""

    task: TaskName
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    lock: str | None = None
    queueing_lock: str | None = None
    schedule_in: Mapping[str, int] | None = None

    def deferrer(self, **options: Any) -> procrastinate.jobs.JobDeferrer:
        """The task configured with this request's locks (the task's own defaults otherwise);
        an unknown name is an error, not a job no worker would take."""
        if self.lock is not None:
            options["lock"] = self.lock
        if self.queueing_lock is not None:
            options["queueing_lock"] = self.queueing_lock
        if self.schedule_in is not None:
            options["schedule_in"] = dict(self.schedule_in)
        return job_app.configure_task(str(self.task), allow_unknown=False, **options)

    def new_job(self) -> procrastinate.jobs.Job:
        """The job row procrastinate itself would insert for this request."""
        return self.deferrer().make_new_job(**self.kwargs)


@dataclass(frozen=True, slots=True)
class Reaction:
    """What one step of a set-based write path did: rows it wrote, and the jobs it asks to be
    deferred on the same transaction (a repository never defers a job itself)."""

    rows: int = 0
    jobs: tuple[JobRequest, ...] = ()


async def defer(
    target: AsyncSession | psycopg.AsyncConnection[Any], request: JobRequest
) -> int | None:
    """Defer ``request`` on the caller's own transaction (transactional outbox): the job
    exists if and only if the caller's writes commit.

    Returns the job id, or None when an identical job is already queued (its
    ``queueing_lock`` is taken).
    """
    connection = await driver_connection(target) if isinstance(target, AsyncSession) else target
    try:
        # A savepoint of psycopg's own (SQLAlchemy cannot see statements run on the driver
        # connection): without it, a refused deferral would abort the caller's transaction
        # and its COMMIT would silently roll back.
        async with connection.transaction():
            job_id: int = await request.deferrer(connection=connection).defer_async(
                **request.kwargs
            )
            return job_id
    except procrastinate.exceptions.AlreadyEnqueued:
        return None


async def defer_or_join(target: AsyncSession, request: JobRequest) -> int:
    """``defer`` ``request``; when an identical job is already waiting (its queueing lock is
    taken), the id of that job instead, which will do the same work."""
    job_id = await defer(target, request)
    if job_id is not None:
        return job_id
    queueing_lock = request.deferrer().job.queueing_lock
    queued = await target.scalar(
        text("SELECT id FROM procrastinate_jobs WHERE queueing_lock = :lock AND status = 'todo'"),
        {"lock": queueing_lock},
    )
    if queued is None:  # it started between the two statements: queue ours after all
        return await defer_or_join(target, request)
    return int(queued)


async def defer_all(
    target: AsyncSession | psycopg.AsyncConnection[Any], requests: Iterable[JobRequest]
) -> list[int | None]:
    """``defer`` each request in order, on the caller's transaction."""
    return [await defer(target, request) for request in requests]
