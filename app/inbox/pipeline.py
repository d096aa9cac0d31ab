"""Processing a connection's webhook inbox: read what changed through the connector,
rescore, write back. Runs in the inbox job, under the connection's lock."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from app.accounts.service import account_rows, store_outcomes, upsert_and_score
from app.connections.service import get_connection, open_connector
from app.core.db import Database
from app.inbox.events import DELETIONS, HUBSPOT_OBJECTS, object_of
from app.inbox.repository import WebhookInboxRepository
from app.models import WebhookInbox
from app.writeback.pipeline import flush_outbox
from connectors.base import ContactRecord, DealRecord, OutcomeReader

T = TypeVar("T")

INBOX_BATCH = 500


async def process_inbox(database: Database, *, connection_id: uuid.UUID) -> dict[str, int]:
    """Work the connection's inbox: ten changes to one company (deal, contact) cost one read;
    a changed deal or contact rescores its companies."""
    processed = written = 0
    async with database.transaction() as session:
        connection = await get_connection(session, connection_id=connection_id)
    opened = open_connector(connection, database_url=database.url)
    connector = opened.connector
    try:
        while True:
            async with database.transaction() as session:
                events = await WebhookInboxRepository(session).pending(
                    connection_id, limit=INBOX_BATCH
                )
            if not events:
                break
            changes = _changes(events)
            companies = await _read(connector.read_by_ids, changes["company"].changed)
            deals: list[DealRecord] = []
            contacts: list[ContactRecord] = []
            if isinstance(connector, OutcomeReader):
                deals = await _read(connector.read_deals_by_ids, changes["deal"].changed)
                contacts = await _read(connector.read_contacts_by_ids, changes["contact"].changed)
            async with database.transaction() as session:
                inbox = WebhookInboxRepository(session)
                await upsert_and_score(
                    session, connection_id=connection_id, accounts=account_rows(companies)
                )
                await inbox.archive(connection_id, changes["company"].deleted)
                await store_outcomes(
                    session,
                    connection_id=connection_id,
                    deals=deals,
                    contacts=contacts,
                    archived_deals=changes["deal"].deleted,
                    archived_contacts=changes["contact"].deleted,
                )
                await inbox.mark_processed([e.id for e in events])
            flushed = await flush_outbox(database, connection_id=connection_id, connector=connector)
            processed += len(events)
            written += flushed.written
    finally:
        opened.close()
    return {"processed": processed, "written": written}


@dataclass(slots=True)
class _Changes:
    """One object's ids in a batch of events: changed (to read again) and deleted."""

    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


def _changes(events: Sequence[WebhookInbox]) -> dict[str, _Changes]:
    ids: dict[str, tuple[set[str], set[str]]] = {o: (set(), set()) for o in HUBSPOT_OBJECTS}
    for event in events:
        changed, deleted = ids[object_of(event.event_type)]
        (deleted if event.event_type in DELETIONS else changed).add(event.object_id)
    return {
        obj: _Changes(sorted(changed - deleted), sorted(deleted))
        for obj, (changed, deleted) in ids.items()
    }


async def _read(read_by_ids: Callable[[list[str]], list[T]], ids: list[str]) -> list[T]:
    """The records as they are now, read off the event loop (none to read: no call)."""
    return await asyncio.to_thread(read_by_ids, ids) if ids else []
