"""Sync jobs: one run per job, under the connection's lock; incremental syncs on schedule."""

from __future__ import annotations

import logging
import uuid

import procrastinate
from procrastinate import JobContext

from app.core.db import get_database
from app.jobs import TaskName, job_app, task
from app.models import SyncStatus
from app.sync.pipeline import mark_failed, run_sync
from app.sync.repository import SyncRunRepository
from app.sync.service import request_sync
from connectors.base import RetriableError

log = logging.getLogger(__name__)

SYNC_RETRY = procrastinate.RetryStrategy(
    max_attempts=8, wait=5, exponential_wait=3, retry_exceptions={RetriableError}
)


@task(TaskName.SYNC_CONNECTION, queue="sync", retry=SYNC_RETRY, pass_context=True)
async def sync_connection(context: JobContext, sync_run_id: str) -> dict[str, int]:
    """Run one sync; a CRM that keeps failing (429/5xx/timeouts) is retried with backoff,
    resuming at the last committed page."""
    database = get_database()
    run_id = uuid.UUID(sync_run_id)
    try:
        run = await run_sync(database, run_id=run_id)
    except RetriableError as exc:
        attempts = (context.job.attempts or 0) + 1
        if attempts >= SYNC_RETRY.max_attempts:  # type: ignore[operator]
            await mark_failed(
                database, run_id=run_id, error=f"gave up after {attempts} tries: {exc}"
            )
        else:
            log.warning("sync run %s will be retried (try %d): %s", run_id, attempts, exc)
        raise
    except Exception as exc:
        # Not retried (credentials that cannot be decrypted, a bug): the run must not stay
        # "running" with no word of why.
        await mark_failed(database, run_id=run_id, error=f"{type(exc).__name__}: {exc}")
        raise
    if run.status == SyncStatus.FAILED:
        log.warning("sync run %s failed: %s", run_id, run.error)
    return dict(run.counts)


@job_app.periodic(cron="* * * * *", periodic_id="schedule-incremental-syncs")
@task(
    TaskName.SCHEDULE_INCREMENTAL_SYNCS,
    queue="maintenance",
    queueing_lock="schedule_incremental_syncs",
)
async def schedule_incremental_syncs(timestamp: int) -> int:
    """Queue an incremental sync for every connection whose interval has passed."""
    async with get_database().transaction() as session:
        due = await SyncRunRepository(session).due_for_incremental()
        for connection_id in due:
            await request_sync(session, connection_id=connection_id, mode="incremental")
    return len(due)
