"""HubSpot deals and contacts end to end: synced through hubspot-api-client from the sandbox,
stored with their companies, classified, rolled up and scored; kept fresh by incremental syncs
and by webhooks."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections import Counter
from typing import Any

import psycopg
import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import (
    AssociationSpec,
    PublicAssociationsForObject,
    PublicObjectId,
    SimplePublicObjectInputForCreate,
)

from app.core.db import libpq_conninfo
from connectors.sandbox.common.admin_client import SandboxAdmin
from tests.e2e.conftest import activate_example_icp, make_connection, sync

ENTERPRISE = "14598210"
OUTCOMES_ICP = b"""
name: Outcomes and people
personas:
  - {id: economic_buyer, seniority: [c_level, vp], functions: [marketing, executive]}
  - {id: seo_champion, title_keywords: [seo]}
criteria:
  - {id: has_won, field: won_deals, op: gte, value: 1, weight: 40}
  - {id: buyer, field: personas.economic_buyer, op: gte, value: 1, weight: 40}
  - {id: champion, field: personas.seo_champion, op: gte, value: 1, weight: 20}
tiers: {A: 80, B: 60, C: 40}
"""


async def _activate(database, source: bytes) -> None:
    from app.icps.service import activate_icp, apply_icp

    async with database.transaction() as session:
        version, _ = await apply_icp(session, source=source, content_type="application/yaml")
        await activate_icp(session, icp_id=version.id)


async def _first_sync(database, connection_id: uuid.UUID):
    """A full sync, then the rescore of every account it defers (a worker's job): the first
    read of a connection's deals and contacts makes its accounts' roll-ups known."""
    from app.accounts.pipeline import rescore_active_version
    from app.icps.service import get_active_icp

    run = await sync(database, connection_id)
    assert run.status == "succeeded", run.error
    async with database.transaction() as session:
        version = await get_active_icp(session)
    await rescore_active_version(database, version)
    return run


def _query(database_url, query: str, *args: Any) -> list[tuple]:
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        return connection.execute(query, args).fetchall()


def _scores(database_url, connection_id: uuid.UUID) -> dict[str, tuple[int, str]]:
    rows = _query(
        database_url,
        "SELECT a.external_id, s.score, s.reasons FROM accounts a "
        "JOIN account_scores s ON s.account_id = a.id WHERE a.connection_id = %s",
        connection_id,
    )
    return {row[0]: (row[1], row[2]) for row in rows}


def _deals(database_url, connection_id: uuid.UUID) -> dict[str, tuple]:
    """Stored deals by CRM id: (pipeline, stage, is_closed, is_won, archived, companies)."""
    rows = _query(
        database_url,
        """
        SELECT d.external_id, d.pipeline, d.stage, d.is_closed, d.is_won, d.archived,
               coalesce(array_agg(da.account_external_id ORDER BY da.account_external_id)
                        FILTER (WHERE da.account_external_id IS NOT NULL), '{}')
        FROM deals d LEFT JOIN deal_accounts da ON da.deal_id = d.id
        WHERE d.connection_id = %s GROUP BY d.id
        """,
        connection_id,
    )
    return {row[0]: row[1:] for row in rows}


def _contacts(database_url, connection_id: uuid.UUID) -> dict[str, tuple]:
    """Stored contacts by CRM id: (title, seniority, function, buying_role, companies)."""
    rows = _query(
        database_url,
        """
        SELECT c.external_id, c.title, c.seniority, c.function, c.buying_role,
               coalesce(array_agg(ca.account_external_id ORDER BY ca.account_external_id)
                        FILTER (WHERE ca.account_external_id IS NOT NULL), '{}')
        FROM contacts c LEFT JOIN contact_accounts ca ON ca.contact_id = c.id
        WHERE c.connection_id = %s GROUP BY c.id
        """,
        connection_id,
    )
    return {row[0]: row[1:] for row in rows}


def _crm(hubspot: HubSpot, object_type: str, properties: list[str]) -> dict[str, Any]:
    """What the sandbox holds, read with the official client: id → (properties, companies)."""
    api = getattr(hubspot.crm, object_type).basic_api
    rows: dict[str, Any] = {}
    after = None
    while True:
        page = api.get_page(
            limit=100, after=after, properties=properties, associations=["companies"]
        )
        for r in page.results:
            linked = r.associations["companies"].results if r.associations else []
            rows[r.id] = (r.properties, sorted({link.id for link in linked}))
        if page.paging is None:
            return rows
        after = page.paging.next.after


def _new_contact(hubspot: HubSpot, company_id: str, **properties: str) -> str:
    created = hubspot.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties=properties,
            associations=[
                PublicAssociationsForObject(
                    to=PublicObjectId(id=company_id),
                    types=[
                        AssociationSpec(
                            association_category="HUBSPOT_DEFINED", association_type_id=279
                        )
                    ],
                )
            ],
        )
    )
    return str(created.id)


@pytest.mark.slow
async def test_full_sync_stores_5000_deals_and_10000_contacts_linked_to_their_companies(
    database, database_url, hubspot_admin: SandboxAdmin, hubspot: HubSpot
):
    hubspot_admin.reset(seed=3, companies=5000, deals_per_company=1, contacts_per_company=2)
    await activate_example_icp(database)
    connection_id = await make_connection(database, hubspot_admin.url)

    run = await sync(database, connection_id)

    assert run.status == "succeeded", run.error
    assert run.counts["fetched"] == 5000
    assert (run.counts["deals_fetched"], run.counts["contacts_fetched"]) == (5000, 10000)
    # Companies, deals and contacts are stored side by side: no object's count is lost.
    assert (run.counts["scored"], run.counts["written"]) == (5000, 5000)
    assert run.warnings == []
    crm_deals = _crm(hubspot, "deals", ["dealstage", "pipeline", "hs_is_closed_won"])
    crm_contacts = _crm(hubspot, "contacts", ["jobtitle", "hs_buying_role"])
    deals, contacts = _deals(database_url, connection_id), _contacts(database_url, connection_id)
    assert len(deals) == 5000 and len(contacts) == 10000
    for external_id, (pipeline, stage, _, is_won, archived, companies) in deals.items():
        wire, crm_companies = crm_deals[external_id]
        assert (pipeline, stage) == (wire["pipeline"], wire["dealstage"])
        assert is_won == (wire["hs_is_closed_won"] == "true")
        assert companies == crm_companies and len(companies) == 1
        assert not archived
    for external_id, (title, _, function, role, companies) in contacts.items():
        wire, crm_companies = crm_contacts[external_id]
        assert (title, role) == (wire["jobtitle"], wire["hs_buying_role"])
        assert companies == crm_companies and len(companies) == 1
        assert function is not None  # classified
    # Every link points at a stored company, each company with one deal and two people.
    accounts = {row[0] for row in _query(database_url, "SELECT external_id FROM accounts")}
    assert Counter(c for d in deals.values() for c in d[5]) == dict.fromkeys(accounts, 1)
    assert Counter(c for p in contacts.values() for c in p[4]) == dict.fromkeys(accounts, 2)
    won = sum(1 for d in deals.values() if d[3])
    lost = sum(1 for d in deals.values() if d[2] and not d[3])
    assert won > 0 and lost > 0


async def test_the_custom_pipelines_numeric_stages_resolve_to_won_and_lost(
    database, database_url, hubspot_admin: SandboxAdmin
):
    hubspot_admin.reset(seed=5, companies=400, deals_per_company=2, contacts_per_company=0)
    await activate_example_icp(database)
    connection_id = await make_connection(database, hubspot_admin.url)

    run = await sync(database, connection_id)

    assert run.status == "succeeded", run.error
    enterprise = {
        stage: (is_closed, is_won)
        for pipeline, stage, is_closed, is_won, *_ in _deals(database_url, connection_id).values()
        if pipeline == ENTERPRISE
    }
    assert enterprise["14598216"] == (True, True)  # Closed Won
    assert enterprise["14598217"] == (True, False)  # Closed Lost
    assert {v for k, v in enterprise.items() if k not in ("14598216", "14598217")} == {
        (False, False)
    }


async def test_incremental_sync_picks_up_a_deal_won_and_a_new_contact_and_rescores_their_accounts(
    database, database_url, hubspot_admin: SandboxAdmin, hubspot: HubSpot
):
    hubspot_admin.reset(seed=3, companies=120, deals_per_company=2, contacts_per_company=2)
    await _activate(database, OUTCOMES_ICP)
    connection_id = await make_connection(database, hubspot_admin.url)
    await _first_sync(database, connection_id)
    deals = _deals(database_url, connection_id)
    won_accounts = {d[5][0] for d in deals.values() if d[3]}
    # An account with no win yet, and an open deal of it; another with no economic buyer.
    deal_id, (_, _, _, _, _, [winner]) = next(
        (i, d)
        for i, d in sorted(deals.items())
        if d[0] == "default" and not d[2] and d[5][0] not in won_accounts
    )
    scores = _scores(database_url, connection_id)
    buyer_less = next(
        a for a, (_, reasons) in sorted(scores.items()) if "buyer" not in reasons and a != winner
    )
    hubspot_admin.edits(object_type="deals", ids=[deal_id], properties={"dealstage": "closedwon"})
    contact_id = _new_contact(
        hubspot, buyer_less, firstname="Ada", lastname="Lovelace", jobtitle="VP, Marketing"
    )

    run = await sync(database, connection_id, mode="incremental")

    assert run.status == "succeeded", run.error
    assert run.counts["deals_fetched"] >= 1 and run.counts["contacts_fetched"] >= 1
    after = _scores(database_url, connection_id)
    assert after[winner][0] == scores[winner][0] + 40
    assert after[buyer_less][0] == scores[buyer_less][0] + 40
    assert _deals(database_url, connection_id)[deal_id][2:4] == (True, True)
    title, seniority, function, _, companies = _contacts(database_url, connection_id)[contact_id]
    assert (title, seniority, function, companies) == (
        "VP, Marketing",
        "vp",
        "marketing",
        [buyer_less],
    )


async def test_a_deleted_deal_is_archived_and_its_account_rescored(
    database, database_url, hubspot_admin: SandboxAdmin, hubspot: HubSpot
):
    hubspot_admin.reset(seed=3, companies=120, deals_per_company=2, contacts_per_company=0)
    await _activate(database, OUTCOMES_ICP)
    connection_id = await make_connection(database, hubspot_admin.url)
    await _first_sync(database, connection_id)
    deals = _deals(database_url, connection_id)
    wins = Counter(d[5][0] for d in deals.values() if d[3])
    # A won deal that is its account's only win.
    deal_id, account = next(
        (i, d[5][0]) for i, d in sorted(deals.items()) if d[3] and wins[d[5][0]] == 1
    )
    before = _scores(database_url, connection_id)[account][0]

    hubspot.crm.deals.basic_api.archive(deal_id)
    run = await sync(database, connection_id, mode="full")

    assert run.status == "succeeded", run.error
    assert _deals(database_url, connection_id)[deal_id][4] is True  # archived
    assert _scores(database_url, connection_id)[account][0] == before - 40


async def test_a_persona_criterion_scores_from_the_titles_of_the_accounts_people(
    database, database_url, hubspot_admin: SandboxAdmin, hubspot: HubSpot
):
    hubspot_admin.reset(seed=8, companies=150, deals_per_company=0, contacts_per_company=3)
    await _activate(
        database,
        b"""
name: SEO champions
personas:
  - {id: seo_champion, title_keywords: [seo, search]}
criteria:
  - {id: champion, field: personas.seo_champion, op: gte, value: 1, weight: 100}
tiers: {A: 80, B: 60, C: 40}
""",
    )
    connection_id = await make_connection(database, hubspot_admin.url)

    await _first_sync(database, connection_id)

    # Ground truth from the CRM's own titles: a whole word "seo" or "search".
    champion_of: dict[str, bool] = {}
    for wire, companies in _crm(hubspot, "contacts", ["jobtitle"]).values():
        title = wire.get("jobtitle") or ""
        for company in companies:
            champion_of[company] = champion_of.get(company, False) or bool(
                re.search(r"\b(seo|search)\b", title, re.IGNORECASE)
            )
    scores = _scores(database_url, connection_id)
    assert {a: s == 100 for a, (s, _) in scores.items()} == champion_of
    assert 0 < sum(champion_of.values()) < len(champion_of)


@pytest.mark.slow
async def test_a_deal_stage_change_webhook_rescores_its_account_within_seconds(
    database, database_url, hubspot_admin: SandboxAdmin, service_url
):
    hubspot_admin.reset(seed=3, companies=60, deals_per_company=2, contacts_per_company=1)
    await _activate(database, OUTCOMES_ICP)
    connection_id = await make_connection(database, hubspot_admin.url)
    await _first_sync(database, connection_id)
    deals = _deals(database_url, connection_id)
    won_accounts = {d[5][0] for d in deals.values() if d[3]}
    deal_id, account = next(
        (i, d[5][0])
        for i, d in sorted(deals.items())
        if d[0] == "default" and not d[2] and d[5][0] not in won_accounts
    )
    before = _scores(database_url, connection_id)[account][0]
    hubspot_admin.webhooks(f"{service_url}/webhooks/hubspot/{connection_id}")

    started = time.monotonic()
    hubspot_admin.edits(object_type="deals", ids=[deal_id], properties={"dealstage": "closedwon"})

    while time.monotonic() - started < 15:
        if _scores(database_url, connection_id)[account][0] == before + 40:
            break
        await asyncio.sleep(0.1)
    assert _scores(database_url, connection_id)[account][0] == before + 40
    assert time.monotonic() - started < 15
    assert _deals(database_url, connection_id)[deal_id][2:4] == (True, True)
    assert _query(database_url, "SELECT count(*) FROM sync_runs")[0][0] == 1  # no sync ran


async def test_deals_and_contacts_are_read_while_companies_still_are(
    database, hubspot_admin: SandboxAdmin, monkeypatch: pytest.MonkeyPatch
):
    from app.sync import pipeline

    hubspot_admin.reset(seed=5, companies=3000, deals_per_company=1, contacts_per_company=1)
    await activate_example_icp(database)
    connection_id = await make_connection(database, hubspot_admin.url)
    seen: list[str] = []  # each page as it is read, by object, and each object's end
    open_connector = pipeline.open_connector

    def open_watched(connection: Any, **kwargs: Any) -> Any:
        opened = open_connector(connection, **kwargs)
        for method, obj in (
            ("read_pages", "companies"),
            ("read_deal_pages", "deals"),
            ("read_contact_pages", "contacts"),
        ):
            read = getattr(opened.connector, method)

            def watched(*, cursor: Any, full: bool, read: Any = read, obj: str = obj) -> Any:
                for page in read(cursor=cursor, full=full):
                    seen.append(obj)
                    yield page
                seen.append(f"{obj} read")

            setattr(opened.connector, method, watched)
        return opened

    monkeypatch.setattr(pipeline, "open_connector", open_watched)

    run = await sync(database, connection_id)

    assert run.status == "succeeded", run.error
    assert (run.counts["fetched"], run.counts["deals_fetched"]) == (3000, 3000)
    assert run.counts["contacts_fetched"] == 3000
    before_the_last_company_page = seen[: seen.index("companies read")]
    assert "deals" in before_the_last_company_page
    assert "contacts" in before_the_last_company_page
