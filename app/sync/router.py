"""Sync-run endpoints."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from app.core.http import ReadKey, SessionDep
from app.sync import service
from app.sync.schemas import SyncRunOut

router = APIRouter(prefix="/api/v1/sync-runs", tags=["sync"])


@router.get("/{run_id}", response_model=SyncRunOut)
async def get_sync_run(run_id: uuid.UUID, session: SessionDep, _: ReadKey) -> SyncRunOut:
    """A run's status and counts."""
    return SyncRunOut.model_validate(await service.get_sync_run(session, run_id=run_id))
