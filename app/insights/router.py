"""Insight endpoints: discover a candidate ICP, backtest a version, preview its activation."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from app.apikeys.auth import ReadKey
from app.core.http import SessionDep
from app.insights import service
from app.insights.schemas import BacktestOut, DiscoverIn, DiscoverOut, PreviewOut, Window

router = APIRouter(prefix="/api/v1", tags=["insights"])


@router.post("/icps/{icp_id}/backtest", response_model=BacktestOut)
async def backtest_icp(
    icp_id: uuid.UUID, session: SessionDep, _: ReadKey, body: Window | None = None
) -> BacktestOut:
    """Score the accounts that closed deals in the window with this version (active or not):
    per tier accounts, wins, win rate with interval, shares and lift; AUC; gains; MQL/SQL."""
    figures = await service.backtest_icp(session, icp_id=icp_id, window=body or Window())
    return BacktestOut.model_validate(figures)


@router.post("/icps/{icp_id}/preview", response_model=PreviewOut)
async def preview_icp(icp_id: uuid.UUID, session: SessionDep, _: ReadKey) -> PreviewOut:
    """What activating this version would do to every stored account, against the active
    one: tier transitions, MQL/SQL gained and lost, CRM writes per connection, top movers,
    both backtests. Stores nothing and calls no CRM."""
    return PreviewOut.model_validate(await service.preview_activation(session, icp_id=icp_id))


@router.post("/insights/discover", response_model=DiscoverOut)
async def discover_icp(
    session: SessionDep, _: ReadKey, body: DiscoverIn | None = None
) -> DiscoverOut:
    """The traits the won accounts of the window share (lift with interval, q-value), and a
    candidate ICP built from those that hold up, validated on accounts it did not learn
    from. Stores nothing: save the candidate with POST /api/v1/icps."""
    figures = await service.discover_icp(session, request=body or DiscoverIn())
    return DiscoverOut.model_validate(figures)
