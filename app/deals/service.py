"""Storing synced deals, and listing them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.cursors import decode_cursor, encode_cursor
from app.deals.repository import DealFilters, DealRepository
from app.deals.schemas import DealOut
from connectors.base import DealRecord


async def store_deals(
    session: AsyncSession, *, connection_id: uuid.UUID, deals: Sequence[DealRecord]
) -> set[str]:
    """Upsert deals with their company links; returns the CRM ids of the companies
    whose deals changed (to be rescored)."""
    return await DealRepository(session).upsert(connection_id, deals)


async def list_deals(
    session: AsyncSession, *, filters: DealFilters, cursor: str | None, limit: int
) -> tuple[list[DealOut], str | None]:
    """One page of live deals by id, and the cursor of the next (None on the last)."""
    after_id = decode_cursor(cursor, "deals", types=(int,))[0] if cursor else 0
    rows = await DealRepository(session).page(filters, after_id=after_id, limit=limit + 1)
    items = [
        DealOut(
            **{name: getattr(deal, name) for name in _DEAL_COLUMNS},
            account_external_ids=companies,
        )
        for deal, companies in rows[:limit]
    ]
    next_cursor = encode_cursor("deals", items[-1].id) if len(rows) > limit else None
    return items, next_cursor


_DEAL_COLUMNS = tuple(name for name in DealOut.model_fields if name != "account_external_ids")
