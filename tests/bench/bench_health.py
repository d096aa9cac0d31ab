"""ICP health over 1,000,000 stored accounts on the embedded PostgreSQL (target ≤ 10 s).

Loads a million canonical accounts with COPY and a closed deal for one account in twenty
(within the last 180 days, won more often the better the tier: the tier-inversion test reads
them), activates examples/icp.yaml and runs its rescore job, then times: the baseline snapshot its rescore queues, the health check
against that baseline (GET /api/v1/icps/active/health's body), and the daily check after a
third of the accounts changed industry (alerts found, events recorded).
``BENCH_HEALTH_ACCOUNTS`` shrinks it for a quick look.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import psycopg

from app.core.db import Database, libpq_conninfo
from connectors.sandbox.common.demo_accounts import demo_accounts
from tests.bench.harness import bench_database, example_icp

ACCOUNTS = int(os.environ.get("BENCH_HEALTH_ACCOUNTS", 1_000_000))
DEAL_SHARE = 0.05
HEALTH_RUNS = 3


def load_accounts_and_deals(conninfo: str, count: int = ACCOUNTS) -> None:
    """``count`` demo accounts, and one closed deal for DEAL_SHARE of them (won or lost once
    scored: see ``outcomes_follow_tiers``)."""
    connection_id = uuid.uuid4()
    rng = random.Random(11)
    now = datetime.now(UTC)
    deals: list[tuple[int, str, bool, datetime]] = []
    with psycopg.connect(conninfo) as connection:
        connection.execute(
            "INSERT INTO connections (id, kind, name, deals_synced_at) "
            "VALUES (%s, 'import', 'import', now())",
            (connection_id,),
        )
        with connection.cursor().copy(
            "COPY accounts (connection_id, external_id, name, domain, data) FROM STDIN"
        ) as copy:
            for external_id, data in demo_accounts(7, count):
                copy.write_row(
                    (
                        connection_id,
                        external_id,
                        data["name"],
                        data["domain"],
                        orjson.dumps(data).decode(),
                    )
                )
                if rng.random() < DEAL_SHARE:
                    closed_at = now - timedelta(days=rng.uniform(1, 179))
                    deals.append((len(deals) + 1, external_id, False, closed_at))
        with connection.cursor().copy(
            "COPY deals (id, connection_id, external_id, is_closed, is_won, amount, closed_at) "
            "FROM STDIN"
        ) as copy:
            for deal_id, _, won, closed_at in deals:
                copy.write_row(
                    (deal_id, connection_id, f"deal-{deal_id}", True, won, 1000.0, closed_at)
                )
        with connection.cursor().copy(
            "COPY deal_accounts (deal_id, account_external_id, connection_id) FROM STDIN"
        ) as copy:
            for deal_id, external_id, _, _ in deals:
                copy.write_row((deal_id, external_id, connection_id))
        connection.execute(
            "SELECT setval(pg_get_serial_sequence('deals', 'id'), %s)", (len(deals),)
        )
        for table in ("accounts", "deals", "deal_accounts"):
            connection.execute(f"ANALYZE {table}")


def outcomes_follow_tiers(conninfo: str) -> None:
    """Deals are won more often the better the account's tier (60% of A, 45% B, 30% C, 15% D),
    as a sound ICP has it: no tier inversion to find."""
    with psycopg.connect(conninfo) as connection:
        connection.execute("SELECT setseed(0.42)")
        connection.execute(
            """
            UPDATE deals d SET is_won = random() < CASE s.tier WHEN 'A' THEN 0.6
                WHEN 'B' THEN 0.45 WHEN 'C' THEN 0.3 ELSE 0.15 END
            FROM deal_accounts da
            JOIN accounts a ON a.connection_id = da.connection_id
                           AND a.external_id = da.account_external_id
            JOIN account_scores s ON s.account_id = a.id
            WHERE da.deal_id = d.id
            """
        )


def _drift(conninfo: str) -> int:
    """A third of the accounts move to another industry (no rescore: their data only)."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        cursor = connection.execute(
            "UPDATE accounts SET data = jsonb_set(data, '{industry}', '\"retail\"') "
            "WHERE id % 3 = 0"
        )
        connection.execute("VACUUM ANALYZE accounts")  # as autovacuum would, after a big update
        return cursor.rowcount


async def _timed(database: Database, work: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    async with database.transaction() as session:
        result = await work(session)
    return time.perf_counter() - started, result


async def _run() -> dict[str, Any]:
    from app.accounts.tasks import rescore_all_accounts
    from app.health.service import check_icp_health, icp_health, take_baseline
    from app.icps.service import activate_icp, create_icp

    async with bench_database() as (database, _):
        conninfo = libpq_conninfo(database.url)
        started = time.perf_counter()
        await asyncio.to_thread(load_accounts_and_deals, conninfo)
        load_s = time.perf_counter() - started
        async with database.transaction() as session:
            version = await create_icp(
                session, source=example_icp(), content_type="application/json"
            )
            await activate_icp(session, icp_id=version.id)
        started = time.perf_counter()
        await rescore_all_accounts(icp_version_id=str(version.id))
        rescore_s = time.perf_counter() - started
        await asyncio.to_thread(outcomes_follow_tiers, conninfo)
        baseline_s, taken = await _timed(database, take_baseline)
        assert taken, "the baseline was not taken"
        runs = [await _timed(database, icp_health) for _ in range(HEALTH_RUNS)]
        report = runs[-1][1]
        assert report["baseline_at"] is not None and report["alerts"] == [], report["alerts"]
        moved = await asyncio.to_thread(_drift, conninfo)
        check_s, check = await _timed(database, check_icp_health)
        return {
            "load_s": load_s,
            "rescore_s": rescore_s,
            "baseline_s": baseline_s,
            "health_s": [seconds for seconds, _ in runs],
            "fields": len(report["psi"]["fields"]),
            "sample": report,
            "moved": moved,
            "check_s": check_s,
            "check": check,
        }


def run() -> list[str]:
    """Load, rescore, then time the baseline, the health check and the daily check."""
    figures = asyncio.run(_run())
    health = figures["health_s"]
    check = figures["check"]
    return [
        f"ICP health of {ACCOUNTS:,} accounts against its baseline ({figures['fields']} "
        f"criterion fields and the tiers; inversions over {int(ACCOUNTS * DEAL_SHARE):,} "
        f"accounts with deals closed in 180 days): median {statistics.median(health):.1f} s "
        f"of {len(health)} runs (first {health[0]:.1f} s) — target ≤ 10 s",
        f"ICP health baseline snapshot (bins chosen, then counted) after the activation "
        f"rescore: {figures['baseline_s']:.1f} s",
        f"daily ICP health check after {figures['moved']:,} accounts changed industry: "
        f"{figures['check_s']:.1f} s ({check.alerts} alert(s), {check.announced} announced)",
        f"(loading took {figures['load_s']:.1f} s and the activation rescore "
        f"{figures['rescore_s']:.1f} s; not part of the figures)",
    ]


if __name__ == "__main__":
    for line in run():
        print(line)
