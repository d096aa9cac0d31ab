"""Queries on the webhook inbox."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import procrastinate.jobs
import psycopg
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.inbox.events import InboxEvent
from app.models import Account, WebhookInbox


class WebhookInboxRepository:
    """Every SQL statement about ``webhook_inbox``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def unprocessed_count(self) -> int:
        """Events received and not yet processed, over every connection."""
        count = await self.session.scalar(
            select(func.count())
            .select_from(WebhookInbox)
            .where(WebhookInbox.processed_at.is_(None))
        )
        return int(count or 0)

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

    async def connections_with_stale_events(self, *, received_before: datetime) -> list[uuid.UUID]:
        """Connections with events still unprocessed that arrived before ``received_before``."""
        result = await self.session.scalars(
            select(WebhookInbox.connection_id)
            .where(WebhookInbox.processed_at.is_(None), WebhookInbox.received_at < received_before)
            .distinct()
        )
        return list(result.all())

    async def prune(self, *, processed_before: datetime) -> int:
        """Forget events processed before ``processed_before``; returns how many."""
        result = await self.session.execute(
            delete(WebhookInbox).where(WebhookInbox.processed_at < processed_before)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def archive(self, connection_id: uuid.UUID, external_ids: Sequence[str]) -> None:
        """Mark accounts the CRM deleted as archived (they are written no more)."""
        if external_ids:
            await self.session.execute(
                update(Account)
                .where(Account.connection_id == connection_id)
                .where(Account.external_id.in_(external_ids))
                .values(archived=True)
            )


# procrastinate's unique index on waiting jobs' queueing locks.
QUEUEING_LOCK_INDEX = "procrastinate_jobs_queueing_lock_idx_v1"


async def store_events(
    connection: psycopg.AsyncConnection[Any],
    deliveries: Sequence[tuple[uuid.UUID, Sequence[InboxEvent]]],
    *,
    jobs: Mapping[uuid.UUID, procrastinate.jobs.Job],
) -> set[tuple[uuid.UUID, str]]:
    """Store the events of several deliveries, and defer ``jobs[c]`` for each connection
    ``c`` that got new events and has no job of that queueing lock waiting, in ONE
    statement: on an autocommit connection that is one transaction and one round trip (an
    explicit transaction costs two more, and the ingest path is the hottest there is).
    A redelivered event (same connection and dedupe key) is dropped. Returns the
    (connection id, dedupe key) pairs that were new.

    Rows travel as one JSON document per table (orjson encodes it in one call; psycopg's
    per-array dumping was two fifths of the batch's CPU).

    Raises psycopg.errors.UniqueViolation on ``QUEUEING_LOCK_INDEX`` when another
    transaction deferred the same job meanwhile; nothing is written then, and a retry will
    find that job waiting."""
    events = [
        {
            "connection_id": c,
            "dedupe_key": e.dedupe_key,
            "event_type": e.event_type,
            "object_id": e.object_id,
            "payload": e.payload,
        }
        for c, batch in deliveries
        for e in batch
    ]
    if not events:
        return set()
    to_defer = [
        {
            "connection_id": c,
            "queue_name": job.queue,
            "task_name": job.task_name,
            "priority": job.priority,
            "lock": job.lock,
            "queueing_lock": job.queueing_lock,
            "args": job.task_kwargs,
        }
        for c, job in jobs.items()
    ]
    cursor = await connection.execute(
        """
        WITH added AS (
            INSERT INTO webhook_inbox (connection_id, dedupe_key, event_type, object_id,
                                       payload)
            SELECT * FROM jsonb_to_recordset(%s::jsonb)
                AS e(connection_id uuid, dedupe_key text, event_type text, object_id text,
                     payload jsonb)
            -- the same order in every batch: two writers sharing events never deadlock
            ORDER BY connection_id, dedupe_key
            ON CONFLICT (connection_id, dedupe_key) DO NOTHING
            RETURNING connection_id, dedupe_key
        ),
        deferred AS (
            -- procrastinate's own SQL entry point: what Task.defer_async runs.
            SELECT procrastinate_defer_jobs_v1(array_agg(
                       ROW(job.queue_name, job.task_name, job.priority, job.lock,
                           job.queueing_lock, job.args, NULL
                       )::procrastinate_job_to_defer_v1)) AS ids
            FROM jsonb_to_recordset(%s::jsonb)
                AS job(connection_id uuid, queue_name text, task_name text, priority int,
                       lock text, queueing_lock text, args jsonb)
            WHERE job.connection_id IN (SELECT connection_id FROM added)
              AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs waiting
                              WHERE waiting.queueing_lock = job.queueing_lock
                                AND waiting.status = 'todo')
            HAVING count(*) > 0
        )
        SELECT connection_id, dedupe_key FROM added
        UNION ALL  -- referenced, so that it runs; its one row is told apart by the NULLs
        SELECT NULL, NULL FROM deferred
        """,
        (orjson.dumps(events).decode(), orjson.dumps(to_defer).decode()),
    )
    return {(c, key) for c, key in await cursor.fetchall() if c is not None}
