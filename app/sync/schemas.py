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
    "deals_fetched",
    "contacts_fetched",
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
    deals_fetched: int = Field(default=0, description="deals read (where the CRM has them)")
    contacts_fetched: int = Field(default=0, description="contacts read")
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
    warnings: list[str] = Field(
        default_factory=list,
        description="what went wrong without failing the run (deals in stages the CRM no "
        "longer has, an object the token may not read)",
    )
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class SyncRunPage(BaseModel):
    """A page of runs, newest first."""

    items: list[SyncRunOut]
    next_cursor: str | None
