"""Write-back jobs: flush a connection's outbox (after a rescore, or to retry failures)."""

from __future__ import annotations

import uuid

from app.connections.repository import ConnectionRepository
from app.connections.service import open_connector
from app.core.db import get_database
from app.jobs import TaskName, job_app, task
from app.writeback.pipeline import flush_outbox
from app.writeback.service import queue_due_flushes


@task(TaskName.FLUSH_WRITEBACKS, queue="sync", pass_context=False)
async def flush_writebacks(connection_id: str) -> dict[str, int]:
    """Write every due verdict of one connection (deferred with the connection's lock)."""
    database = get_database()
    async with database.transaction() as session:
        connection = await ConnectionRepository(session).get(uuid.UUID(connection_id))
    if connection is None:
        return {"written": 0, "failed": 0}
    opened = open_connector(connection, database_url=database.url)
    try:
        counts = await flush_outbox(
            database, connection_id=connection.id, connector=opened.connector
        )
    finally:
        opened.close()
    return {"written": counts.written, "failed": counts.failed}


@job_app.periodic(cron="* * * * *", periodic_id="flush-due-writebacks")
@task(TaskName.FLUSH_DUE_WRITEBACKS, queue="maintenance", queueing_lock="flush_due_writebacks")
async def flush_due_writebacks(timestamp: int) -> int:
    """Retry refused or interrupted writes once their backoff has passed."""
    async with get_database().transaction() as session:
        return await queue_due_flushes(session)
