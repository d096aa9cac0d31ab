"""Queries on the webhook inbox."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import procrastinate.jobs
import psycopg
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Account, WebhookInbox
from app.webhooks.events import InboxEvent


class WebhookInboxRepository:
    """Every SQL statement about ``webhook_inbox``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

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

    Raises psycopg.errors.UniqueViolation on ``QUEUEING_LOCK_INDEX`` when another
    transaction deferred the same job meanwhile; nothing is written then, and a retry will
    find that job waiting."""
    # Sorted, so concurrent batches that share events lock them in the same order (no
    # deadlock between two writers).
    rows = sorted(
        ((c, e) for c, events in deliveries for e in events), key=lambda r: (r[0], r[1].dedupe_key)
    )
    if not rows:
        return set()
    cursor = await connection.execute(
        """
        WITH added AS (
            INSERT INTO webhook_inbox (connection_id, dedupe_key, event_type, object_id,
                                       payload)
            SELECT * FROM unnest(%b::uuid[], %b::text[], %b::text[], %b::text[],
                                 %b::text[]::jsonb[])
            ON CONFLICT (connection_id, dedupe_key) DO NOTHING
            RETURNING connection_id, dedupe_key
        ),
        deferred AS (
            -- procrastinate's own SQL entry point: what Task.defer_async runs.
            SELECT procrastinate_defer_jobs_v1(array_agg(
                       ROW(job.queue_name, job.task_name, job.priority, job.lock,
                           job.queueing_lock, job.args, NULL
                       )::procrastinate_job_to_defer_v1)) AS ids
            FROM unnest(%b::uuid[], %b::text[], %b::text[], %b::int[], %b::text[], %b::text[],
                        %b::text[]::jsonb[])
                 AS job(connection_id, queue_name, task_name, priority, lock, queueing_lock,
                        args)
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
        (
            [c for c, _ in rows],
            [e.dedupe_key for _, e in rows],
            [e.event_type for _, e in rows],
            [e.object_id for _, e in rows],
            [orjson.dumps(e.payload).decode() for _, e in rows],
            list(jobs),
            [j.queue for j in jobs.values()],
            [j.task_name for j in jobs.values()],
            [j.priority for j in jobs.values()],
            [j.lock for j in jobs.values()],
            [j.queueing_lock for j in jobs.values()],
            [orjson.dumps(j.task_kwargs).decode() for j in jobs.values()],
        ),
    )
    return {(c, key) for c, key in await cursor.fetchall() if c is not None}
