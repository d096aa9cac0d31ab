"""Deal response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class DealOut(BaseModel):
    """One deal, as synced from its CRM."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    connection_id: uuid.UUID
    external_id: str
    account_external_ids: list[str] = Field(description="the CRM ids of its companies")
    name: str | None
    pipeline: str | None
    stage: str | None
    is_closed: bool
    is_won: bool
    stage_known: bool = Field(description="false: a stage the CRM no longer has (counted open)")
    amount: float | None
    created_at: datetime | None
    closed_at: datetime | None
    crm_updated_at: datetime | None


class DealPage(BaseModel):
    """A page of deals by id; pass ``next_cursor`` back for the next one."""

    items: list[DealOut]
    next_cursor: str | None = None
