"""Backtesting an ICP version against the deals that closed, and previewing what activating
it would change (DESIGN §9)."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.service import account_profiles, with_rollups
from app.icps.repository import IcpRepository
from app.icps.service import compiled_icp, get_icp
from app.insights.repository import InsightsRepository, Reading, Standing
from app.insights.schemas import DiscoverIn, Window
from app.models import IcpVersion
from app.science.backtest import TIERS, SampleRow, backtest
from app.science.discovery import discover
from app.scoring import CompiledIcp, ScoreResult
from app.scoring.definition import DEAL_ROLLUP_FIELDS, reads_rollups

# Accounts read and scored at a time.
BATCH = 20_000
# Accounts a preview lists as moving most.
TOP_MOVERS = 20

B = TypeVar("B")


async def _overlapped(
    fetch: Callable[[B | None], Awaitable[B | None]], work: Callable[[B], None]
) -> None:
    """Fetch batch n + 1 while batch n is worked on in a thread, until ``fetch`` (given the
    batch before) returns nothing: PostgreSQL and Python each keep one core busy, where in
    turn each would wait for the other."""
    batch = await fetch(None)
    while batch:
        following = asyncio.ensure_future(fetch(batch))
        try:
            await asyncio.to_thread(work, batch)
        except BaseException:
            # Let the query in flight finish: the session is shared, and the error is ours.
            with contextlib.suppress(Exception):
                await following
            raise
        batch = await following


async def _each_reading(
    session: AsyncSession,
    compiled: CompiledIcp,
    window: Window,
    *,
    every_account: bool,
    work: Callable[[list[Reading]], None],
) -> None:
    """Hand ``work`` (in a thread) batch after batch of the sample's accounts, or of every
    live account, as ``compiled`` reads them (roll-ups included), while the next is read."""
    insights = InsightsRepository(session)
    await insights.tune_for_analytics()
    _, people = reads_rollups(compiled.read_fields)
    async with insights.readings(
        window,
        fields=sorted(compiled.read_fields),
        deal_fields=compiled.read_fields & DEAL_ROLLUP_FIELDS,
        every_account=every_account,
    ) as read:

        async def fetch(_: Any) -> list[Reading] | None:
            batch = await read(BATCH)
            if people and batch:
                counted = await with_rollups(
                    session, compiled, [(r.account_id, r.data) for r in batch], include_deals=False
                )
                batch = [
                    replace(reading, data=data)
                    for reading, (_, data) in zip(batch, counted, strict=True)
                ]
            return batch or None

        await _overlapped(fetch, work)


async def sample_rows(
    session: AsyncSession, *, version: IcpVersion, window: Window
) -> list[SampleRow]:
    """Every account of the window's sample scored with ``version`` from its stored data (the
    same scoring core), with whether it was won: what backtests and health count."""
    compiled = compiled_icp(version)
    rows: list[SampleRow] = []

    def work(batch: list[Reading]) -> None:
        score = compiled.score
        for reading in batch:
            result = score(reading.data)
            rows.append(
                SampleRow(
                    result.score, result.tier, result.is_mql, result.is_sql, bool(reading.won)
                )
            )

    await _each_reading(session, compiled, window, every_account=False, work=work)
    return rows


async def stored_sample_rows(session: AsyncSession, *, window: Window) -> list[SampleRow]:
    """Every account of the window's sample with the verdict stored on it, and whether it was
    won; accounts with no verdict are left out. For the active version this is its score of
    the stored data, with nothing to rescore (ICP health reads it over a million accounts)."""
    repository = InsightsRepository(session)
    sample = await repository.sample(window)
    verdicts = await repository.verdicts([account.account_id for account in sample])
    return [
        SampleRow(*verdict, account.won)
        for account in sample
        if (verdict := verdicts.get(account.account_id)) is not None
    ]


async def backtest_icp(
    session: AsyncSession, *, icp_id: uuid.UUID, window: Window
) -> dict[str, Any]:
    """Score every account of the window's sample with the version (active or not), and
    count how its tiers and flags did against what was won."""
    version = await get_icp(session, icp_id=icp_id)
    rows = await sample_rows(session, version=version, window=window)
    return await _backtest_figures(version, rows)


async def discover_icp(session: AsyncSession, *, request: DiscoverIn) -> dict[str, Any]:
    """Look for the traits the window's won accounts share, over everything stored about
    them (persona counts by the active ICP's personas), and propose a candidate ICP."""
    sample = await InsightsRepository(session).sample(request)
    active = await IcpRepository(session).get_active()
    personas = compiled_icp(active).definition.personas if active is not None else []
    profiles: list[dict[str, Any]] = []
    for start in range(0, len(sample), BATCH):
        ids = [account.account_id for account in sample[start : start + BATCH]]
        profiles += [
            data for _, data in await account_profiles(session, account_ids=ids, personas=personas)
        ]
    # Discovery is seconds of CPU on a big sample: off the event loop.
    return await asyncio.to_thread(
        discover,
        profiles,
        [account.won for account in sample],
        [account.last_closed_at for account in sample],
        personas=personas,
        fields=request.fields,
        max_criteria=request.max_criteria,
        name=request.name,
    )


@dataclass
class _Preview:
    """What a preview adds up as it scores every account."""

    candidate: IcpVersion
    active: IcpVersion | None
    accounts: int = 0
    transitions: dict[str, dict[str, int]] = field(default_factory=dict)
    flags: dict[str, dict[str, int]] = field(
        default_factory=lambda: {f: {"gained": 0, "lost": 0} for f in ("mql", "sql")}
    )
    writes: dict[str, int] = field(default_factory=dict)
    movers: list[tuple[int, int, Standing, ScoreResult]] = field(default_factory=list)
    # The sample's accounts as each version scores them, for both backtests.
    candidate_rows: list[SampleRow] = field(default_factory=list)
    active_rows: list[SampleRow] = field(default_factory=list)
    active_rows_exact: bool = True
    # The versions' ids as stored verdicts are read: text.
    candidate_id: str = field(init=False)
    active_id: str | None = field(init=False)

    def __post_init__(self) -> None:
        self.candidate_id = str(self.candidate.id)
        self.active_id = str(self.active.id) if self.active is not None else None

    def add(self, standing: Standing, result: ScoreResult, won: bool | None) -> None:
        """Count one account: its move, its flags, the write it needs, and (``won`` not
        None: it is in the sample) its backtest rows."""
        self.accounts += 1
        before = standing.current if self.active is not None else None
        row = self.transitions.get(before[1] if before else "none")
        if row is None:
            row = self.transitions[before[1] if before else "none"] = dict.fromkeys(TIERS, 0)
        row[result.tier] += 1
        for flag, now, was in (
            ("mql", result.is_mql, before[2] if before else False),
            ("sql", result.is_sql, before[3] if before else False),
        ):
            if now != was:
                self.flags[flag]["gained" if now else "lost"] += 1
        verdict = (self.candidate_id, result.score, result.tier, result.is_mql, result.is_sql)
        if standing.connection_id is not None and standing.confirmed != verdict:
            self.writes[standing.connection_id] = self.writes.get(standing.connection_id, 0) + 1
        change = abs(result.score - (before[0] if before else 0))
        mover = (change, -standing.account_id, standing, result)
        if len(self.movers) < TOP_MOVERS:
            heapq.heappush(self.movers, mover)
        elif mover[:2] > self.movers[0][:2]:
            heapq.heapreplace(self.movers, mover)
        if won is None:
            return
        self.candidate_rows.append(
            SampleRow(result.score, result.tier, result.is_mql, result.is_sql, won)
        )
        # The active version's tiers are the verdicts stored for it; where one is missing or
        # by another version (a rescore under way), its backtest scores afresh instead.
        if self.active is None or before is None or standing.current_version != self.active_id:
            self.active_rows_exact = False
        elif self.active_rows_exact:
            self.active_rows.append(SampleRow(*before, won))

    def top_movers(self) -> list[dict[str, Any]]:
        """The accounts whose score moves most, biggest first (ties by account id)."""
        return [
            {
                "account_id": standing.account_id,
                "name": standing.name,
                "score_before": before[0] if before else None,
                "tier_before": before[1] if before else None,
                "score_after": result.score,
                "tier_after": result.tier,
            }
            for _, _, standing, result in sorted(self.movers, key=lambda m: m[:2], reverse=True)
            for before in [standing.current if self.active is not None else None]
        ]


async def preview_activation(session: AsyncSession, *, icp_id: uuid.UUID) -> dict[str, Any]:
    """What activating a version would do to every stored account, against the active one:
    tier transitions, MQL/SQL gained and lost, the CRM writes it would cost per connection,
    the biggest movers, and both versions' backtests (over all deals closed). Stores
    nothing, calls no CRM."""
    candidate = await get_icp(session, icp_id=icp_id)
    active = await IcpRepository(session).get_active()
    compiled = compiled_icp(candidate)
    preview = _Preview(candidate, active)

    def work(batch: list[Reading]) -> None:
        score = compiled.score
        for reading in batch:
            assert reading.standing is not None  # read for every account of a preview
            preview.add(reading.standing, score(reading.data), reading.won)

    await _each_reading(session, compiled, Window(), every_account=True, work=work)
    backtests = {"candidate": await _backtest_figures(candidate, preview.candidate_rows)}
    if active is not None:
        backtests["active"] = (
            await _backtest_figures(active, preview.active_rows)
            if preview.active_rows_exact
            else await backtest_icp(session, icp_id=active.id, window=Window())
        )
    return {
        "icp_id": candidate.id,
        "against": {"id": active.id, "name": active.name, "version": active.version}
        if active is not None
        else None,
        "accounts": preview.accounts,
        "transitions": preview.transitions,
        "mql": preview.flags["mql"],
        "sql": preview.flags["sql"],
        "writes_needed": preview.writes,
        "top_movers": preview.top_movers(),
        "backtests": backtests,
    }


async def _backtest_figures(version: IcpVersion, rows: list[SampleRow]) -> dict[str, Any]:
    # The statistics take a CPU-bound moment on big samples: off the event loop.
    return {"icp_id": version.id, **await asyncio.to_thread(backtest, rows)}
