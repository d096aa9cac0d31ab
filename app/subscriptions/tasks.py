"""Delivery jobs: one pass over due attempts at a time, queued after writes, when a retry
comes due within the minute, and every minute."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import get_settings
from app.core.db import get_database
from app.jobs import JobRequest, TaskName, defer, job_app, task
from app.jobs.locks import DELIVERY_LOCK, DELIVERY_QUEUEING_LOCK, DELIVERY_RETRY_QUEUEING_LOCK
from app.subscriptions.delivery import utc_now
from app.subscriptions.pipeline import deliver_due
from app.subscriptions.repository import EndpointRepository

# Retries due later than this are left to the periodic pass.
PERIODIC_PASS = timedelta(minutes=1)
# Events and their attempt rows are kept this long once no attempt is pending.
KEEP_DELIVERED = timedelta(days=30)


@task(
    TaskName.DELIVER_WEBHOOKS,
    queue="webhooks",
    lock=DELIVERY_LOCK,
    queueing_lock=DELIVERY_QUEUEING_LOCK,
    pass_context=False,
)
async def deliver_webhooks() -> dict[str, int]:
    """Send every due webhook attempt, then schedule a pass for the next retry if it is due
    before the periodic one (the 5-second retry would otherwise wait up to a minute)."""
    database = get_database()
    counts = await deliver_due(database, allow_private=get_settings().webhook_allow_private_targets)
    async with database.transaction() as session:
        await schedule_retry_pass(session, now=utc_now())
    return {"succeeded": counts.succeeded, "failed": counts.failed}


async def schedule_retry_pass(session: AsyncSession, *, now: datetime) -> int | None:
    """Queue a pass for when the next retry is due, if that comes before the periodic pass;
    returns its job id (None: none needed, or one is already waiting)."""
    next_due = await EndpointRepository(session).next_due_at()
    if next_due is None or next_due - now >= PERIODIC_PASS:
        return None
    wait = max(0, math.ceil((next_due - now).total_seconds()))
    return await defer(
        session,
        JobRequest(
            TaskName.DELIVER_WEBHOOKS,
            queueing_lock=DELIVERY_RETRY_QUEUEING_LOCK,
            schedule_in={"seconds": wait},
        ),
    )


@job_app.periodic(cron="* * * * *", periodic_id="deliver-due-webhooks")
@task(TaskName.DELIVER_DUE_WEBHOOKS, queue="maintenance", queueing_lock="deliver_due_webhooks")
async def deliver_due_webhooks(timestamp: int) -> bool:
    """Queue a pass when retries have come due (first attempts are queued by the write)."""
    async with get_database().transaction() as session:
        if not await EndpointRepository(session).any_due(now=utc_now()):
            return False
        await defer(session, JobRequest(TaskName.DELIVER_WEBHOOKS))
    return True


@job_app.periodic(cron="43 3 * * *", periodic_id="prune-webhook-events")
@task(TaskName.PRUNE_WEBHOOK_EVENTS, queue="maintenance", queueing_lock="prune_webhook_events")
async def prune_webhook_events(timestamp: int) -> int:
    """Keep the outgoing-webhook tables small: events over 30 days old with no attempt
    pending go, with their attempt rows."""
    async with get_database().transaction() as session:
        return await EndpointRepository(session).prune(older_than=utc_now() - KEEP_DELIVERED)
