"""Delivery passes: every due attempt, batch after batch, sent concurrently and recorded.
Runs in the delivery job, one pass at a time."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import httpx

from app.core.db import Database
from app.subscriptions.delivery import (
    DISABLE_AFTER,
    SEND_TIMEOUT,
    Clock,
    retry_at,
    send_once,
    utc_now,
)
from app.subscriptions.repository import AttemptResult, DueDelivery, EndpointRepository

log = logging.getLogger(__name__)

# Requests in flight at once per batch: keeps one slow subscriber from holding up the rest
# without opening a hundred sockets to it.
CONCURRENCY = 10


@dataclass(slots=True)
class DeliveryCounts:
    """What one delivery pass did."""

    succeeded: int = 0
    failed: int = 0


async def deliver_due(
    database: Database,
    *,
    allow_private: bool,
    now: Clock = utc_now,
    client: httpx.AsyncClient | None = None,
    batch_size: int = 100,
    max_batches: int = 100,
) -> DeliveryCounts:
    """Make every attempt due at ``now()``, batch after batch (an immediate retry is due in
    the same pass). No transaction stays open while a subscriber answers; callers run one
    pass at a time (the job's lock), so a batch is never sent twice."""
    counts = DeliveryCounts()
    own_client = client is None
    http = client or httpx.AsyncClient(timeout=SEND_TIMEOUT, follow_redirects=False)
    limit = asyncio.Semaphore(CONCURRENCY)

    async def attempt(delivery: DueDelivery) -> AttemptResult:
        async with limit:
            return await send_once(http, delivery, allow_private=allow_private, now=now)

    try:
        for _ in range(max_batches):
            async with database.transaction() as session:
                due = await EndpointRepository(session).due(now=now(), limit=batch_size)
            if not due:
                break
            results = await asyncio.gather(*(attempt(d) for d in due))
            async with database.transaction() as session:
                repository = EndpointRepository(session)
                for result in results:
                    await repository.record(
                        result,
                        retry_at=retry_at(result.delivery.attempt, result.attempted_at),
                        disable_after=DISABLE_AFTER,
                    )
            for result in results:
                if result.succeeded:
                    counts.succeeded += 1
                else:
                    counts.failed += 1
                    log.info(
                        "webhook %s attempt %d to endpoint %s failed: %s",
                        result.delivery.event_id,
                        result.delivery.attempt,
                        result.delivery.endpoint_id,
                        result.error,
                    )
    finally:
        if own_client:
            await http.aclose()
    return counts
