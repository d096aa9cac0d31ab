"""Reading the job queue's own tables (procrastinate's), for the API."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs.schemas import JobOut

# The job row and the times of its first deferral, latest start and end, from its events.
_JOB = text(
    """
    SELECT j.id, j.task_name, j.status::text, j.attempts,
           min(e.at) FILTER (WHERE e.type = 'deferred') AS queued_at,
           max(e.at) FILTER (WHERE e.type = 'started') AS started_at,
           max(e.at) FILTER (
               WHERE e.type IN ('succeeded', 'failed', 'cancelled', 'aborted')
           ) AS finished_at
    FROM procrastinate_jobs j
    LEFT JOIN procrastinate_events e ON e.job_id = j.id
    WHERE j.id = :job_id
    GROUP BY j.id
    """
)


class JobRepository:
    """Queries on procrastinate's jobs and events."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, job_id: int) -> JobOut | None:
        """One job with its timeline, or None when there is none (or it was pruned)."""
        row = (await self.session.execute(_JOB, {"job_id": job_id})).one_or_none()
        if row is None:
            return None
        return JobOut(
            id=row.id,
            task=row.task_name,
            status=row.status,
            attempts=row.attempts,
            queued_at=row.queued_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
        )
