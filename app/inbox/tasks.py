"""Webhook jobs: process a connection's inbox under the connection's lock; sweep for events
left waiting; prune what has been processed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import procrastinate

from app.core.db import driver_connection, get_database
from app.inbox.pipeline import process_inbox
from app.inbox.repository import WebhookInboxRepository
from app.inbox.writer import queue_inbox_processing
from app.jobs import TaskName, job_app, task
from connectors.base import RetriableError

INBOX_RETRY = procrastinate.RetryStrategy(
    max_attempts=10, wait=2, exponential_wait=2, retry_exceptions={RetriableError}
)
# Events unprocessed this long with no job waiting get one (see sweep_webhook_inbox).
STALE_AFTER = timedelta(minutes=1)
# Processed events are kept this long, for looking into what a CRM sent.
KEEP_PROCESSED = timedelta(days=7)


@task(TaskName.PROCESS_INBOX, queue="webhooks", retry=INBOX_RETRY)
async def process_webhook_inbox(connection_id: str) -> dict[str, int]:
    """Read the companies the CRM said changed, rescore them, write back what changed;
    events stay in the inbox until this succeeds."""
    return await process_inbox(get_database(), connection_id=uuid.UUID(connection_id))


@job_app.periodic(cron="* * * * *", periodic_id="sweep-webhook-inbox")
@task(TaskName.SWEEP_INBOX, queue="maintenance", queueing_lock="sweep_webhook_inbox")
async def sweep_webhook_inbox(timestamp: int) -> int:
    """Queue processing for inboxes with events waiting over a minute: after a job gave up
    its retries (the CRM was down for long), or when a waiting job started just before the
    batch that counted on it committed. Returns how many jobs were queued."""
    received_before = datetime.now(UTC) - STALE_AFTER
    queued = 0
    async with get_database().transaction() as session:
        inbox = WebhookInboxRepository(session)
        connection = await driver_connection(session)
        for connection_id in await inbox.connections_with_stale_events(
            received_before=received_before
        ):
            if await queue_inbox_processing(connection, connection_id) is not None:
                queued += 1
    return queued


@job_app.periodic(cron="31 3 * * *", periodic_id="prune-webhook-inbox")
@task(TaskName.PRUNE_INBOX, queue="maintenance", queueing_lock="prune_webhook_inbox")
async def prune_webhook_inbox(timestamp: int) -> int:
    """Keep the inbox small: events processed over a week ago go."""
    async with get_database().transaction() as session:
        return await WebhookInboxRepository(session).prune(
            processed_before=datetime.now(UTC) - KEEP_PROCESSED
        )
