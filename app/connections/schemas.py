"""Connection request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.scoring import CANONICAL_FIELDS


class ConnectionSettings(BaseModel):
    """How one connection maps, paces and schedules."""

    model_config = ConfigDict(extra="forbid")

    field_map: dict[str, str] = Field(
        default_factory=dict, description="canonical field → CRM property"
    )
    extra_properties: list[str] | dict[str, str] = Field(
        default_factory=list,
        description="CRM properties read into attributes: a list (attributes named as the "
        "CRM names them) or {attribute name: CRM property}",
    )
    sync_interval_minutes: int | None = Field(
        default=60, ge=1, description="incremental sync period; null = only on demand"
    )
    lookback_seconds: int = Field(default=300, ge=0, le=86_400)
    rate_limit_per_10s: int | None = Field(
        default=None, ge=0, description="API calls per 10 s; null = the CRM's default, 0 = off"
    )
    write_ideal_customer_profile: bool = False
    promote_lifecycle: bool = False
    ca_bundle: str | None = Field(default=None, description="PEM of a private CA to trust")
    accept_v2_signatures: bool = Field(
        default=False, description="HubSpot: also accept v2 signatures (workflow webhooks)"
    )
    salesforce_organization_id: str | None = Field(
        default=None, description="Salesforce: the org whose Outbound Messages are accepted"
    )
    daily_limit_share: float = Field(
        default=0.8, gt=0, le=1, description="Salesforce: stop a sync past this share of the day"
    )
    contact_department_property: str = Field(
        default="department",
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9_]+$",
        description="HubSpot: the contact property holding a department (HubSpot has no "
        "standard one; a property the portal lacks reads as empty)",
    )

    @field_validator("field_map")
    @classmethod
    def _canonical_keys(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(CANONICAL_FIELDS) - {"external_id"})
        if unknown:
            raise ValueError(f"not canonical fields: {', '.join(unknown)}")
        return value


class ConnectionCreate(BaseModel):
    """A CRM to connect."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="hubspot or salesforce")
    name: str = Field(min_length=1, max_length=200)
    credentials: dict[str, Any]
    base_url: str | None = Field(default=None, pattern=r"^https?://")
    settings: ConnectionSettings = Field(default_factory=ConnectionSettings)


class ConnectionPatch(BaseModel):
    """Fields to change; absent ones stay."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    credentials: dict[str, Any] | None = None
    base_url: str | None = Field(default=None, pattern=r"^https?://")
    settings: ConnectionSettings | None = None


class LastSyncOut(BaseModel):
    """A connection's latest sync run, in brief (``GET /api/v1/sync-runs/{id}`` in full)."""

    id: uuid.UUID
    mode: str
    status: str
    started_at: datetime | None = None
    finished_at: datetime | None = None
    counts: dict[str, int] = Field(default_factory=dict)
    error: str | None = None


class ConnectionOut(BaseModel):
    """A connection; credentials are never returned."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    name: str
    base_url: str | None
    settings: dict[str, Any]
    last_sync: LastSyncOut | None = None
    created_at: datetime
    updated_at: datetime


class ConnectionList(BaseModel):
    """Every connection."""

    items: list[ConnectionOut]
