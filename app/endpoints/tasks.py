"""Delivery jobs: one pass over due attempts at a time, queued after writes and every minute."""

from __future__ import annotations

import procrastinate.exceptions
from psycopg import AsyncConnection
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import get_settings
from app.core.db import driver_connection, get_database
from app.endpoints.delivery import deliver_due, utc_now
from app.endpoints.repository import EndpointRepository
from app.jobs import job_app

# ``lock``: passes never overlap (a batch is read, sent, then recorded: two passes at once
# would send it twice). ``queueing_lock``: one waiting pass is enough, it sees every row.
DELIVERY_LOCK = "webhooks-out"
DELIVERY_QUEUEING_LOCK = "deliver_webhooks"


@job_app.task(
    queue="webhooks", lock=DELIVERY_LOCK, queueing_lock=DELIVERY_QUEUEING_LOCK, pass_context=False
)
async def deliver_webhooks() -> dict[str, int]:
    """Send every due webhook attempt."""
    counts = await deliver_due(
        get_database(), allow_private=get_settings().webhook_allow_private_targets
    )
    return {"succeeded": counts.succeeded, "failed": counts.failed}


async def queue_delivery_on(connection: AsyncConnection[object]) -> None:
    """Queue a delivery pass in ``connection``'s transaction: it runs once that commits."""
    try:
        # Our own savepoint: a refused deferral must not abort the caller's transaction.
        async with connection.transaction():
            await deliver_webhooks.configure(connection=connection).defer_async()
    except procrastinate.exceptions.AlreadyEnqueued:
        pass  # a waiting pass will see these rows too


async def queue_delivery(session: AsyncSession) -> None:
    """Queue a delivery pass in the session's transaction."""
    await queue_delivery_on(await driver_connection(session))


@job_app.periodic(cron="* * * * *", periodic_id="deliver-due-webhooks")
@job_app.task(queue="maintenance", queueing_lock="deliver_due_webhooks")
async def deliver_due_webhooks(timestamp: int) -> bool:
    """Queue a pass when retries have come due (first attempts are queued by the write)."""
    async with get_database().transaction() as session:
        if not await EndpointRepository(session).any_due(now=utc_now()):
            return False
        await queue_delivery(session)
    return True
