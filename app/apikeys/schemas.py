"""API key shapes: what is shown of a key (never the key itself)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class ApiKeyOut(BaseModel):
    """A key as listed: who it is for, what it may do, when it was made and last used."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyList(BaseModel):
    """Every key, revoked ones included."""

    items: list[ApiKeyOut]
