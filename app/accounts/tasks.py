"""Account jobs: rescoring every account when the active ICP changes."""

from __future__ import annotations

import logging
import time

import procrastinate
import psycopg

from app.accounts.pipeline import rescore_active_version
from app.core.db import get_database
from app.icps.repository import IcpRepository
from app.jobs import JobRequest, TaskName, defer, task
from app.jobs.locks import RESCORE_LOCK
from app.writeback.service import queue_due_flushes

log = logging.getLogger(__name__)

# A batch refused for concurrent changes more often than the pipeline retries it (a storm of
# edits on the same accounts) fails the job; it starts over a little later, where what was
# done already costs a read, not a write.
RESCORE_RETRY = procrastinate.RetryStrategy(
    max_attempts=3, wait=5, retry_exceptions={psycopg.errors.SerializationFailure}
)


@task(
    TaskName.RESCORE_ALL_ACCOUNTS,
    queue="scoring",
    lock=RESCORE_LOCK,
    queueing_lock=RESCORE_LOCK,
    retry=RESCORE_RETRY,
)
async def rescore_all_accounts(icp_version_id: str) -> dict[str, int]:
    """Rescore every live account against the ICP that is active when the job runs.

    ``icp_version_id`` names the activation that asked; a later activation collapses into
    this job (queueing lock), which is why it always reads the active version. A killed
    worker's retry starts over; unchanged verdicts are not rewritten, so what was already
    done costs a read, not a write.
    """
    started = time.perf_counter()
    database = get_database()
    async with database.transaction() as session:
        version = await IcpRepository(session).get_active()
    if version is None:
        log.info("rescore requested by %s but no ICP is active", icp_version_id)
        return {"scored": 0, "changed": 0, "history": 0}
    progress = await rescore_active_version(database, version)
    async with database.transaction() as session:
        # Changed verdicts of CRM accounts are in the outbox now: write them back.
        await queue_due_flushes(session)
        # Every account has this version's tier now: its drift baseline can be taken (kept
        # if it has one since its activation).
        await defer(
            session,
            JobRequest(TaskName.SNAPSHOT_ICP_BASELINE, {"icp_version_id": str(version.id)}),
        )
    log.info(
        "rescored %d accounts against %s in %.1fs (%d changed)",
        progress.scored,
        version.label,
        time.perf_counter() - started,
        progress.changed,
    )
    return {"scored": progress.scored, "changed": progress.changed, "history": progress.history}
