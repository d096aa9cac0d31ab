"""Flushing the write-back outbox: pending verdicts in CRM-sized batches, each confirmed or
kept for a retry. Runs in jobs (and inside a sync), committing per round."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database
from app.writeback.repository import PendingWrite, WritebackRepository
from app.writeback.service import retry_time, writeback_values
from connectors.base import Connector, WriteResult

log = logging.getLogger(__name__)

# Write calls per round trip to the outbox: confirmations are recorded per round, so a crash
# re-sends at most this many calls' worth (harmless: the same values again).
CALLS_PER_ROUND = 10
# Write calls of a round in flight at once: one call's answer is awaited while the next is
# sent and the last is parsed, so a round is not a chain of round trips. Two, not more: the
# connector's limiter paces them to the CRM's rate limit either way.
CALLS_IN_FLIGHT = 2


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
        batches = [due[start : start + size] for start in range(0, len(due), size)]
        for batch, results in zip(batches, await _write_batches(connector, batches), strict=True):
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


async def _write_batches(
    connector: Connector, batches: Sequence[Sequence[PendingWrite]]
) -> list[list[WriteResult]]:
    """Each batch's results, in order, with up to CALLS_IN_FLIGHT calls at once. The first
    call to fail stops the round: no further call is sent, and its error is raised once the
    calls in flight have returned (nothing of the round is confirmed; those writes are sent
    again later, the same values)."""
    room = asyncio.Semaphore(CALLS_IN_FLIGHT)
    errors: list[BaseException] = []

    async def write(batch: Sequence[PendingWrite]) -> list[WriteResult]:
        async with room:
            if errors:
                return []
            try:
                return await asyncio.to_thread(
                    connector.write_batch, [writeback_values(w) for w in batch]
                )
            except Exception as exc:
                errors.append(exc)
                return []

    results = await asyncio.gather(*(write(batch) for batch in batches))
    if errors:
        raise errors[0]
    return results
