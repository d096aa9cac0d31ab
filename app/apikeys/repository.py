"""Queries on API keys."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ApiKey


class ApiKeyRepository:
    """Every SQL statement about ``api_keys``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, key: ApiKey) -> ApiKey:
        """Insert a key."""
        self.session.add(key)
        await self.session.flush()
        return key

    async def all(self) -> Sequence[ApiKey]:
        """Every key, revoked ones included, oldest first."""
        result = await self.session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id))
        return result.all()

    async def get(self, key_id: uuid.UUID) -> ApiKey | None:
        """One key by id."""
        return await self.session.get(ApiKey, key_id)

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        """The unrevoked key with this hash."""
        return await self.session.scalar(
            select(ApiKey).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
        )

    async def revoke(self, key: ApiKey, *, at: datetime) -> None:
        """Revoke a key (kept, so the list shows who had access until when)."""
        key.revoked_at = at
        await self.session.flush()

    async def touch(self, key_id: uuid.UUID) -> None:
        """Note that the key was used now, unless that was noted within the last minute."""
        await self.session.execute(
            update(ApiKey)
            .where(
                ApiKey.id == key_id,
                (ApiKey.last_used_at.is_(None))
                | (ApiKey.last_used_at < text("now() - interval '1 minute'")),
            )
            .values(last_used_at=text("now()"))
        )
