"""Backtesting an ICP version against the deals that closed, and previewing what activating
it would change (DESIGN §9)."""

from __future__ import annotations

import asyncio
import heapq
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.service import read_scoring_batch, scoring_data
from app.icps.repository import IcpRepository
from app.icps.service import compiled_icp, get_icp
from app.insights.repository import InsightsRepository
from app.insights.schemas import Window
from app.models import IcpVersion
from app.science.backtest import SampleRow, backtest

# Accounts read and scored at a time.
BATCH = 20_000


async def sample_rows(
    session: AsyncSession, *, version: IcpVersion, window: Window
) -> list[SampleRow]:
    """Every account of the window's sample scored with ``version`` from its stored data (the
    same scoring core), with whether it was won: what backtests and health count."""
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
    return rows


async def stored_sample_rows(session: AsyncSession, *, window: Window) -> list[SampleRow]:
    """Every account of the window's sample with the verdict stored on it, and whether it was
    won; accounts with no verdict are left out. For the active version this is its score of
    the stored data, with nothing to rescore (ICP health reads it over a million accounts)."""
    repository = InsightsRepository(session)
    sample = await repository.sample(window)
    verdicts = await repository.verdicts([account_id for account_id, _ in sample])
    return [
        SampleRow(*verdict, won)
        for account_id, won in sample
        if (verdict := verdicts.get(account_id)) is not None
    ]


async def backtest_icp(
    session: AsyncSession, *, icp_id: uuid.UUID, window: Window
) -> dict[str, Any]:
    """Score every account of the window's sample with the version (active or not), and
    count how its tiers and flags did against what was won."""
    version = await get_icp(session, icp_id=icp_id)
    rows = await sample_rows(session, version=version, window=window)
    # The statistics take a CPU-bound moment on big samples: off the event loop.
    figures = await asyncio.to_thread(backtest, rows)
    return {"icp_id": version.id, **figures}


async def preview_activation(session: AsyncSession, *, icp_id: uuid.UUID) -> dict[str, Any]:
    """What activating a version would do to every stored account, against the active one:
    tier transitions, MQL/SQL gained and lost, the CRM writes it would cost per connection,
    the biggest movers, and both versions' backtests. Stores nothing, calls no CRM."""
    candidate = await get_icp(session, icp_id=icp_id)
    active = await IcpRepository(session).get_active()
    compiled = compiled_icp(candidate)
    accounts = InsightsRepository(session)
    transitions: dict[str, dict[str, int]] = {}
    flags = {"mql": {"gained": 0, "lost": 0}, "sql": {"gained": 0, "lost": 0}}
    writes: dict[str, int] = {}
    movers: list[tuple[int, int, dict[str, Any]]] = []
    total = 0
    after_id = 0
    while True:
        batch = await read_scoring_batch(session, version=candidate, after_id=after_id, limit=BATCH)
        if not batch:
            break
        after_id = batch[-1][0]
        standings = {s.account_id: s for s in await accounts.standing([i for i, _ in batch])}
        for account_id, data in batch:
            result = compiled.score(data)
            standing = standings[account_id]
            total += 1
            before = standing.current if active is not None else None
            row = transitions.setdefault(before[1] if before else "none", dict.fromkeys(TIERS, 0))
            row[result.tier] += 1
            for flag, now, was in (
                ("mql", result.is_mql, before[2] if before else False),
                ("sql", result.is_sql, before[3] if before else False),
            ):
                if now and not was:
                    flags[flag]["gained"] += 1
                elif was and not now:
                    flags[flag]["lost"] += 1
            verdict = (candidate.id, result.score, result.tier, result.is_mql, result.is_sql)
            if standing.connection_id is not None and standing.confirmed != verdict:
                key = str(standing.connection_id)
                writes[key] = writes.get(key, 0) + 1
            change = result.score - (before[0] if before else 0)
            mover = {
                "account_id": account_id,
                "name": standing.name,
                "score_before": before[0] if before else None,
                "tier_before": before[1] if before else None,
                "score_after": result.score,
                "tier_after": result.tier,
            }
            heapq.heappush(movers, (abs(change), -account_id, mover))
            if len(movers) > TOP_MOVERS:
                heapq.heappop(movers)
    backtests = {"candidate": await backtest_icp(session, icp_id=candidate.id, window=Window())}
    if active is not None:
        backtests["active"] = await backtest_icp(session, icp_id=active.id, window=Window())
    return {
        "icp_id": candidate.id,
        "against": {"id": active.id, "name": active.name, "version": active.version}
        if active is not None
        else None,
        "accounts": total,
        "transitions": transitions,
        "mql": flags["mql"],
        "sql": flags["sql"],
        "writes_needed": writes,
        "top_movers": [m for _, _, m in sorted(movers, key=lambda x: (-x[0], -x[1]))],
        "backtests": backtests,
    }


TIERS = ("A", "B", "C", "D")
TOP_MOVERS = 20
