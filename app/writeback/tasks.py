"""Write-back jobs: flush a connection's outbox (after a rescore, or to retry failures)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.connections.repository import ConnectionRepository
from app.connections.service import open_connector
from app.core.db import get_database
from app.jobs import defer_in_transaction, job_app
from app.writeback.repository import WritebackRepository
from app.writeback.service import flush_outbox


@job_app.task(queue="sync", pass_context=False)
async def flush_writebacks(connection_id: str) -> dict[str, int]:
    """Write every due verdict of one connection (defer it with the connection's lock)."""
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


async def queue_due_flushes(session: AsyncSession) -> int:
    """Queue a flush for every connection with due writes (one waiting flush each)."""
    from app.sync.service import connection_lock

    due = await WritebackRepository(session).connections_with_due_writes()
    for connection_id in due:
        await defer_in_transaction(
            session,
            flush_writebacks,
            lock=connection_lock(connection_id),
            queueing_lock=f"flush:{connection_id}",
            connection_id=str(connection_id),
        )
    return len(due)


@job_app.periodic(cron="* * * * *", periodic_id="flush-due-writebacks")
@job_app.task(queue="maintenance", queueing_lock="flush_due_writebacks")
async def flush_due_writebacks(timestamp: int) -> int:
    """Retry refused or interrupted writes once their backoff has passed."""
    async with get_database().transaction() as session:
        return await queue_due_flushes(session)
