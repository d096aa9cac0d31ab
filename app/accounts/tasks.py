"""Account jobs: rescoring every account when the active ICP changes."""

from __future__ import annotations

import logging
import time

from app.accounts.service import RescoreProgress, rescore_batch
from app.core.db import get_database
from app.icps.repository import IcpRepository
from app.jobs import job_app

log = logging.getLogger(__name__)

RESCORE_BATCH_SIZE = 20_000


@job_app.task(queue="scoring", lock="rescore-all", queueing_lock="rescore-all")
async def rescore_all_accounts(icp_version_id: str) -> dict[str, int]:
    """Rescore every live account against the ICP that is active when the job runs.

    ``icp_version_id`` names the activation that asked; a later activation collapses into
    this job (queueing lock), which is why it always reads the active version. One
    transaction per batch: a killed worker's retry starts over, and since unchanged verdicts
    are not rewritten, what was already done costs a read, not a write.
    """
    database = get_database()
    progress = RescoreProgress()
    started = time.perf_counter()
    async with database.transaction() as session:
        version = await IcpRepository(session).get_active()
    if version is None:
        log.info("rescore requested by %s but no ICP is active", icp_version_id)
        return {"scored": 0, "changed": 0}
    while True:
        async with database.transaction() as session:
            scored, counts, last_id = await rescore_batch(
                session,
                version=version,
                after_id=progress.last_account_id,
                batch_size=RESCORE_BATCH_SIZE,
            )
        if scored == 0:
            break
        progress.scored += scored
        progress.changed += counts.changed
        progress.history += counts.history
        progress.last_account_id = last_id
    log.info(
        "rescored %d accounts against %s in %.1fs (%d changed)",
        progress.scored,
        version.label,
        time.perf_counter() - started,
        progress.changed,
    )
    return {"scored": progress.scored, "changed": progress.changed, "history": progress.history}
