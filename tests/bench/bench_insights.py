"""ICP science over stored accounts on the embedded PostgreSQL: backtest over 1,000,000
accounts (target ≤ 30 s), preview over 1,000,000 accounts (target ≤ 60 s), and discovery on
100,000 accounts with 20,000 closed deals (target ≤ 10 s).

Backtest and preview: a million demo companies, each with one deal closed over two years (won
or lost as the demo data draws it: its own signal), COPY-loaded into a HubSpot connection;
the example ICP active and every account scored. The backtest scores the whole sample with
the example ICP; the preview compares a reweighted version against it over every account
(transitions, flags, writes needed, both backtests).

Discovery: 100,000 companies of the planted-signal generator, 20,000 of them with a closed
deal, through ``POST /api/v1/insights/discover``'s service function.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import psycopg

from app.core.db import Database, libpq_conninfo
from connectors.sandbox.common.demo_accounts import canonical_account
from connectors.sandbox.common.demo_data import generate_companies
from tests.bench.harness import bench_database, example_icp

ACCOUNTS = int(os.environ.get("BENCH_INSIGHTS_ACCOUNTS", 1_000_000))
DISCOVERY_ACCOUNTS = int(os.environ.get("BENCH_DISCOVERY_ACCOUNTS", 100_000))
DISCOVERY_CLOSED = DISCOVERY_ACCOUNTS // 5
TODAY = datetime(2026, 11, 1, tzinfo=UTC)


def _connection(connection: psycopg.Connection[Any]) -> uuid.UUID:
    connection_id = uuid.uuid4()
    connection.execute(
        "INSERT INTO connections (id, kind, name, deals_synced_at, contacts_synced_at)"
        " VALUES (%s, 'hubspot', %s, now(), now())",
        (connection_id, f"crm-{connection_id}"),
    )
    return connection_id


def _copy_accounts_and_deals(
    conninfo: str, rows: list[tuple[str, dict[str, Any], tuple[bool, datetime] | None]]
) -> None:
    """COPY (external id, canonical data, closed deal as (won, closed at) or None)."""
    with psycopg.connect(conninfo) as connection:
        connection_id = _connection(connection)
        with connection.cursor().copy(
            "COPY accounts (connection_id, external_id, name, domain, data) FROM STDIN"
        ) as copy:
            for external_id, data, _ in rows:
                copy.write_row(
                    (
                        connection_id,
                        external_id,
                        data.get("name"),
                        data.get("domain"),
                        orjson.dumps(data).decode(),
                    )
                )
        deals = [(external_id, deal) for external_id, _, deal in rows if deal is not None]
        with connection.cursor().copy(
            "COPY deals (id, connection_id, external_id, is_closed, is_won, amount, closed_at)"
            " FROM STDIN"
        ) as copy:
            for n, (external_id, (won, closed_at)) in enumerate(deals, 1):
                copy.write_row((n, connection_id, f"d-{external_id}", True, won, 1000.0, closed_at))
        with connection.cursor().copy(
            "COPY deal_accounts (deal_id, account_external_id, connection_id) FROM STDIN"
        ) as copy:
            for n, (external_id, _) in enumerate(deals, 1):
                copy.write_row((n, external_id, connection_id))
        connection.execute(
            "SELECT setval(pg_get_serial_sequence('deals', 'id'), %s)", (len(deals),)
        )
        for table in ("accounts", "deals", "deal_accounts"):
            connection.execute(f"ANALYZE {table}")


def _demo_rows(count: int) -> list[tuple[str, dict[str, Any], tuple[bool, datetime] | None]]:
    """Demo companies with one closed deal each (an open one is closed as lost)."""
    rows = []
    for n, company in enumerate(
        generate_companies(11, count, deals_per_company=1, today=TODAY.date())
    ):
        deal = company["deals"][0]
        closed_at = datetime.combine(deal["close_date"], datetime.min.time(), UTC)
        rows.append((f"b{n}", canonical_account(company), (deal["outcome"] == "won", closed_at)))
    return rows


def _planted_rows(count: int, closed: int) -> list[tuple[str, dict[str, Any], Any]]:
    """Planted-signal companies; ``closed`` of them with a closed deal over two years. Their
    persona counts stay out of the stored data (they are roll-ups of synced contacts)."""
    from tests.science.planted import planted_sample

    planted = planted_sample(count, seed=5)
    with_deal = set(random.Random(5).sample(range(count), closed))
    rows = []
    for n, account in enumerate(planted.accounts):
        data = {
            key: value
            for key, value in account.items()
            if not key.startswith("personas.") and key != "contacts"
        }
        deal = (planted.won[n], planted.closed_at[n] or TODAY - timedelta(days=n % 730))
        rows.append((f"p{n}", data, deal if n in with_deal else None))
    return rows


async def _activate(database: Database, definition: dict[str, Any]) -> uuid.UUID:
    """Save and activate ``definition``, and score every account with it (untimed)."""
    from app.accounts.tasks import rescore_all_accounts
    from app.icps.service import activate_icp, create_icp

    async with database.transaction() as session:
        version = await create_icp(session, source=definition, content_type="application/json")
        await activate_icp(session, icp_id=version.id)
    await rescore_all_accounts(icp_version_id="bench")
    return version.id


async def _backtest_and_preview() -> tuple[float, dict[str, Any], float, dict[str, Any], float]:
    from app.icps.service import create_icp
    from app.insights.schemas import Window
    from app.insights.service import backtest_icp, preview_activation

    async with bench_database() as (database, _):
        started = time.perf_counter()
        _copy_accounts_and_deals(libpq_conninfo(database.url), _demo_rows(ACCOUNTS))
        active_id = await _activate(database, example_icp())
        setup_s = time.perf_counter() - started
        started = time.perf_counter()
        async with database.transaction() as session:
            backtest = await backtest_icp(session, icp_id=active_id, window=Window())
        backtest_s = time.perf_counter() - started
        icp = example_icp()
        reweighted = dict(
            icp,
            criteria=[
                dict(c, weight=c["weight"] + (5 if c["weight"] > 0 else -5))
                for c in icp["criteria"]  # type: ignore[attr-defined]
            ],
        )
        async with database.transaction() as session:
            candidate = await create_icp(
                session, source=reweighted, content_type="application/json"
            )
        started = time.perf_counter()
        async with database.transaction() as session:
            preview = await preview_activation(session, icp_id=candidate.id)
        preview_s = time.perf_counter() - started
        return backtest_s, backtest, preview_s, preview, setup_s


async def _discovery() -> tuple[float, dict[str, Any]]:
    from app.insights.schemas import DiscoverIn
    from app.insights.service import discover_icp

    async with bench_database() as (database, _):
        rows = _planted_rows(DISCOVERY_ACCOUNTS, DISCOVERY_CLOSED)
        _copy_accounts_and_deals(libpq_conninfo(database.url), rows)
        started = time.perf_counter()
        async with database.transaction() as session:
            figures = await discover_icp(session, request=DiscoverIn())
        return time.perf_counter() - started, figures


def run() -> list[str]:
    """Time discovery, then a backtest and a preview over a million accounts."""
    discovery_s, discovery = asyncio.run(_discovery())
    backtest_s, backtest, preview_s, preview, setup_s = asyncio.run(_backtest_and_preview())
    sample = discovery["sample"]
    selected = sum(t["selected"] for t in discovery["traits"])
    validation = discovery["validation"] or {}
    auc = validation.get("auc")
    tiers = " · ".join(
        f"{t['tier']} {100 * t['win_rate']:.0f}%" for t in backtest["tiers"] if t["win_rate"]
    )
    moved = sum(
        n
        for before, row in preview["transitions"].items()
        for tier, n in row.items()
        if tier != before
    )
    return [
        f"discovery: {DISCOVERY_ACCOUNTS:,} accounts, {sample['accounts']:,} with a closed deal "
        f"({sample['won']:,} won), {len(discovery['traits'])} traits tried, {selected} kept, "
        f"validation AUC {auc:.3f}: {discovery_s:.1f} s — target ≤ 10 s"
        if auc is not None
        else f"discovery: {DISCOVERY_ACCOUNTS:,} accounts: {discovery_s:.1f} s — target ≤ 10 s",
        f"backtest: {backtest['sample']['accounts']:,} accounts scored and counted in "
        f"{backtest_s:.1f} s ({backtest['sample']['accounts'] / backtest_s:,.0f}/s; win rate by "
        f"tier {tiers}, AUC {backtest['auc']:.3f}) — target ≤ 30 s",
        f"preview: {preview['accounts']:,} accounts in {preview_s:.1f} s ({moved:,} change tier, "
        f"{sum(preview['writes_needed'].values()):,} CRM writes needed; both versions' "
        "backtests included) — target ≤ 60 s",
        f"(loading {ACCOUNTS:,} accounts with their deals and scoring them took {setup_s:.0f} s; "
        "not part of the figures)",
    ]


if __name__ == "__main__":
    for line in run():
        print(line)
