"""Every SQL statement about deals and their companies."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import driver_connection
from app.core.links import changed_links, replace_links
from connectors.base import DealRecord


class DealRepository:
    """Upserts deals with their company links; reads them for the API."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(self, connection_id: uuid.UUID, deals: Sequence[DealRecord]) -> set[str]:
        """Store deals by (connection, CRM id) with their company links (replacing the links
        of each deal given). Returns the CRM ids of the companies whose deals changed: every
        company a changed deal is or was linked to, and those a link was added to or removed
        from. Deals read again unchanged touch nothing."""
        latest = {deal.external_id: deal for deal in deals}
        if not latest:
            return set()
        rows = list(latest.values())
        connection = await driver_connection(self.session)
        cursor = await connection.execute(
            """
            INSERT INTO deals AS d (connection_id, external_id, name, pipeline, stage,
                                    is_closed, is_won, stage_known, amount, created_at,
                                    closed_at, crm_updated_at, archived)
            SELECT %b, * FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[],
                                     %b::boolean[], %b::boolean[], %b::boolean[],
                                     %b::float8[], %b::timestamptz[], %b::timestamptz[],
                                     %b::timestamptz[], %b::boolean[])
            ON CONFLICT (connection_id, external_id) DO UPDATE SET
                name = EXCLUDED.name, pipeline = EXCLUDED.pipeline, stage = EXCLUDED.stage,
                is_closed = EXCLUDED.is_closed, is_won = EXCLUDED.is_won,
                stage_known = EXCLUDED.stage_known, amount = EXCLUDED.amount,
                created_at = EXCLUDED.created_at, closed_at = EXCLUDED.closed_at,
                crm_updated_at = EXCLUDED.crm_updated_at, archived = EXCLUDED.archived,
                updated_at = now()
            WHERE (d.name, d.pipeline, d.stage, d.is_closed, d.is_won, d.stage_known, d.amount,
                   d.created_at, d.closed_at, d.archived)
                  IS DISTINCT FROM
                  (EXCLUDED.name, EXCLUDED.pipeline, EXCLUDED.stage, EXCLUDED.is_closed,
                   EXCLUDED.is_won, EXCLUDED.stage_known, EXCLUDED.amount, EXCLUDED.created_at,
                   EXCLUDED.closed_at, EXCLUDED.archived)
            RETURNING external_id
            """,
            (
                connection_id,
                [d.external_id for d in rows],
                [d.name for d in rows],
                [d.pipeline for d in rows],
                [d.stage for d in rows],
                [d.is_closed for d in rows],
                [d.is_won for d in rows],
                [d.stage_known for d in rows],
                [d.amount for d in rows],
                [d.created_at for d in rows],
                [d.closed_at for d in rows],
                [d.crm_updated_at for d in rows],
                [d.archived for d in rows],
            ),
        )
        changed = {row[0] for row in await cursor.fetchall()}  # type: ignore[index]
        return changed_links(
            await replace_links(
                connection,
                table="deal_accounts",
                owner="deal_id",
                owners="deals",
                connection_id=connection_id,
                links={d.external_id: d.account_external_ids for d in rows},
            ),
            changed,
        )
