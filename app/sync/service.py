"""Sync rules: a run is requested (and its job deferred) in the caller's transaction; one
waiting run per connection serves every request. Carrying a run out is app.sync.pipeline."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.connections.service import get_connection
from app.core.errors import NotFound, ValidationFailed, problem
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
