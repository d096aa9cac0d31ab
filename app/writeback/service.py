"""Write-back rules: what a pending verdict sends to the CRM, when a failed write is retried,
and queueing the flushes that write them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs import JobRequest, TaskName, defer
from app.jobs.locks import connection_lock, flush_queueing_lock
from app.writeback.repository import PendingWrite, WritebackRepository
from connectors.base import AccountRecord, WriteBack

# A write that failed this many times waits for an operator (it stays visible in the outbox).
MAX_ATTEMPTS = 10
FIRST_RETRY_SECONDS = 30.0


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


def flush_request(connection_id: uuid.UUID) -> JobRequest:
    """The job that writes a connection's due verdicts: under the connection's lock (in line
    with its syncs), one waiting per connection."""
    return JobRequest(
        TaskName.FLUSH_WRITEBACKS,
        {"connection_id": str(connection_id)},
        lock=connection_lock(connection_id),
        queueing_lock=flush_queueing_lock(connection_id),
    )


async def queue_due_flushes(session: AsyncSession) -> int:
    """Queue a flush for every connection with due writes (one waiting flush each)."""
    due = await WritebackRepository(session).connections_with_due_writes()
    for connection_id in due:
        await defer(session, flush_request(connection_id))
    return len(due)


async def queue_repairs(
    session: AsyncSession, *, connection_id: uuid.UUID, records: Sequence[AccountRecord]
) -> int:
    """Queue a write wherever a record's icp-sync fields, as just read, differ from the verdict
    icp-sync stands by (a hand edit, a CRM restore); returns how many were queued."""
    held = [
        (record.external_id, record.crm_verdict)
        for record in records
        if record.crm_verdict is not None and not record.archived
    ]
    return await WritebackRepository(session).queue_repairs(connection_id, held)
