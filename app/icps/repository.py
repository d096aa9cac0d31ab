"""Queries on ICP versions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import IcpStatus, IcpVersion


class IcpRepository:
    """Every SQL statement about ``icp_versions``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_name(self, name: str) -> None:
        """Serialise version numbering of one ICP name until the transaction ends."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('icp:' || :name))"), {"name": name}
        )

    async def next_version(self, name: str) -> int:
        """1 + the highest version saved under ``name``."""
        highest = await self.session.scalar(
            select(func.max(IcpVersion.version)).where(IcpVersion.name == name)
        )
        return (highest or 0) + 1

    async def newest(self, name: str) -> IcpVersion | None:
        """The highest version saved under ``name``."""
        return await self.session.scalar(
            select(IcpVersion)
            .where(IcpVersion.name == name)
            .order_by(IcpVersion.version.desc())
            .limit(1)
        )

    async def add(self, version: IcpVersion) -> IcpVersion:
        """Insert a version and flush, so the database fills in defaults."""
        self.session.add(version)
        await self.session.flush()
        await self.session.refresh(version)
        return version

    async def get(self, icp_id: uuid.UUID, *, for_update: bool = False) -> IcpVersion | None:
        """One version by id."""
        query = select(IcpVersion).where(IcpVersion.id == icp_id)
        if for_update:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def by_name_version(self, name: str, version: int) -> IcpVersion | None:
        """One version by its name and number."""
        return await self.session.scalar(
            select(IcpVersion).where(IcpVersion.name == name, IcpVersion.version == version)
        )

    async def get_active(self) -> IcpVersion | None:
        """The active version, if any."""
        return await self.session.scalar(
            select(IcpVersion).where(IcpVersion.status == IcpStatus.ACTIVE)
        )

    async def list(self) -> Sequence[IcpVersion]:
        """Every version, newest first."""
        result = await self.session.scalars(
            select(IcpVersion).order_by(IcpVersion.created_at.desc(), IcpVersion.version.desc())
        )
        return result.all()

    async def retire_active(self, *, now: datetime) -> None:
        """Retire whichever version is active."""
        await self.session.execute(
            update(IcpVersion)
            .where(IcpVersion.status == IcpStatus.ACTIVE)
            .values(status=IcpStatus.RETIRED, retired_at=now)
        )

    async def lock_activation(self) -> None:
        """Serialise activations, so two racing ones cannot both retire and activate."""
        await self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext('icp:activate'))"))
