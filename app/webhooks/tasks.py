"""Webhook jobs: process a connection's inbox under the connection's lock."""

from __future__ import annotations

import uuid

import procrastinate

from app.core.db import get_database
from app.jobs import job_app
from app.webhooks.service import process_inbox
from connectors.base import RetriableError

INBOX_RETRY = procrastinate.RetryStrategy(
    max_attempts=10, wait=2, exponential_wait=2, retry_exceptions={RetriableError}
)


@job_app.task(queue="webhooks", retry=INBOX_RETRY)
async def process_webhook_inbox(connection_id: str) -> dict[str, int]:
    """Read the companies the CRM said changed, rescore them, write back what changed;
    events stay in the inbox until this succeeds."""
    return await process_inbox(get_database(), connection_id=uuid.UUID(connection_id))
