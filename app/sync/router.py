"""Sync endpoints: start a connection's sync, follow its run."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict

from app.apikeys.auth import ReadKey, WriteKey
from app.core.http import SessionDep
from app.sync import service
from app.sync.schemas import SyncRunOut, SyncRunPage

router = APIRouter(prefix="/api/v1/sync-runs", tags=["sync"])
# Starting a sync lives under its connection's path, as the API has always had it.
connection_sync_router = APIRouter(prefix="/api/v1/connections", tags=["connections"])


class SyncRequest(BaseModel):
    """Which sync to run."""

    model_config = ConfigDict(extra="forbid")

    mode: str = "incremental"


class SyncAccepted(BaseModel):
    """The run that will do it."""

    sync_run_id: uuid.UUID


@connection_sync_router.post("/{connection_id}/sync", status_code=status.HTTP_202_ACCEPTED)
async def start_sync(
    connection_id: uuid.UUID, session: SessionDep, _: WriteKey, body: SyncRequest | None = None
) -> SyncAccepted:
    """Queue a sync; a sync already waiting for this connection is reused."""
    run = await service.request_sync(
        session, connection_id=connection_id, mode=(body or SyncRequest()).mode
    )
    return SyncAccepted(sync_run_id=run.id)


@router.get("", response_model=SyncRunPage)
async def list_sync_runs(
    session: SessionDep,
    _: ReadKey,
    connection_id: uuid.UUID | None = None,
    status: Annotated[str | None, Query(description="queued, running, succeeded or failed")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> SyncRunPage:
    """Sync runs, newest first, filtered, in stable pages."""
    runs, next_cursor = await service.list_sync_runs(
        session, connection_id=connection_id, status=status, cursor=cursor, limit=limit
    )
    return SyncRunPage(items=[SyncRunOut.model_validate(r) for r in runs], next_cursor=next_cursor)


@router.get("/{run_id}", response_model=SyncRunOut)
async def get_sync_run(run_id: uuid.UUID, session: SessionDep, _: ReadKey) -> SyncRunOut:
    """A run's status and counts."""
    return SyncRunOut.model_validate(await service.get_sync_run(session, run_id=run_id))
