"""Queries on webhook endpoints, their events and delivery attempts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import StagedRows
from app.jobs import JobRequest, Reaction, TaskName
from app.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

# One statement: diff the staged verdicts against the current ones, insert an event per
# account and event type that some enabled endpoint subscribes to, and a pending first
# attempt per subscribed endpoint. Runs while ``account_scores`` still holds the old
# verdicts (app.verdicts.service). {stage} is the staging table.
_EVENTS_FROM_STAGE = """
WITH subscribed AS (
    SELECT id, events FROM webhook_endpoints WHERE disabled_at IS NULL
), changes AS (
    SELECT s.account_id, s.icp_version_id, s.score, s.tier, s.is_mql, s.is_sql, s.scored_at,
           c.account_id IS NOT NULL AS had_verdict, c.score AS old_score, c.tier AS old_tier,
           c.is_mql AS old_mql, c.is_sql AS old_sql
    FROM {stage} s LEFT JOIN account_scores c USING (account_id)
    WHERE (c.account_id IS NOT NULL AND c.tier <> s.tier)
       OR (s.is_mql AND NOT coalesce(c.is_mql, false))
       OR (s.is_sql AND NOT coalesce(c.is_sql, false))
), inserted AS (
    INSERT INTO webhook_events (event_type, account_id, payload)
    SELECT e.event_type, ch.account_id, jsonb_build_object(
        'account_id', ch.account_id,
        'connection_id', a.connection_id,
        'external_id', a.external_id,
        'name', a.name,
        'old', CASE WHEN ch.had_verdict THEN jsonb_build_object(
            'score', ch.old_score, 'tier', ch.old_tier,
            'is_mql', ch.old_mql, 'is_sql', ch.old_sql) END,
        'new', jsonb_build_object(
            'score', ch.score, 'tier', ch.tier, 'is_mql', ch.is_mql, 'is_sql', ch.is_sql),
        'icp_version', v.name || ' v' || v.version,
        'occurred_at', ch.scored_at)
    FROM changes ch
    JOIN accounts a ON a.id = ch.account_id
    JOIN icp_versions v ON v.id = ch.icp_version_id
    CROSS JOIN LATERAL (VALUES
        ('account.tier_changed', ch.had_verdict AND ch.old_tier <> ch.tier),
        ('account.became_mql', ch.is_mql AND NOT coalesce(ch.old_mql, false)),
        ('account.became_sql', ch.is_sql AND NOT coalesce(ch.old_sql, false))
    ) AS e(event_type, happened)
    WHERE e.happened
      AND EXISTS (SELECT 1 FROM subscribed w WHERE e.event_type = ANY(w.events))
    RETURNING id, event_type
)
INSERT INTO webhook_deliveries (endpoint_id, event_id, attempt, status, next_attempt_at)
SELECT w.id, i.id, 1, 'pending', now()
FROM inserted i JOIN subscribed w ON i.event_type = ANY(w.events)
"""


async def record_verdict_events(staged: StagedRows) -> Reaction:
    """Record the account events the staged verdicts cause, compared with the current ones,
    and a first delivery attempt to every enabled endpoint subscribed to them; asks for a
    delivery pass when there are any. With no enabled endpoint it costs one EXISTS on a
    tiny table."""
    cursor = staged.cursor
    await cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE disabled_at IS NULL)"
    )
    row = await cursor.fetchone()
    if not row or not row[0]:
        return Reaction()
    await cursor.execute(_EVENTS_FROM_STAGE.format(stage=staged.table))
    if cursor.rowcount <= 0:
        return Reaction()
    return Reaction(rows=cursor.rowcount, jobs=(JobRequest(TaskName.DELIVER_WEBHOOKS),))


async def record_event(
    session: AsyncSession, *, event_type: str, payload: dict[str, Any]
) -> Reaction:
    """Record one event that names no account (``icp.health_alert``) and a first delivery
    attempt to every enabled endpoint subscribed to its type; asks for a delivery pass when
    there is one. With no such endpoint, nothing is recorded."""
    endpoints = (
        await session.scalars(
            select(WebhookEndpoint.id).where(
                WebhookEndpoint.disabled_at.is_(None),
                WebhookEndpoint.events.contains([event_type]),
            )
        )
    ).all()
    if not endpoints:
        return Reaction()
    event = WebhookEvent(event_type=event_type, payload=payload)
    session.add(event)
    await session.flush()
    session.add_all(
        WebhookDelivery(
            endpoint_id=endpoint_id,
            event_id=event.id,
            attempt=1,
            status="pending",
            next_attempt_at=func.now(),
        )
        for endpoint_id in endpoints
    )
    await session.flush()
    return Reaction(rows=len(endpoints), jobs=(JobRequest(TaskName.DELIVER_WEBHOOKS),))


@dataclass(slots=True, frozen=True)
class DueDelivery:
    """A pending attempt whose time has come, with what sending it needs."""

    id: int
    endpoint_id: uuid.UUID
    event_id: int
    attempt: int
    url: str
    secret: bytes
    event_type: str
    payload: dict[str, Any]
    event_created_at: datetime


@dataclass(slots=True, frozen=True)
class AttemptResult:
    """How one attempt went."""

    delivery: DueDelivery
    attempted_at: datetime
    succeeded: bool
    response_status: int | None = None
    error: str | None = None


class EndpointRepository:
    """Every SQL statement about webhook endpoints, events and deliveries."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        """Insert and flush."""
        self.session.add(endpoint)
        await self.session.flush()
        await self.session.refresh(endpoint)
        return endpoint

    async def get(self, endpoint_id: uuid.UUID) -> WebhookEndpoint | None:
        """One endpoint by id."""
        return await self.session.get(WebhookEndpoint, endpoint_id)

    async def all(self) -> Sequence[WebhookEndpoint]:
        """Every endpoint, oldest first."""
        result = await self.session.scalars(
            select(WebhookEndpoint).order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        )
        return result.all()

    async def delete(self, endpoint: WebhookEndpoint) -> None:
        """Delete an endpoint and, by cascade, its delivery attempts."""
        await self.session.delete(endpoint)
        await self.session.flush()

    async def deliveries(self, endpoint_id: uuid.UUID, *, limit: int) -> list[dict[str, Any]]:
        """An endpoint's delivery attempts, newest first, with their event type."""
        result = await self.session.execute(
            select(WebhookDelivery, WebhookEvent.event_type)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
        return [
            {
                "id": d.id,
                "event_id": d.event_id,
                "event_type": event_type,
                "attempt": d.attempt,
                "status": d.status,
                "response_status": d.response_status,
                "error": d.error,
                "attempted_at": d.attempted_at,
                "next_attempt_at": d.next_attempt_at,
            }
            for d, event_type in result.all()
        ]

    async def due(self, *, now: datetime, limit: int) -> list[DueDelivery]:
        """Pending attempts of enabled endpoints due at ``now``, oldest first."""
        result = await self.session.execute(
            select(
                WebhookDelivery.id,
                WebhookDelivery.endpoint_id,
                WebhookDelivery.event_id,
                WebhookDelivery.attempt,
                WebhookEndpoint.url,
                WebhookEndpoint.secret,
                WebhookEvent.event_type,
                WebhookEvent.payload,
                WebhookEvent.created_at.label("event_created_at"),
            )
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .where(
                WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at <= now,
                WebhookEndpoint.disabled_at.is_(None),
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
        )
        return [DueDelivery(**row._asdict()) for row in result.all()]

    async def any_due(self, *, now: datetime) -> bool:
        """Whether any pending attempt of an enabled endpoint is due at ``now``."""
        query = select(
            exists().where(
                WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at <= now,
                WebhookEndpoint.id == WebhookDelivery.endpoint_id,
                WebhookEndpoint.disabled_at.is_(None),
            )
        )
        return bool(await self.session.scalar(query))

    async def next_due_at(self) -> datetime | None:
        """When the earliest pending attempt of an enabled endpoint is due."""
        query = (
            select(func.min(WebhookDelivery.next_attempt_at))
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.status == "pending", WebhookEndpoint.disabled_at.is_(None))
        )
        return await self.session.scalar(query)

    async def prune(self, *, older_than: datetime) -> int:
        """Forget events created before ``older_than`` whose attempts are all over (their
        delivery rows go with them); returns how many events went."""
        finished = ~exists().where(
            WebhookDelivery.event_id == WebhookEvent.id, WebhookDelivery.status == "pending"
        )
        result = await self.session.execute(
            delete(WebhookEvent).where(WebhookEvent.created_at < older_than, finished)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def record(
        self,
        result: AttemptResult,
        *,
        retry_at: datetime | None,
        disable_after: timedelta,
    ) -> None:
        """Store how an attempt went; queue the next one at ``retry_at`` after a failure;
        track the endpoint's run of failures and disable it once that lasts
        ``disable_after``."""
        delivery = result.delivery
        await self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery.id)
            .values(
                status="succeeded" if result.succeeded else "failed",
                response_status=result.response_status,
                error=result.error[:1000] if result.error else None,
                attempted_at=result.attempted_at,
                next_attempt_at=None if result.succeeded else retry_at,
            )
        )
        if result.succeeded:
            await self.session.execute(
                update(WebhookEndpoint)
                .where(WebhookEndpoint.id == delivery.endpoint_id)
                .values(failing_since=None)
            )
            return
        if retry_at is not None:
            self.session.add(
                WebhookDelivery(
                    endpoint_id=delivery.endpoint_id,
                    event_id=delivery.event_id,
                    attempt=delivery.attempt + 1,
                    status="pending",
                    next_attempt_at=retry_at,
                )
            )
        endpoint = await self.session.get(
            WebhookEndpoint, delivery.endpoint_id, with_for_update=True
        )
        if endpoint is None or endpoint.disabled_at is not None:
            return
        if endpoint.failing_since is None:
            endpoint.failing_since = result.attempted_at
        elif result.attempted_at - endpoint.failing_since >= disable_after:
            endpoint.disabled_at = result.attempted_at
            await self.session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.endpoint_id == endpoint.id,
                    WebhookDelivery.status == "pending",
                )
                .values(status="cancelled", error="endpoint disabled after failing for days")
            )
        await self.session.flush()
