"""Following a queued job: ``GET /api/v1/jobs/{id}`` (an activation's rescore, say)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from app.apikeys.auth import ReadKey
from app.core.errors import NotFound
from app.core.http import SessionDep
from app.jobs.repository import JobRepository
from app.jobs.schemas import JobOut

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])

JobId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the job's id")]


@router.get("/{job_id}", response_model=JobOut)
async def get_job(job_id: JobId, session: SessionDep, _: ReadKey) -> JobOut:
    """One job: its task, status, attempts and when it was queued, started and finished.
    Succeeded jobs are pruned after a week."""
    job = await JobRepository(session).get(job_id)
    if job is None:
        raise NotFound(f"no job {job_id} (succeeded jobs are kept a week)")
    return job
