"""Webhooks out: subscriber endpoints, the events they hear about (account verdicts, ICP
health alerts), and every delivery attempt."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Identity,
    Index,
    LargeBinary,
    SmallInteger,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column, uuid_pk


class WebhookEndpoint(Base):
    """A URL that subscribed to account events; its signing secret is Fernet-encrypted.

    ``failing_since`` is when its current run of failed deliveries began (null while it
    succeeds); five days of that disables it (``disabled_at``).
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[uuid.UUID] = uuid_pk()
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(ARRAY(Text))
    description: Mapped[str | None] = mapped_column(Text)
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = created_at_column()
    failing_since: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]


class WebhookEvent(Base):
    """One event (``account.tier_changed``…, ``icp.health_alert``), sent to every endpoint
    subscribed to it; ``account_id`` names the account of an account event."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_type: Mapped[str] = mapped_column(Text)
    account_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = created_at_column()


class WebhookDelivery(Base):
    """One attempt to deliver an event to an endpoint.

    ``pending`` rows are attempts still to make, due at ``next_attempt_at``; a ``failed``
    row's ``next_attempt_at`` is when its retry is due (null: given up).
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index(None, "endpoint_id", "id"),
        Index(None, "next_attempt_at", postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(Text)
    response_status: Mapped[int | None] = mapped_column(SmallInteger)
    error: Mapped[str | None] = mapped_column(Text)
    attempted_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
