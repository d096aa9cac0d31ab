"""Insight request and response bodies (DESIGN §9)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator


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
