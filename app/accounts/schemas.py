"""Account response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.contacts.schemas import ContactOut
from app.deals.schemas import DealOut
from app.icps.schemas import CriterionOut


class AccountSummary(BaseModel):
    """An account and the verdict that stands on it."""

    id: int
    connection_id: uuid.UUID
    external_id: str
    name: str | None
    domain: str | None
    archived: bool
    score: int | None = None
    tier: str | None = None
    is_mql: bool | None = None
    is_sql: bool | None = None
    excluded: bool | None = None
    coverage: float | None = None
    reasons: str | None = None
    scored_at: datetime | None = None
    updated_at: datetime


class AccountPage(BaseModel):
    """One page of accounts; pass ``next_cursor`` back as ``cursor`` for the next."""

    items: list[AccountSummary]
    next_cursor: str | None


class TierCounts(BaseModel):
    """Live accounts per tier."""

    A: int
    B: int
    C: int
    D: int


class AccountStats(BaseModel):
    """Counts over the live accounts (of one connection, or all)."""

    accounts: int
    scored: int
    tiers: TierCounts
    mql: int
    sql: int
    excluded: int
    coverage: float | None = Field(description="mean share of the ICP's fields known")


class IcpRef(BaseModel):
    """Which ICP version a verdict comes from."""

    id: uuid.UUID
    name: str
    version: int


class CurrentScore(BaseModel):
    """The standing verdict with its per-criterion breakdown."""

    icp: IcpRef
    score: int
    tier: str
    is_mql: bool
    is_sql: bool
    excluded: bool
    coverage: float
    reasons: str
    scored_at: datetime
    criteria: list[CriterionOut]
    exclusions: list[CriterionOut]


class HistoryEntry(BaseModel):
    """A change of score, tier or flags."""

    icp_version_id: uuid.UUID
    score: int
    tier: str
    is_mql: bool
    is_sql: bool
    excluded: bool
    scored_at: datetime


class AccountDetailOut(BaseModel):
    """One account in full."""

    account: AccountSummary
    data: dict[str, Any]
    current_score: CurrentScore | None
    history: list[HistoryEntry]
    deals: list[DealOut] = Field(
        default_factory=list, description="its first 100 deals (GET /api/v1/deals for more)"
    )
    contacts: list[ContactOut] = Field(
        default_factory=list,
        description="its first 100 contacts (GET /api/v1/contacts for more)",
    )
    personas: dict[str, int] = Field(
        default_factory=dict,
        description="how many of its contacts match each persona of the ICP that scored it",
    )


class ImportFailure(BaseModel):
    """A refused CSV row."""

    line: int
    errors: list[str]


class ImportReportOut(BaseModel):
    """What an import did."""

    imported: int
    created: int
    updated: int
    unchanged: int
    scored: int
    failed: list[ImportFailure]
