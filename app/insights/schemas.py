"""Insight request and response bodies (DESIGN §9)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.scoring.definition import field_kind


class Success(BaseModel):
    """What counts as a win beyond a won deal."""

    model_config = ConfigDict(extra="forbid")

    min_amount: float | None = Field(default=None, ge=0, le=1e15)


class Window(BaseModel):
    """Which closed deals make the sample: by close date, connection, and what a win is."""

    model_config = ConfigDict(extra="forbid")

    connection_ids: list[uuid.UUID] | None = Field(default=None, max_length=100)
    closed_after: datetime | None = None
    closed_before: datetime | None = None
    success: Success | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.closed_after and self.closed_before and self.closed_after >= self.closed_before:
            raise ValueError("closed_after must be before closed_before")
        return self


class SampleOut(BaseModel):
    """The accounts with a closed deal in the window, won and lost."""

    accounts: int
    won: int
    lost: int
    base_rate: float | None


class TierOut(BaseModel):
    """How one tier did."""

    tier: str
    accounts: int
    won: int
    lost: int
    win_rate: float | None
    win_rate_ci: list[float] | None = Field(description="95% Wilson interval")
    share_of_accounts: float
    share_of_wins: float
    lift: float | None = Field(description="win rate ÷ the sample's base rate")


class GainsPoint(BaseModel):
    """Of the best-scored share of accounts, the share of wins they hold."""

    share_of_accounts: float
    share_of_wins: float


class FlagOut(BaseModel):
    """How the MQL (or SQL) accounts did."""

    accounts: int
    won: int
    win_rate: float | None
    win_rate_ci: list[float] | None


class BacktestOut(BaseModel):
    """An ICP version scored against what closed (DESIGN §9)."""

    icp_id: uuid.UUID
    sample: SampleOut
    tiers: list[TierOut] = Field(description="A, B, C, D in that order, all four present")
    auc: float | None = Field(description="how well the score tells won from lost (0.5: not)")
    auc_ci: list[float] | None = Field(description="95% bootstrap interval")
    gains: list[GainsPoint]
    mql: FlagOut
    sql: FlagOut


class IcpRefOut(BaseModel):
    """An ICP version, briefly."""

    id: uuid.UUID
    name: str
    version: int


class FlagChanges(BaseModel):
    """Accounts that would become MQL (SQL), and those that would stop being one."""

    gained: int
    lost: int


class MoverOut(BaseModel):
    """An account whose score would move most."""

    account_id: int
    name: str | None
    score_before: int | None
    tier_before: str | None
    score_after: int
    tier_after: str


class PreviewOut(BaseModel):
    """What activating a version would do, against the active one (DESIGN §9)."""

    icp_id: uuid.UUID
    against: IcpRefOut | None = Field(description="the active version; null when none is")
    accounts: int
    transitions: dict[str, dict[str, int]] = Field(
        description="current tier (or none) → tier under this version → accounts"
    )
    mql: FlagChanges
    sql: FlagChanges
    writes_needed: dict[str, int] = Field(
        description="CRM writes the activation would make, per connection id"
    )
    top_movers: list[MoverOut]
    backtests: dict[str, BacktestOut] = Field(
        description="this version's backtest (candidate) and the active one's, side by side"
    )


class DiscoverIn(Window):
    """Which deals discovery learns from, which fields it may look at, and how many
    criteria the candidate may keep."""

    fields: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="canonical fields, attributes.<name>, personas.<id> or contacts; "
        "default: every field that does not give the outcome away",
    )
    max_criteria: int = Field(default=8, ge=1, le=20)
    name: str = Field(
        default="Discovered ICP", min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$"
    )

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, fields: list[str] | None) -> list[str] | None:
        unknown = [f for f in fields or () if field_kind(f) is None]
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(sorted(unknown)[:10])}")
        return fields


class TraitOut(BaseModel):
    """A candidate condition and how the accounts it picks out did."""

    field: str
    op: str
    value: Any = None
    label: str
    accounts: int
    won: int
    win_rate: float | None = Field(description="smoothed towards the sample's base rate")
    lift: float | None = Field(description="win rate of these accounts ÷ that of the rest")
    lift_ci: list[float] | None = Field(description="95% interval of the lift")
    q_value: float | None = Field(description="false-discovery-controlled p-value")
    selected: bool = Field(description="kept by the candidate definition")


class DiscoveryValidationOut(BaseModel):
    """How well the candidate tells won from lost on accounts it did not learn from."""

    model_config = ConfigDict(extra="allow")

    auc: float | None
    auc_ci: list[float] | None
    method: str


class DiscoverOut(BaseModel):
    """Traits shared by the accounts that won, and a candidate ICP built from those that
    hold up (DESIGN §9)."""

    sample: SampleOut
    traits: list[TraitOut]
    definition: dict[str, Any] | None = Field(
        description="a valid ICP definition; null when the sample cannot support one"
    )
    yaml: str | None = Field(description="the same definition as YAML, for git")
    validation: DiscoveryValidationOut | None
    warnings: list[str]
