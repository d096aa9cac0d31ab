"""Processing a connection's webhook inbox: read what changed through the connector,
rescore, write back. Runs in the inbox job, under the connection's lock."""

from __future__ import annotations

import asyncio
import uuid

from app.accounts.service import account_rows, upsert_and_score
from app.connections.service import get_connection, open_connector
from app.core.db import Database
from app.inbox.repository import WebhookInboxRepository
from app.writeback.pipeline import flush_outbox

INBOX_BATCH = 500
DELETIONS = {"company.deletion", "account.deleted"}


async def process_inbox(database: Database, *, connection_id: uuid.UUID) -> dict[str, int]:
    """Work the connection's inbox: ten changes to one company cost one read."""
    processed = written = 0
    async with database.transaction() as session:
        connection = await get_connection(session, connection_id=connection_id)
    opened = open_connector(connection, database_url=database.url)
    try:
        while True:
            async with database.transaction() as session:
                events = await WebhookInboxRepository(session).pending(
                    connection_id, limit=INBOX_BATCH
                )
            if not events:
                break
            deleted = {e.object_id for e in events if e.event_type in DELETIONS}
            changed = sorted({e.object_id for e in events} - deleted)
            records = (
                await asyncio.to_thread(opened.connector.read_by_ids, changed) if changed else []
            )
            async with database.transaction() as session:
                inbox = WebhookInboxRepository(session)
                await upsert_and_score(
                    session, connection_id=connection_id, accounts=account_rows(records)
                )
                await inbox.archive(connection_id, sorted(deleted))
                await inbox.mark_processed([e.id for e in events])
            flushed = await flush_outbox(
                database, connection_id=connection_id, connector=opened.connector
            )
            processed += len(events)
            written += flushed.written
    finally:
        opened.close()
    return {"processed": processed, "written": written}
