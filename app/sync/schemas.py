"""Sync-run response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

COUNT_NAMES = (
    "fetched",
    "upserted",
    "scored",
    "repaired",
    "written",
    "write_failed",
    "api_calls",
)


class SyncCounts(BaseModel):
    """What a run did so far."""

    fetched: int = 0
    upserted: int = 0
    scored: int = 0
    repaired: int = Field(
        default=0,
        description="CRM records whose icp-sync fields had been changed by hand (or lost) and "
        "were queued to be written again",
    )
    written: int = 0
    write_failed: int = 0
    api_calls: int = 0


class SyncRunOut(BaseModel):
    """One sync run."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    connection_id: uuid.UUID
    mode: str
    status: str = Field(description="queued, running, succeeded or failed")
    counts: SyncCounts
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class SyncRunPage(BaseModel):
    """A page of runs, newest first."""

    items: list[SyncRunOut]
    next_cursor: str | None
