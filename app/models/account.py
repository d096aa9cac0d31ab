"""Canonical accounts, their current score and the history of score changes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    REAL,
    BigInteger,
    Boolean,
    ForeignKey,
    Identity,
    Index,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, VerdictColumns, created_at_column


class Account(Base):
    """A company as one CRM connection knows it, in the canonical shape (DESIGN §3.1)."""

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("connection_id", "external_id"),
        # Counting live accounts reads the first alone (an index-only scan), and leaving
        # archived ones out of an aggregate over verdicts probes the second (a handful):
        # the dashboard's overview over a million accounts, without reading their rows.
        Index("ix_accounts_live", "id", postgresql_where=text("NOT archived")),
        Index("ix_accounts_archived", "id", postgresql_where=text("archived")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE")
    )
    external_id: Mapped[str] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
    domain: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]]
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    crm_updated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class AccountScore(VerdictColumns, Base):
    """The current verdict of an ICP version on one account.

    The per-criterion breakdown is not stored: scoring is deterministic, so the detail
    endpoint recomputes it from the account and the version, and a million rows stay narrow.
    """

    __tablename__ = "account_scores"
    # (score, account_id): the accounts list sorted by score walks this index, a page at a
    # time, instead of sorting every account.
    __table_args__ = (Index(None, "tier", "account_id"), Index(None, "score", "account_id"))

    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    excluded: Mapped[bool]
    coverage: Mapped[float] = mapped_column(REAL)
    reasons: Mapped[str] = mapped_column(Text)
    scored_at: Mapped[datetime]


class AccountScoreHistory(VerdictColumns, Base):
    """A row each time an account's score, tier or a flag changes."""

    __tablename__ = "account_score_history"
    __table_args__ = (Index(None, "account_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="CASCADE")
    )
    excluded: Mapped[bool]
    scored_at: Mapped[datetime]
