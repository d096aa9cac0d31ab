"""Write-back rules: write pending verdicts in CRM-sized batches, confirm or retry each."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.core.db import Database
from app.writeback.repository import PendingWrite, WritebackRepository
from connectors.base import Connector, WriteBack

log = logging.getLogger(__name__)

# A write that failed this many times waits for an operator (it stays visible in the outbox).
MAX_ATTEMPTS = 10
FIRST_RETRY_SECONDS = 30.0
# Write calls per round trip to the outbox: confirmations are recorded per round, so a crash
# re-sends at most this many calls' worth (harmless: the same values again).
CALLS_PER_ROUND = 10


@dataclass(slots=True)
class FlushCounts:
    """What a flush achieved."""

    written: int = 0
    failed: int = 0


def writeback_values(write: PendingWrite) -> WriteBack:
    """The canonical write-back fields of a pending write (DESIGN §3.4)."""
    values: dict[str, object] = {
        "score": write.score,
        "tier": write.tier,
        "is_mql": write.is_mql,
        "is_sql": write.is_sql,
        "reasons": write.reasons,
        "version": write.icp_label,
        "scored_at": write.scored_at.astimezone(UTC).isoformat(timespec="seconds"),
    }
    if write.lifecycle_stage:
        values["current_lifecycle_stage"] = write.lifecycle_stage
    return WriteBack(external_id=write.external_id, values=values)


def retry_time(attempts_so_far: int, now: datetime) -> datetime:
    """Exponential backoff from 30 s; never again after MAX_ATTEMPTS."""
    if attempts_so_far + 1 >= MAX_ATTEMPTS:
        return datetime.max.replace(tzinfo=UTC)
    return now + timedelta(seconds=FIRST_RETRY_SECONDS * 2**attempts_so_far)


async def flush_outbox(
    database: Database, *, connection_id: uuid.UUID, connector: Connector
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
