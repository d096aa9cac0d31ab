"""Queries on connections."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Connection


class ConnectionRepository:
    """Every SQL statement about ``connections``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, connection: Connection) -> Connection:
        """Insert and flush."""
        self.session.add(connection)
        await self.session.flush()
        await self.session.refresh(connection)
        return connection

    async def get(self, connection_id: uuid.UUID, *, for_update: bool = False) -> Connection | None:
        """One connection by id (CRM connections only, not the built-in import one);
        ``for_update`` locks it as an update of its settings or state does."""
        query = select(Connection).where(
            Connection.id == connection_id, Connection.kind != "import"
        )
        if for_update:
            # FOR NO KEY UPDATE, not FOR UPDATE: rows that name the connection in a foreign
            # key hold FOR KEY SHARE on it until they commit, and a sync stores companies,
            # deals and contacts in transactions side by side that each end by saving their
            # progress here; FOR UPDATE would deadlock them.
            query = query.with_for_update(key_share=True)
        return await self.session.scalar(query)

    async def by_name(self, name: str) -> Connection | None:
        """One connection by its unique name."""
        return await self.session.scalar(select(Connection).where(Connection.name == name))

    async def all(self) -> Sequence[Connection]:
        """Every CRM connection, by name."""
        result = await self.session.scalars(
            select(Connection).where(Connection.kind != "import").order_by(Connection.name)
        )
        return result.all()

    async def delete(self, connection: Connection) -> None:
        """Delete a connection and, by cascade, its accounts, runs and pending writes."""
        await self.session.delete(connection)
        await self.session.flush()
