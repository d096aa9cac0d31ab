"""ICP versions: immutable definitions, one of which is active."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column, uuid_pk


class IcpStatus(enum.StrEnum):
    """Lifecycle of an ICP version."""

    INACTIVE = "inactive"
    ACTIVE = "active"
    RETIRED = "retired"


class IcpVersion(Base):
    """One saved version of a named ICP; never edited after insert, and never deleted (the
    database refuses it: verdict rows name their version without a foreign key)."""

    __tablename__ = "icp_versions"
    __table_args__ = (
        UniqueConstraint("name", "version"),
        # At most one active version, enforced by the database, not by convention.
        Index(
            "uq_icp_versions_single_active",
            "status",
            unique=True,
            postgresql_where="status = 'active'",
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(Text)
    version: Mapped[int]
    status: Mapped[str] = mapped_column(Text, default=IcpStatus.INACTIVE)
    definition: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = created_at_column()
    activated_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]

    @property
    def label(self) -> str:
        """Name and version as written to CRMs (``icp_version``)."""
        return f"{self.name} v{self.version}"
