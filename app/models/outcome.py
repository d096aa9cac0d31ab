"""Deals and contacts synced from CRMs, and the companies they belong to (DESIGN §8).

Links to companies are kept by the company's CRM id, not our account id: a deal or contact can
arrive before its company, and is linked the moment the company is stored (a join on
``(connection_id, external_id)``), with nothing to fix up. A contact or deal associated to
several companies counts for each.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Double,
    ForeignKey,
    Identity,
    Index,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Deal(Base):
    """A HubSpot deal or Salesforce Opportunity; won and lost from the CRM's stage metadata."""

    __tablename__ = "deals"
    __table_args__ = (UniqueConstraint("connection_id", "external_id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE")
    )
    external_id: Mapped[str] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
    pipeline: Mapped[str | None] = mapped_column(Text)
    stage: Mapped[str | None] = mapped_column(Text)
    is_closed: Mapped[bool]
    is_won: Mapped[bool]
    stage_known: Mapped[bool] = mapped_column(Boolean, server_default="true")
    amount: Mapped[float | None] = mapped_column(Double)
    created_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    crm_updated_at: Mapped[datetime | None]
    archived: Mapped[bool] = mapped_column(Boolean, server_default="false")
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class DealAccount(Base):
    """A deal's association to a company, by the company's CRM id."""

    __tablename__ = "deal_accounts"
    __table_args__ = (Index(None, "connection_id", "account_external_id"),)

    deal_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("deals.id", ondelete="CASCADE"), primary_key=True
    )
    account_external_id: Mapped[str] = mapped_column(Text, primary_key=True)
    # The owner's connection, for finding a company's links by its CRM id. No foreign key:
    # the owner's already ties the link to its connection (and deletes it with it), and a
    # second one cost a trigger call per link stored, half the storing of a new link.
    connection_id: Mapped[uuid.UUID]


class Contact(Base):
    """A person at a company, with what the title (and the CRM's buying role) says."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("connection_id", "external_id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE")
    )
    external_id: Mapped[str] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
    email_domain: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(Text)
    buying_role: Mapped[str | None] = mapped_column(Text)
    seniority: Mapped[str | None] = mapped_column(Text)
    function: Mapped[str] = mapped_column(Text)
    crm_updated_at: Mapped[datetime | None]
    archived: Mapped[bool] = mapped_column(Boolean, server_default="false")
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class ContactAccount(Base):
    """A contact's association to a company, by the company's CRM id."""

    __tablename__ = "contact_accounts"
    __table_args__ = (Index(None, "connection_id", "account_external_id"),)

    contact_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    account_external_id: Mapped[str] = mapped_column(Text, primary_key=True)
    # The owner's connection, for finding a company's links by its CRM id. No foreign key:
    # the owner's already ties the link to its connection (and deletes it with it), and a
    # second one cost a trigger call per link stored, half the storing of a new link.
    connection_id: Mapped[uuid.UUID]
