"""API keys: only a hash is stored; the key itself is shown once at creation."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column, uuid_pk


class ApiKey(Base):
    """A bearer key with scopes (read, write, admin)."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(Text)
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    created_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None]
    # Refreshed at most once a minute per key (a write per request would cost more).
    last_used_at: Mapped[datetime | None]
