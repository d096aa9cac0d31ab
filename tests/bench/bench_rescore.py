"""Rescore of 1,000,000 stored accounts on the embedded PostgreSQL (target ≤ 60 s).

Loads a million canonical accounts with COPY, activates examples/icp.yaml and times the
rescore job's body: read → score → bulk write, with a history row for every change. Three
passes: first verdicts (every account new), a changed ICP (every verdict rewritten), and an
unchanged ICP (nothing to write); then a fourth with two contacts per account loaded and a
persona criterion added, so every batch also reads and matches the accounts' people.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import orjson
import psycopg

from app.core.db import Database, libpq_conninfo
from connectors.sandbox.common.demo_accounts import demo_accounts
from tests.bench.harness import bench_database, example_icp

ACCOUNTS = int(os.environ.get("BENCH_RESCORE_ACCOUNTS", 1_000_000))
CONTACTS_PER_ACCOUNT = 2
# Titles as CRMs hold them, cycled over the contacts (classified once each, as a sync would).
TITLES = (
    "VP, Growth Marketing",
    "Sr. Software Engineer",
    "Head of SEO",
    "Co-Founder & CEO",
    "Account Executive",
    "Content Writer",
    "Director of Engineering",
    "Marketing Manager",
    "Data Analyst",
    "CFO",
    "Customer Success Manager",
)


def _load(conninfo: str) -> None:
    connection_id = uuid.uuid4()
    with psycopg.connect(conninfo) as connection:
        connection.execute(
            "INSERT INTO connections (id, kind, name) VALUES (%s, 'import', 'import')",
            (connection_id,),
        )
        with connection.cursor().copy(
            "COPY accounts (connection_id, external_id, name, domain, data) FROM STDIN"
        ) as copy:
            for external_id, data in demo_accounts(7, ACCOUNTS):
                copy.write_row(
                    (
                        connection_id,
                        external_id,
                        data["name"],
                        data["domain"],
                        orjson.dumps(data).decode(),
                    )
                )
        connection.execute("ANALYZE accounts")


def _load_contacts(conninfo: str) -> float:
    """Two contacts per account, linked by CRM id, the connection's contacts marked read."""
    from app.scoring.titles import classify_title

    started = time.perf_counter()
    classes = [classify_title(title) for title in TITLES]
    with psycopg.connect(conninfo) as connection:
        (connection_id,) = connection.execute("SELECT id FROM connections").fetchone()  # type: ignore[misc]
        external_ids = [row[0] for row in connection.execute("SELECT external_id FROM accounts")]
        with connection.cursor().copy(
            "COPY contacts (id, connection_id, external_id, title, seniority, function) FROM STDIN"
        ) as copy:
            for n in range(len(external_ids) * CONTACTS_PER_ACCOUNT):
                title = TITLES[n % len(TITLES)]
                verdict = classes[n % len(TITLES)]
                copy.write_row(
                    (n + 1, connection_id, f"c{n}", title, verdict.seniority, verdict.function)
                )
        with connection.cursor().copy(
            "COPY contact_accounts (contact_id, account_external_id, connection_id) FROM STDIN"
        ) as copy:
            for n in range(len(external_ids) * CONTACTS_PER_ACCOUNT):
                copy.write_row((n + 1, external_ids[n // CONTACTS_PER_ACCOUNT], connection_id))
        connection.execute("UPDATE connections SET contacts_synced_at = now()")
        connection.execute("ANALYZE contacts")
        connection.execute("ANALYZE contact_accounts")
    return time.perf_counter() - started


async def _rescore(
    database: Database, definition: dict[str, object] | None
) -> tuple[float, dict[str, int]]:
    """Activate ``definition`` as a new version (None: keep the active one), then rescore."""
    from app.accounts.tasks import rescore_all_accounts
    from app.icps.service import activate_icp, create_icp

    if definition is not None:
        async with database.transaction() as session:
            version = await create_icp(session, source=definition, content_type="application/json")
            await activate_icp(session, icp_id=version.id)
    started = time.perf_counter()
    counts = await rescore_all_accounts(icp_version_id="bench")
    return time.perf_counter() - started, counts


async def _passes() -> tuple[float, float, list[tuple[float, dict[str, int]]]]:
    async with bench_database() as (database, _):
        started = time.perf_counter()
        _load(libpq_conninfo(database.url))
        load_s = time.perf_counter() - started
        icp = example_icp()
        changed = dict(
            icp,
            criteria=[
                dict(c, weight=c["weight"] + (5 if c["weight"] > 0 else -5))
                for c in icp["criteria"]  # type: ignore[attr-defined]
            ],
        )
        passes = [
            await _rescore(database, icp),
            await _rescore(database, changed),
            await _rescore(database, None),
        ]
        contacts_s = _load_contacts(libpq_conninfo(database.url))
        with_personas = dict(
            icp,
            name="With personas",
            criteria=[
                *icp["criteria"],  # type: ignore[misc]
                {
                    "id": "has_buyer",
                    "label": "Economic buyer",
                    "field": "personas.economic_buyer",
                    "op": "gte",
                    "value": 1,
                    "weight": 15,
                },
            ],
        )
        passes.append(await _rescore(database, with_personas))
        return load_s, contacts_s, passes


def run() -> list[str]:
    """Load, then time three rescore passes."""
    load_s, contacts_s, passes = asyncio.run(_passes())
    (first_s, first), (changed_s, second), (same_s, third), (persona_s, fourth) = passes
    target = "target ≤ 60 s"
    return [
        f"rescore, first verdicts: {ACCOUNTS:,} accounts in {first_s:.1f} s "
        f"({ACCOUNTS / first_s:,.0f}/s; {first['history']:,} history rows) — {target}",
        f"rescore, changed ICP: {ACCOUNTS:,} accounts in {changed_s:.1f} s "
        f"({second['changed']:,} verdicts rewritten, {second['history']:,} history rows) "
        f"— {target}",
        f"rescore, unchanged ICP: {ACCOUNTS:,} accounts in {same_s:.1f} s "
        f"({third['changed']:,} rewritten)",
        f"rescore with a persona criterion, {CONTACTS_PER_ACCOUNT * ACCOUNTS:,} contacts read "
        f"and matched: {ACCOUNTS:,} accounts in {persona_s:.1f} s "
        f"({fourth['changed']:,} verdicts rewritten) — {target}",
        f"(loading {ACCOUNTS:,} accounts with COPY took {load_s:.1f} s, and "
        f"{CONTACTS_PER_ACCOUNT * ACCOUNTS:,} contacts {contacts_s:.1f} s; not part of the "
        "figures)",
    ]


if __name__ == "__main__":
    for line in run():
        print(line)
