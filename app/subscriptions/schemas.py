"""Webhook endpoint request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EventType = Literal[
    "account.tier_changed", "account.became_mql", "account.became_sql", "icp.health_alert"
]


class EndpointCreate(BaseModel):
    """A URL to send account and ICP health events to."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^https?://", max_length=2000)
    events: list[EventType] = Field(min_length=1)
    description: str | None = Field(default=None, max_length=500)


class EndpointOut(BaseModel):
    """An endpoint; its signing secret is never returned after creation."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    url: str
    events: list[str]
    description: str | None
    created_at: datetime
    failing_since: datetime | None
    disabled_at: datetime | None


class EndpointCreated(EndpointOut):
    """A new endpoint with its signing secret: shown this once, store it now."""

    secret: str = Field(description="Standard Webhooks signing secret (whsec_…)")


class EndpointList(BaseModel):
    """Every endpoint."""

    items: list[EndpointOut]


class DeliveryOut(BaseModel):
    """One delivery attempt (``pending``: still to make, at ``next_attempt_at``)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: int
    event_type: str
    attempt: int
    status: str
    response_status: int | None
    error: str | None
    attempted_at: datetime | None
    next_attempt_at: datetime | None


class DeliveryList(BaseModel):
    """Delivery attempts, newest first."""

    items: list[DeliveryOut]
