"""Backtesting an ICP version against the deals that closed (DESIGN §9)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.service import scoring_data
from app.icps.service import compiled_icp, get_icp
from app.insights.repository import InsightsRepository
from app.insights.schemas import Window
from app.science.backtest import SampleRow, backtest

# Accounts read and scored at a time.
BATCH = 20_000


async def backtest_icp(
    session: AsyncSession, *, icp_id: uuid.UUID, window: Window
) -> dict[str, Any]:
    """Score every account of the window's sample with the version (active or not), and
    count how its tiers and flags did against what was won."""
    version = await get_icp(session, icp_id=icp_id)
    compiled = compiled_icp(version)
    sample = await InsightsRepository(session).sample(window)
    won_of = dict(sample)
    rows: list[SampleRow] = []
    for start in range(0, len(sample), BATCH):
        ids = [account_id for account_id, _ in sample[start : start + BATCH]]
        for account_id, data in await scoring_data(session, compiled, ids):
            result = compiled.score(data)
            rows.append(
                SampleRow(
                    result.score, result.tier, result.is_mql, result.is_sql, won_of[account_id]
                )
            )
    # The statistics take a CPU-bound moment on big samples: off the event loop.
    figures = await asyncio.to_thread(backtest, rows)
    return {"icp_id": version.id, **figures}
