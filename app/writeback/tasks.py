"""Write-back jobs: flush a connection's outbox (after a rescore, or to retry failures)."""

from __future__ import annotations

import uuid

from app.connections.repository import ConnectionRepository
from app.connections.service import open_connector
from app.core.db import get_database
from app.jobs import job_app
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
