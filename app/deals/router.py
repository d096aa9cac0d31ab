"""Deal endpoints: the synced deals, filtered and paged."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.apikeys.auth import ReadKey
from app.core.http import SessionDep
from app.deals import service
from app.deals.repository import DealFilters
from app.deals.schemas import DealPage

router = APIRouter(prefix="/api/v1/deals", tags=["deals"])


@router.get("", response_model=DealPage)
async def list_deals(
    session: SessionDep,
    _: ReadKey,
    account_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    connection_id: uuid.UUID | None = None,
    is_closed: bool | None = None,
    is_won: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> DealPage:
    """Live deals by id, with the CRM ids of their companies, filtered, in stable pages."""
    filters = DealFilters(
        account_id=account_id, connection_id=connection_id, is_closed=is_closed, is_won=is_won
    )
    items, next_cursor = await service.list_deals(
        session, filters=filters, cursor=cursor, limit=limit
    )
    return DealPage(items=items, next_cursor=next_cursor)
