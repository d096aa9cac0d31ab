"""Queries on the webhook inbox."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import orjson
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import driver_connection
from app.models import Account, WebhookInbox
from app.webhooks.events import InboxEvent


class WebhookInboxRepository:
    """Every SQL statement about ``webhook_inbox``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, connection_id: uuid.UUID, events: Sequence[InboxEvent], *, queueing_lock: str
    ) -> tuple[int, bool]:
        """Store events; a redelivered one (same dedupe key) is dropped. Returns (how many
        were new, whether a processing job is already waiting) in one round trip: the
        ingest path is hot, and most requests find a job queued already."""
        if not events:
            return 0, True
        connection = await driver_connection(self.session)
        cursor = await connection.execute(
            """
            WITH added AS (
                INSERT INTO webhook_inbox (connection_id, dedupe_key, event_type, object_id,
                                           payload)
                SELECT %b, * FROM unnest(%b::text[], %b::text[], %b::text[],
                                         %b::text[]::jsonb[])
                ON CONFLICT (connection_id, dedupe_key) DO NOTHING
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM added),
                   EXISTS (SELECT 1 FROM procrastinate_jobs
                           WHERE queueing_lock = %b AND status = 'todo')
            """,
            (
                connection_id,
                [e.dedupe_key for e in events],
                [e.event_type for e in events],
                [e.object_id for e in events],
                [orjson.dumps(e.payload).decode() for e in events],
                queueing_lock,
            ),
        )
        row = await cursor.fetchone()
        assert row is not None
        return int(row[0]), bool(row[1])  # type: ignore[index]

    async def pending(self, connection_id: uuid.UUID, *, limit: int) -> list[WebhookInbox]:
        """Unprocessed events of a connection, oldest first."""
        result = await self.session.scalars(
            select(WebhookInbox)
            .where(WebhookInbox.connection_id == connection_id, WebhookInbox.processed_at.is_(None))
            .order_by(WebhookInbox.id)
            .limit(limit)
        )
        return list(result.all())

    async def mark_processed(self, ids: Sequence[int]) -> None:
        """Done with these events."""
        await self.session.execute(
            update(WebhookInbox)
            .where(WebhookInbox.id.in_(ids))
            .values(processed_at=datetime.now(UTC))
        )

    async def archive(self, connection_id: uuid.UUID, external_ids: Sequence[str]) -> None:
        """Mark accounts the CRM deleted as archived (they are written no more)."""
        if external_ids:
            await self.session.execute(
                update(Account)
                .where(Account.connection_id == connection_id)
                .where(Account.external_id.in_(external_ids))
                .values(archived=True)
            )
