"""Deals and contacts stored with their companies: links by CRM id, roll-ups, rescoring."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from app.core.db import libpq_conninfo
from connectors.base import ContactRecord, DealRecord

ICP = b"""
name: Outcomes and people
personas:
  - {id: economic_buyer, seniority: [c_level, vp], functions: [marketing, executive]}
  - {id: seo_champion, title_keywords: [seo, organic search]}
criteria:
  - {id: has_won, field: won_deals, op: gte, value: 1, weight: 40}
  - {id: buyer, field: personas.economic_buyer, op: gte, value: 1, weight: 40}
  - {id: champion, field: personas.seo_champion, op: gte, value: 1, weight: 20}
tiers: {A: 80, B: 60, C: 40}
"""
CLOSED = datetime(2026, 6, 1, tzinfo=UTC)


async def _setup(database) -> uuid.UUID:
    from app.accounts.service import upsert_and_score
    from app.connections.schemas import ConnectionCreate
    from app.connections.service import create_connection
    from app.icps.service import activate_icp, apply_icp

    async with database.transaction() as session:
        version, _ = await apply_icp(session, source=ICP, content_type="application/yaml")
        await activate_icp(session, icp_id=version.id)
        connection = await create_connection(
            session,
            body=ConnectionCreate(
                kind="hubspot",
                name="crm",
                credentials={"access_token": "t"},
                base_url="http://127.0.0.1:1",
            ),
        )
        await upsert_and_score(
            session,
            connection_id=connection.id,
            accounts=[
                {"external_id": external_id, "data": {"name": external_id}}
                for external_id in ("acme", "globex")
            ],
        )
    return connection.id


async def _store(database, connection_id, *, deals=(), contacts=()) -> int:
    from app.accounts.service import store_outcomes

    async with database.transaction() as session:
        return await store_outcomes(
            session, connection_id=connection_id, deals=list(deals), contacts=list(contacts)
        )


async def _mark_read(database, connection_id) -> None:
    from app.connections.service import mark_outcomes_read

    async with database.transaction() as session:
        await mark_outcomes_read(session, connection_id=connection_id, deals=True, contacts=True)


async def _rescore_all(database) -> None:
    from app.accounts.pipeline import rescore_active_version
    from app.icps.service import get_active_icp

    async with database.transaction() as session:
        version = await get_active_icp(session)
    await rescore_active_version(database, version)


def _scores(database_url) -> dict[str, tuple[int, str]]:
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        rows = connection.execute(
            "SELECT a.external_id, s.score, s.reasons FROM accounts a "
            "JOIN account_scores s ON s.account_id = a.id"
        ).fetchall()
    return {row[0]: (row[1], row[2]) for row in rows}


def _won(external_id: str, *accounts: str, archived: bool = False) -> DealRecord:
    return DealRecord(
        external_id=external_id,
        account_external_ids=list(accounts),
        name=external_id,
        stage="closedwon",
        is_closed=True,
        is_won=True,
        amount=1000.0,
        closed_at=CLOSED,
        archived=archived,
    )


def _person(external_id: str, title: str, *accounts: str) -> ContactRecord:
    return ContactRecord(external_id=external_id, account_external_ids=list(accounts), title=title)


async def test_a_won_deal_and_the_right_people_raise_their_account_s_score(database, database_url):
    connection_id = await _setup(database)
    await _mark_read(database, connection_id)

    rescored = await _store(
        database,
        connection_id,
        deals=[_won("d1", "acme")],
        contacts=[
            _person("c1", "VP, Growth Marketing", "acme"),
            _person("c2", "Head of SEO", "acme"),
        ],
    )

    scores = _scores(database_url)
    assert rescored == 1  # acme
    assert scores["acme"][0] == 100
    assert scores["globex"][0] == 0  # known: no deals, no people


async def test_roll_ups_are_unknown_until_the_connection_s_deals_and_contacts_were_read(
    database, database_url
):
    connection_id = await _setup(database)

    await _store(database, connection_id, deals=[_won("d1", "acme")])
    before = _scores(database_url)
    await _mark_read(database, connection_id)
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        queued = connection.execute(
            "SELECT count(*) FROM procrastinate_jobs "
            "WHERE task_name = 'accounts.rescore_all' AND status = 'todo'"
        ).fetchone()
    await _rescore_all(database)  # what that job does
    after = _scores(database_url)

    assert queued == (1,)
    assert "? buyer (no data)" in before["globex"][1]
    assert "? buyer (no data)" not in after["globex"][1]
    assert after["acme"][0] == 40


async def test_a_deal_that_arrives_before_its_company_counts_once_the_company_is_stored(
    database, database_url
):
    from app.accounts.service import upsert_and_score

    connection_id = await _setup(database)
    await _mark_read(database, connection_id)
    await _store(database, connection_id, deals=[_won("d1", "initech")])

    async with database.transaction() as session:
        await upsert_and_score(
            session,
            connection_id=connection_id,
            accounts=[{"external_id": "initech", "data": {"name": "Initech"}}],
        )

    assert _scores(database_url)["initech"][0] == 40


async def test_a_deal_moved_to_another_company_rescores_both_and_an_archived_one_counts_no_more(
    database, database_url
):
    connection_id = await _setup(database)
    await _mark_read(database, connection_id)
    await _store(database, connection_id, deals=[_won("d1", "acme")])

    moved = await _store(database, connection_id, deals=[_won("d1", "globex")])
    moved_scores = _scores(database_url)
    archived = await _store(database, connection_id, deals=[_won("d1", "globex", archived=True)])
    unchanged = await _store(database, connection_id, deals=[_won("d1", "globex", archived=True)])

    assert moved == 2
    assert (moved_scores["acme"][0], moved_scores["globex"][0]) == (0, 40)
    assert archived == 1
    assert _scores(database_url)["globex"][0] == 0
    assert unchanged == 0  # read again unchanged: nothing to rescore


async def test_a_contact_of_two_companies_counts_for_each_and_is_stored_classified(
    database, database_url
):
    connection_id = await _setup(database)
    await _mark_read(database, connection_id)

    await _store(
        database, connection_id, contacts=[_person("c1", "Co-Founder & CEO", "acme", "globex")]
    )

    scores = _scores(database_url)
    assert scores["acme"][0] == scores["globex"][0] == 40
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        stored = connection.execute("SELECT seniority, function FROM contacts").fetchall()
    assert stored == [("c_level", "executive")]


@pytest.mark.parametrize("title", ["a\x00b"])
async def test_a_title_with_a_nul_from_a_careless_connector_is_refused_not_half_stored(
    database, database_url, title
):
    connection_id = await _setup(database)

    with pytest.raises(psycopg.DataError):
        await _store(database, connection_id, contacts=[_person("c1", title, "acme")])

    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        assert connection.execute("SELECT count(*) FROM contacts").fetchone() == (0,)


async def test_outcomes_stored_before_the_first_full_read_rescore_nothing_until_it_ends(
    database, database_url
):
    """Until a connection's deals and contacts have been read once in full, its roll-ups are
    unknown: rescoring for each page would change no verdict (the first full read ends with
    one rescore of every account), and a first full sync would score every account twice."""
    connection_id = await _setup(database)
    before = _scores(database_url)

    rescored = await _store(
        database,
        connection_id,
        deals=[_won("d1", "acme")],
        contacts=[_person("c1", "VP, Growth Marketing", "acme")],
    )

    assert rescored == 0
    assert _scores(database_url) == before


async def test_storing_a_contact_touches_exactly_the_companies_it_gained_or_lost_or_all_if_changed(
    database, database_url
):
    """What a store says to rescore: a new or changed contact's companies before and after,
    an unchanged one's gained or lost companies only, and nothing when read again as it was
    (its links are then left as they are, not deleted and written again)."""
    from app.contacts.repository import ContactRepository

    connection_id = await _setup(database)

    async def store(title: str, *accounts: str) -> set[str]:
        async with database.transaction() as session:
            return await ContactRepository(session).upsert(
                connection_id, [_person("c1", title, *accounts)]
            )

    def links() -> list[tuple[str, int]]:
        with psycopg.connect(libpq_conninfo(database_url)) as connection:
            rows = connection.execute(
                "SELECT account_external_id, xmin::text::bigint FROM contact_accounts "
                "ORDER BY account_external_id"
            ).fetchall()
        return [(row[0], row[1]) for row in rows]

    assert await store("Engineer", "acme") == {"acme"}
    assert await store("Engineer", "acme", "globex") == {"globex"}
    assert await store("Engineer", "globex") == {"acme"}
    assert await store("Engineer", "globex", "initech") == {"initech"}
    assert await store("CFO", "globex", "initech") == {"globex", "initech"}
    assert await store("CTO", "acme") == {"acme", "globex", "initech"}
    before = links()
    assert await store("CTO", "acme") == set()
    assert links() == before
