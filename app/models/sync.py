"""Sync runs, the write-back outbox, what was last written, and shared rate limits."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Sequence,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, VerdictColumns, created_at_column, uuid_pk

WRITEBACK_REVISION = Sequence("writeback_revision_seq", metadata=Base.metadata)


class SyncStatus(enum.StrEnum):
    """Lifecycle of a sync run."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


# A run in one of these has ended, for good or ill.
FINISHED_SYNC_STATUSES = frozenset({SyncStatus.SUCCEEDED, SyncStatus.FAILED})


class SyncRun(Base):
    """One pull → score → write-back pass over a CRM connection."""

    __tablename__ = "sync_runs"
    __table_args__ = (Index(None, "connection_id", "created_at"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE")
    )
    mode: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default=SyncStatus.QUEUED)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    # What went wrong without failing the run (deals in unknown stages, an object the token
    # may not read), for whoever reads the run.
    warnings: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class WritebackOutbox(VerdictColumns, Base):
    """A verdict waiting to be written to the CRM; deleted once the CRM confirms it.

    One row per account: a newer verdict replaces a pending one (and bumps ``revision``,
    so a confirmation of the older values cannot delete the newer ones).
    """

    __tablename__ = "writeback_outbox"
    __table_args__ = (Index(None, "connection_id", "next_attempt_at"),)

    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    # The account's connection, for each connection's write-back rounds. No foreign key: the
    # account's already ties the row to its connection (and deletes it with it); a second
    # one cost a trigger call per verdict queued.
    connection_id: Mapped[uuid.UUID]
    reasons: Mapped[str] = mapped_column(Text)
    scored_at: Mapped[datetime]
    revision: Mapped[int] = mapped_column(
        BigInteger, WRITEBACK_REVISION, server_default=WRITEBACK_REVISION.next_value()
    )
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.now())


class AccountWriteback(VerdictColumns, Base):
    """The verdict the CRM last confirmed for an account: equal verdicts cost no API call."""

    __tablename__ = "account_writebacks"

    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    written_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ConnectionRateLimit(Base):
    """A token bucket per connection, in the database so every worker shares it."""

    __tablename__ = "connection_rate_limits"

    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    tokens: Mapped[float]
    refilled_at: Mapped[datetime] = mapped_column(server_default=func.now())
    paused_until: Mapped[datetime | None]
