"""Queries on sync runs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Connection, SyncRun, SyncStatus


class SyncRunRepository:
    """Every SQL statement about ``sync_runs``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, run: SyncRun) -> SyncRun:
        """Insert and flush."""
        self.session.add(run)
        await self.session.flush()
        await self.session.refresh(run)
        return run

    async def get(self, run_id: uuid.UUID, *, for_update: bool = False) -> SyncRun | None:
        """One run."""
        query = select(SyncRun).where(SyncRun.id == run_id)
        if for_update:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def page(
        self,
        *,
        connection_id: uuid.UUID | None,
        status: str | None,
        before: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> Sequence[SyncRun]:
        """Runs newest first, keyset-paged on (created_at, id) so pages hold still while
        new runs start."""
        query = select(SyncRun)
        if connection_id is not None:
            query = query.where(SyncRun.connection_id == connection_id)
        if status is not None:
            query = query.where(SyncRun.status == status)
        if before is not None:
            query = query.where(tuple_(SyncRun.created_at, SyncRun.id) < tuple_(*before))
        result = await self.session.scalars(
            query.order_by(SyncRun.created_at.desc(), SyncRun.id.desc()).limit(limit)
        )
        return result.all()

    async def waiting(self, connection_id: uuid.UUID) -> SyncRun | None:
        """The run queued for a connection and not yet started, if any."""
        return await self.session.scalar(
            select(SyncRun)
            .where(SyncRun.connection_id == connection_id, SyncRun.status == SyncStatus.QUEUED)
            .order_by(SyncRun.created_at)
            .limit(1)
            .with_for_update()
        )

    async def add_write_counts(self, run_id: uuid.UUID, *, written: int, failed: int) -> None:
        """Add a write-back round's outcome to the run's counts, in the round's transaction."""
        await self.session.execute(
            text(
                "UPDATE sync_runs SET counts = counts || jsonb_build_object("
                " 'written', coalesce((counts->>'written')::bigint, 0) + :written,"
                " 'write_failed', coalesce((counts->>'write_failed')::bigint, 0) + :failed)"
                " WHERE id = :id"
            ),
            {"id": run_id, "written": written, "failed": failed},
        )

    async def lock_connection(self, connection_id: uuid.UUID) -> None:
        """Serialise sync requests of one connection until the transaction ends."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('sync:' || :id))"),
            {"id": str(connection_id)},
        )

    async def due_for_incremental(self) -> Sequence[uuid.UUID]:
        """Connections whose sync interval has passed since their latest run began."""
        latest = (
            select(SyncRun.connection_id, func.max(SyncRun.created_at).label("at"))
            .group_by(SyncRun.connection_id)
            .subquery()
        )
        interval = Connection.settings["sync_interval_minutes"].as_integer()
        result = await self.session.execute(
            select(Connection.id)
            .outerjoin(latest, latest.c.connection_id == Connection.id)
            .where(
                Connection.kind != "import",
                interval.is_not(None),
                (latest.c.at.is_(None))
                | (latest.c.at < func.now() - func.make_interval(0, 0, 0, 0, 0, interval)),
            )
        )
        return [row[0] for row in result.all()]
