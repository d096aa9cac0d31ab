"""Storing synced deals, and rescoring the accounts whose outcomes they change."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.service import rescore_linked_accounts
from app.deals.repository import DealRepository
from connectors.base import DealRecord


async def store_deals(
    session: AsyncSession, *, connection_id: uuid.UUID, deals: Sequence[DealRecord]
) -> int:
    """Upsert deals with their company links and rescore the stored accounts they change;
    returns how many accounts were rescored."""
    touched = await DealRepository(session).upsert(connection_id, deals)
    return await rescore_linked_accounts(session, connection_id=connection_id, external_ids=touched)
