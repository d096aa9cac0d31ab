"""Flushing the write-back outbox: pending verdicts in CRM-sized batches, each confirmed or
kept for a retry. Runs in jobs (and inside a sync), committing per round."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database
from app.writeback.repository import PendingWrite, WritebackRepository
from app.writeback.service import retry_time, writeback_values
from connectors.base import Connector

log = logging.getLogger(__name__)

# Write calls per round trip to the outbox: confirmations are recorded per round, so a crash
# re-sends at most this many calls' worth (harmless: the same values again).
CALLS_PER_ROUND = 10


@dataclass(slots=True)
class FlushCounts:
    """What a flush achieved."""

    written: int = 0
    failed: int = 0


# Called in the transaction that records a round's outcome, with that round's counts: what
# tallies writes (a sync run's counts) stays exact however the process dies.
RoundRecorder = Callable[[AsyncSession, FlushCounts], Awaitable[None]]


async def flush_outbox(
    database: Database,
    *,
    connection_id: uuid.UUID,
    connector: Connector,
    record_round: RoundRecorder | None = None,
) -> FlushCounts:
    """Write every due verdict of a connection, a CRM batch at a time. Confirmed writes
    leave the outbox; failed ones stay with their error and a later retry time."""
    counts = FlushCounts()
    size = connector.max_write_batch
    while True:
        async with database.transaction() as session:
            due = await WritebackRepository(session).due(
                connection_id, limit=size * CALLS_PER_ROUND
            )
        if not due:
            return counts
        confirmed: list[PendingWrite] = []
        failed: list[tuple[PendingWrite, str]] = []
        for start in range(0, len(due), size):
            batch = due[start : start + size]
            results = await asyncio.to_thread(
                connector.write_batch, [writeback_values(w) for w in batch]
            )
            by_id = {r.external_id: r for r in results}
            for write in batch:
                result = by_id.get(write.external_id)
                if result is not None and result.ok:
                    confirmed.append(write)
                else:
                    failed.append((write, (result.error if result else None) or "no result"))
        async with database.transaction() as session:
            repository = WritebackRepository(session)
            await repository.confirm(confirmed)
            if failed:
                attempts = await repository.attempts([w.account_id for w, _ in failed])
                now = datetime.now(UTC)
                await repository.fail(
                    failed,
                    retry_at=[retry_time(attempts.get(w.account_id, 0), now) for w, _ in failed],
                )
            if record_round is not None:
                await record_round(session, FlushCounts(len(confirmed), len(failed)))
        counts.written += len(confirmed)
        counts.failed += len(failed)
        if failed:
            log.warning(
                "%d of %d writes refused for connection %s, e.g. %s",
                len(failed),
                len(due),
                connection_id,
                failed[0][1],
            )
