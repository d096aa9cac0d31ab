"""Sync rules: a run is requested (and its job deferred) in the caller's transaction; one
waiting run per connection serves every request. Carrying a run out is app.sync.pipeline."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.connections.service import get_connection
from app.core.cursors import decode_cursor, encode_cursor
from app.core.errors import BadRequest, NotFound, ValidationFailed, problem
from app.jobs import JobRequest, TaskName, defer
from app.jobs.locks import connection_lock
from app.models import SyncRun, SyncStatus
from app.sync.repository import SyncRunRepository

SYNC_MODES = ("incremental", "full")


async def request_sync(session: AsyncSession, *, connection_id: uuid.UUID, mode: str) -> SyncRun:
    """Queue a sync run (deferred in this transaction); reuse one already waiting."""
    if mode not in SYNC_MODES:
        raise ValidationFailed([problem("mode", "mode is 'incremental' or 'full'")])
    await get_connection(session, connection_id=connection_id)
    runs = SyncRunRepository(session)
    await runs.lock_connection(connection_id)
    waiting = await runs.waiting(connection_id)
    if waiting is not None:
        if mode == "full":
            waiting.mode = "full"
        return waiting
    run = await runs.add(SyncRun(connection_id=connection_id, mode=mode, status=SyncStatus.QUEUED))
    await defer(
        session,
        JobRequest(
            TaskName.SYNC_CONNECTION,
            {"sync_run_id": str(run.id)},
            lock=connection_lock(connection_id),
        ),
    )
    return run


async def get_sync_run(session: AsyncSession, *, run_id: uuid.UUID) -> SyncRun:
    """One run, or NotFound."""
    run = await SyncRunRepository(session).get(run_id)
    if run is None:
        raise NotFound(f"no sync run {run_id}")
    return run


async def list_sync_runs(
    session: AsyncSession,
    *,
    connection_id: uuid.UUID | None,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[SyncRun], str | None]:
    """One page of runs, newest first, and the cursor of the next (None on the last)."""
    if status is not None and status not in set(SyncStatus):
        raise ValidationFailed(
            [problem("status", f"status is one of {', '.join(s.value for s in SyncStatus)}")]
        )
    before = None
    if cursor:
        created_at, run_id = decode_cursor(cursor, "sync-runs", types=(str, str))
        try:
            before = (datetime.fromisoformat(created_at), uuid.UUID(run_id))
        except ValueError:
            raise BadRequest("invalid cursor; pass back next_cursor unchanged") from None
    runs = await SyncRunRepository(session).page(
        connection_id=connection_id, status=status, before=before, limit=limit + 1
    )
    if len(runs) <= limit:
        return runs, None
    last = runs[limit - 1]
    return runs[:limit], encode_cursor("sync-runs", last.created_at.isoformat(), str(last.id))
