"""Housekeeping that runs on a schedule in whichever worker picks it up first."""

from __future__ import annotations

import logging

from app.core.config import get_settings
from app.jobs import TaskName, job_app, task

log = logging.getLogger(__name__)


# Every 15 seconds (croniter's sixth field): a killed worker's job, which holds its
# connection's lock meanwhile, is requeued within ICP_SYNC_STALLED_JOB_SECONDS + 15 s.
STALLED_CHECK_CRON = "* * * * * */15"


@job_app.periodic(cron=STALLED_CHECK_CRON, periodic_id="retry-stalled-jobs")
@task(TaskName.RETRY_STALLED_JOBS, queue="maintenance", queueing_lock="retry_stalled_jobs")
async def retry_stalled_jobs(timestamp: int) -> int:
    """Requeue jobs whose worker died mid-job (no heartbeat), so no sync or rescore is lost."""
    manager = job_app.job_manager
    stalled_after = get_settings().stalled_job_seconds
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after))
    for job in stalled:
        await manager.retry_job(job)
        log.warning("requeued stalled job %s (%s)", job.id, job.task_name)
    await manager.prune_stalled_workers(stalled_after)
    return len(stalled)


@job_app.periodic(cron="17 3 * * *", periodic_id="remove-old-jobs")
@task(TaskName.REMOVE_OLD_JOBS, queue="maintenance", queueing_lock="remove_old_jobs")
async def remove_old_jobs(timestamp: int) -> None:
    """Keep the jobs table small: drop succeeded jobs older than a week."""
    await job_app.job_manager.delete_old_jobs(nb_hours=24 * 7)
