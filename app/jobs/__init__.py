"""The procrastinate app: jobs live in PostgreSQL, next to the data that needs them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import procrastinate
import procrastinate.exceptions
from procrastinate.psycopg_connector import PsycopgConnector

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

# Task modules register themselves on import; workers import them all.
TASK_MODULES = ["app.jobs.periodic", "app.accounts.tasks"]

job_app = procrastinate.App(connector=PsycopgConnector(), import_paths=TASK_MODULES)


async def defer_in_transaction(
    session: AsyncSession, task: procrastinate.tasks.Task[Any, Any, Any], **kwargs: Any
) -> int | None:
    """Defer ``task`` on the session's own transaction (transactional outbox): the job
    exists if and only if the caller's writes commit.

    Returns the job id, or None when an identical job is already queued (its
    ``queueing_lock`` is taken); the savepoint keeps that from aborting the caller.
    """
    from app.core.db import driver_connection

    connection = await driver_connection(session)
    try:
        async with session.begin_nested():
            job_id: int = await task.configure(connection=connection).defer_async(**kwargs)
            return job_id
    except procrastinate.exceptions.AlreadyEnqueued:
        return None
