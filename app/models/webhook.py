"""Webhooks in: every CRM event we accepted, kept until a job has processed it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column


class WebhookInbox(Base):
    """One CRM change notification, stored in the transaction that defers its processing.

    ``dedupe_key`` is what makes a redelivery the same event (see app/inbox/service.py
    for how each CRM's key is built): the unique constraint drops duplicates.
    """

    __tablename__ = "webhook_inbox"
    __table_args__ = (
        UniqueConstraint("connection_id", "dedupe_key"),
        Index(None, "connection_id", "processed_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE")
    )
    dedupe_key: Mapped[str] = mapped_column(Text)
    event_type: Mapped[str] = mapped_column(Text)
    object_id: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[datetime] = created_at_column()
    processed_at: Mapped[datetime | None]
