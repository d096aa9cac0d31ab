"""ICP health response bodies (DESIGN §9, keep fresh)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class AlertOut(BaseModel):
    """Something about the active ICP that deserves a person's attention."""

    kind: Literal["age", "tier_drift", "field_drift", "fill_drop", "tier_inversion"]
    detail: str
    field: str | None = Field(default=None, description="the field, for field alerts")


class PsiOut(BaseModel):
    """Population stability index since the baseline (≥ 0.1 watch, ≥ 0.25 alert); null with
    no baseline yet, or under 100 known values on either side."""

    tiers: float | None
    fields: dict[str, float | None]


class FillOut(BaseModel):
    """The share of live accounts with a value, at the baseline and now."""

    baseline: float | None
    current: float | None


class HealthOut(BaseModel):
    """How the active ICP is holding up: age, drift, fill rates, alerts."""

    icp_id: uuid.UUID
    icp_version: str = Field(description="name and version, as written to CRMs")
    activated_at: datetime | None
    age_days: int
    status: Literal["ok", "review_soon", "stale"] = Field(
        description="by age: review_soon from 90 days, stale from 180"
    )
    baseline_at: datetime | None = Field(
        description="when the baseline was taken (once the activation's rescore finished); "
        "null until then"
    )
    accounts: int = Field(description="live accounts now")
    psi: PsiOut
    watch: list[str] = Field(
        description="'tiers' and fields whose PSI is at the watch level (0.1 to 0.25)"
    )
    fill_rates: dict[str, FillOut]
    alerts: list[AlertOut]
    evaluated_at: datetime
