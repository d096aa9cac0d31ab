"""ICP request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from connectors.base import CanonicalAccount


class IcpOut(BaseModel):
    """One ICP version."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    version: int
    status: str
    definition: dict[str, Any]
    created_at: datetime
    activated_at: datetime | None = None


class IcpActivationOut(IcpOut):
    """The version now active, and the job rescoring every account against it."""

    rescore_job_id: int | None = Field(
        default=None,
        description="follow it at GET /api/v1/jobs/{id}; null when the version was already active",
    )


class IcpList(BaseModel):
    """Every ICP version, newest first."""

    items: list[IcpOut]


class WhatIfRequest(BaseModel):
    """Accounts to score without storing anything."""

    model_config = ConfigDict(extra="forbid")

    accounts: list[CanonicalAccount] = Field(min_length=1, max_length=10_000)
    icp_id: uuid.UUID | None = None


class CriterionOut(BaseModel):
    """One criterion's verdict on one account."""

    id: str
    label: str
    status: str
    points: int


class ScoreOut(BaseModel):
    """The full verdict of an ICP on one account."""

    score: int
    tier: str
    is_mql: bool
    is_sql: bool
    excluded: bool
    coverage: float
    reasons: str
    criteria: list[CriterionOut]
    exclusions: list[CriterionOut] = []


class WhatIfResponse(BaseModel):
    """Results in input order."""

    icp_id: uuid.UUID
    results: list[ScoreOut]
