"""ICP health jobs: the baseline after an activation's rescore, and the daily check."""

from __future__ import annotations

import dataclasses
from typing import Any

from app.core.db import get_database
from app.health.service import check_icp_health, take_baseline
from app.jobs import TaskName, job_app, task
from app.jobs.locks import HEALTH_LOCK


@task(TaskName.SNAPSHOT_ICP_BASELINE, queue="scoring", lock=HEALTH_LOCK, queueing_lock=HEALTH_LOCK)
async def snapshot_icp_baseline(icp_version_id: str) -> bool:
    """Take the active version's baseline once its activation rescore has finished (the
    rescore job queues this as its last step). ``icp_version_id`` names the activation that
    asked; the baseline is always the active version's, and one taken since its activation
    is kept."""
    async with get_database().transaction() as session:
        return await take_baseline(session)


@job_app.periodic(cron="23 5 * * *", periodic_id="check-icp-health")
@task(
    TaskName.CHECK_ICP_HEALTH,
    queue="maintenance",
    lock=HEALTH_LOCK,
    queueing_lock="icp-health-check",
)
async def check_icp_health_daily(timestamp: int) -> dict[str, Any] | None:
    """Evaluate the active ICP's health, announce new alerts as ``icp.health_alert`` events,
    and keep the figures for /metrics."""
    async with get_database().transaction() as session:
        check = await check_icp_health(session)
    return dataclasses.asdict(check) if check is not None else None
