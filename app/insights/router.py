"""Insight endpoints: backtest an ICP version."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from app.apikeys.auth import ReadKey
from app.core.http import SessionDep
from app.insights import service
from app.insights.schemas import BacktestOut, Window

router = APIRouter(prefix="/api/v1", tags=["insights"])


@router.post("/icps/{icp_id}/backtest", response_model=BacktestOut)
async def backtest_icp(
    icp_id: uuid.UUID, session: SessionDep, _: ReadKey, body: Window | None = None
) -> BacktestOut:
    """Score the accounts that closed deals in the window with this version (active or not):
    per tier accounts, wins, win rate with interval, shares and lift; AUC; gains; MQL/SQL."""
    figures = await service.backtest_icp(session, icp_id=icp_id, window=body or Window())
    return BacktestOut.model_validate(figures)
