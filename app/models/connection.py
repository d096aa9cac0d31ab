"""CRM connections (and the built-in ``import`` connection for CSV uploads)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import LargeBinary, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column, uuid_pk

IMPORT_CONNECTION_NAME = "import"


class Connection(Base):
    """One CRM account we sync with; credentials are Fernet-encrypted."""

    __tablename__ = "connections"

    id: Mapped[uuid.UUID] = uuid_pk()
    kind: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text, unique=True)
    base_url: Mapped[str | None] = mapped_column(Text)
    credentials: Mapped[bytes | None] = mapped_column(LargeBinary)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    sync_state: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    # Set once deals (contacts) have been read in full: from then on an account without any
    # counts 0 won deals (0 contacts); before, its roll-ups are unknown, not zero.
    deals_synced_at: Mapped[datetime | None]
    contacts_synced_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    @property
    def last_sync(self) -> dict[str, Any] | None:
        """The latest sync run as the sync pipeline last noted it (``sync_state.last_run``)."""
        last: dict[str, Any] | None = self.sync_state.get("last_run")
        return last
