"""Salesforce end to end, deals and people: Opportunities and Contacts synced through
simple-salesforce from the sandbox, stored and linked to their accounts, and scored by an ICP
that weighs won deals and buyer personas."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from simple_salesforce import Salesforce

from app.core.db import libpq_conninfo
from tests.e2e.conftest import activate_example_icp, salesforce_connection
from tests.e2e.test_salesforce_sync import _sync
from tests.e2e.test_webhooks_e2e import SF_SECRET, _until

# Weights that tell the reasons apart by the score alone: a won deal is worth 55, an economic
# buyer 30, an SEO champion 15 (a won account scores 55 or more, any other less).
ICP = """
name: Outcomes and people (Salesforce)
personas:
  - {id: economic_buyer, seniority: [c_level, vp], functions: [marketing, executive]}
  - {id: seo_champion, title_keywords: [seo, organic search]}
criteria:
  - {id: has_won, field: won_deals, op: gte, value: 1, weight: 55}
  - {id: buyer, field: personas.economic_buyer, op: gte, value: 1, weight: 30}
  - {id: champion, field: personas.seo_champion, op: gte, value: 1, weight: 15}
tiers: {A: 80, B: 60, C: 40}
"""
WON, BUYER, CHAMPION = 55, 30, 15
_BUSY_JOBS = "SELECT 1 FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"


async def _activate(database, tmp_path: Path) -> None:
    path = tmp_path / "outcomes.yaml"
    path.write_text(ICP)
    await activate_example_icp(database, path)


async def _first_sync(database, connection_id):
    """A first full sync, then what its worker does next: the rescore it asks for once the
    connection's deals and contacts are known (their roll-ups were unknown until then), and
    the write-back of the verdicts that changed."""
    from app.accounts.tasks import rescore_all_accounts
    from app.writeback.tasks import flush_writebacks

    run, _ = await _sync(database, connection_id)
    assert run.status == "succeeded", run.error
    await rescore_all_accounts(icp_version_id="test")
    await flush_writebacks(connection_id=str(connection_id))
    return run


def _rows(database_url: str, query: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        return connection.execute(query, args).fetchall()


def _deals(database_url: str, connection_id) -> dict[str, tuple[Any, ...]]:
    """Stored deals: (linked account ids, is_closed, is_won, archived) by CRM id."""
    rows = _rows(
        database_url,
        "SELECT d.external_id, array_remove(array_agg(l.account_external_id), NULL), "
        "d.is_closed, d.is_won, d.archived FROM deals d "
        "LEFT JOIN deal_accounts l ON l.deal_id = d.id WHERE d.connection_id = %s "
        "GROUP BY d.id",
        connection_id,
    )
    return {row[0]: (sorted(row[1]), *row[2:]) for row in rows}


def _contacts(database_url: str, connection_id) -> dict[str, tuple[Any, ...]]:
    """Stored contacts: (linked account ids, title, buying role, archived) by CRM id."""
    rows = _rows(
        database_url,
        "SELECT c.external_id, array_remove(array_agg(l.account_external_id), NULL), "
        "c.title, c.buying_role, c.archived FROM contacts c "
        "LEFT JOIN contact_accounts l ON l.contact_id = c.id WHERE c.connection_id = %s "
        "GROUP BY c.id",
        connection_id,
    )
    return {row[0]: (sorted(row[1]), *row[2:]) for row in rows}


def _scores(database_url: str, connection_id) -> dict[str, int]:
    rows = _rows(
        database_url,
        "SELECT a.external_id, s.score FROM accounts a "
        "JOIN account_scores s ON s.account_id = a.id WHERE a.connection_id = %s",
        connection_id,
    )
    return {row[0]: row[1] for row in rows}


def _crm(sf: Salesforce, soql: str) -> dict[str, dict[str, Any]]:
    return {row["Id"]: row for row in sf.query_all(soql)["records"]}


def _crm_scores(sf: Salesforce) -> dict[str, Any]:
    return {
        i: r["ICP_Fit_Score__c"]
        for i, r in _crm(sf, "SELECT Id, ICP_Fit_Score__c FROM Account").items()
    }


@pytest.mark.slow
async def test_full_sync_stores_5000_opportunities_and_10000_contacts_linked_to_their_accounts(
    database, database_url, sf_admin, sf, salesforce_server, tmp_path
):
    sf_admin.reset(seed=4, accounts=5000, opportunities_per_account=1, contacts_per_account=2)
    await _activate(database, tmp_path)
    connection_id = await salesforce_connection(database, salesforce_server)

    run = await _first_sync(database, connection_id)

    assert run.warnings == []
    assert (run.counts["fetched"], run.counts["deals_fetched"], run.counts["contacts_fetched"]) == (
        5000,
        5000,
        10000,
    )
    assert (run.counts["scored"], run.counts["written"]) == (5000, 5000)
    opportunities = _crm(sf, "SELECT Id, AccountId, IsClosed, IsWon FROM Opportunity")
    deals = _deals(database_url, connection_id)
    assert deals == {
        i: ([r["AccountId"]], r["IsClosed"], r["IsWon"], False) for i, r in opportunities.items()
    }
    people = _crm(sf, "SELECT Id, AccountId, Title FROM Contact")
    contacts = _contacts(database_url, connection_id)
    assert {i: c[:2] for i, c in contacts.items()} == {
        i: ([r["AccountId"]], r["Title"]) for i, r in people.items()
    }
    assert sum(c[2] is not None for c in contacts.values()) > 1000  # buying roles
    # Every account scored with its deals and people: won ones, and only they, reach 55.
    won_accounts = {r["AccountId"] for r in opportunities.values() if r["IsWon"]}
    scores = _scores(database_url, connection_id)
    assert len(scores) == 5000
    assert {i for i, score in scores.items() if score >= WON} == won_accounts
    assert any(score % WON in (BUYER, CHAMPION, BUYER + CHAMPION) for score in scores.values())
    assert _crm_scores(sf) == scores
    # Reads at the minimum: one query or queryMore per 2,000 records of each object
    # (accounts 3, opportunities 3, contacts 5), and the Account describe that checks the
    # ICP fields.
    calls = sf_admin.stats()["calls"]
    assert calls["GET /services/data/v{version}/queryAll"] == 3
    assert calls["GET /services/data/v{version}/queryAll/{locator}"] == 11 - 3
    assert calls["GET /services/data/v{version}/sobjects/{sobject}/describe"] == 1


async def test_incremental_sync_picks_up_a_won_opportunity_and_new_people_and_rescores_them(
    database, database_url, sf_admin, sf, salesforce_server, tmp_path
):
    sf_admin.reset(seed=4, accounts=200, opportunities_per_account=1, contacts_per_account=2)
    await _activate(database, tmp_path)
    connection_id = await salesforce_connection(database, salesforce_server)
    await _first_sync(database, connection_id)
    scores = _scores(database_url, connection_id)
    opportunities = _crm(sf, "SELECT Id, AccountId, IsClosed FROM Opportunity")
    # Two accounts that score nothing yet: one with an open opportunity, one other.
    nothing = sorted(i for i, score in scores.items() if score == 0)
    open_deal = next(
        o for o in opportunities.values() if o["AccountId"] in nothing and not o["IsClosed"]
    )
    winner = open_deal["AccountId"]
    hiring = next(i for i in nothing if i != winner)

    sf.Opportunity.update(open_deal["Id"], {"StageName": "Closed Won"})
    cmo = sf.Contact.create(
        {
            "AccountId": hiring,
            "LastName": "Ito",
            "Title": "Chief Marketing Officer",
            "Email": "k@ito.jp",
        }
    )["id"]
    seo = sf.Contact.create({"AccountId": hiring, "LastName": "Berg", "Title": "Head of SEO"})["id"]
    run, _ = await _sync(database, connection_id, mode="incremental")

    assert run.status == "succeeded", run.error
    assert 1 <= run.counts["deals_fetched"] <= 2  # the won one (and the last one seen before)
    assert 2 <= run.counts["contacts_fetched"] <= 3
    assert _deals(database_url, connection_id)[open_deal["Id"]] == ([winner], True, True, False)
    stored_people = _contacts(database_url, connection_id)
    assert stored_people[cmo][:2] == ([hiring], "Chief Marketing Officer")
    assert stored_people[seo][:2] == ([hiring], "Head of SEO")
    after = _scores(database_url, connection_id)
    assert after[winner] == WON
    assert after[hiring] == BUYER + CHAMPION  # the personas, from titles alone
    assert {i for i in after if after[i] != scores[i]} == {winner, hiring}
    crm = _crm_scores(sf)
    assert (crm[winner], crm[hiring]) == (WON, BUYER + CHAMPION)


async def test_a_deleted_opportunity_is_archived_and_its_account_no_longer_counts_it_won(
    database, database_url, sf_admin, sf, salesforce_server, tmp_path
):
    sf_admin.reset(seed=4, accounts=150, opportunities_per_account=1, contacts_per_account=0)
    await _activate(database, tmp_path)
    connection_id = await salesforce_connection(database, salesforce_server)
    await _first_sync(database, connection_id)
    won = next(
        o for o in _crm(sf, "SELECT Id, AccountId, IsWon FROM Opportunity").values() if o["IsWon"]
    )
    assert _scores(database_url, connection_id)[won["AccountId"]] == WON

    sf.Opportunity.delete(won["Id"])
    run, _ = await _sync(database, connection_id, mode="incremental")

    assert run.status == "succeeded", run.error
    assert _deals(database_url, connection_id)[won["Id"]] == ([won["AccountId"]], True, True, True)
    assert _scores(database_url, connection_id)[won["AccountId"]] == 0
    assert _crm_scores(sf)[won["AccountId"]] == 0


@pytest.mark.slow
async def test_an_outbound_message_for_a_won_opportunity_rescores_its_account_within_seconds(
    database, database_url, sf_admin, sf, salesforce_server, service_url, tmp_path
):
    """The sandbox's Outbound Messages on Opportunity reach `icp-sync serve`, whose worker
    reads the opportunity by id, rescores its account and writes the verdict back."""
    sf_admin.reset(seed=4, accounts=60, opportunities_per_account=1, contacts_per_account=0)
    await _activate(database, tmp_path)
    organization_id = sf_admin.get("outbound")["organization_id"]
    connection_id = await salesforce_connection(
        database,
        salesforce_server,
        credentials={"webhook_secret": SF_SECRET},
        salesforce_organization_id=organization_id,
    )
    await _first_sync(database, connection_id)
    scores = _scores(database_url, connection_id)
    opportunity = next(
        o
        for o in _crm(sf, "SELECT Id, AccountId, IsClosed FROM Opportunity").values()
        if not o["IsClosed"] and scores[o["AccountId"]] == 0
    )
    account = opportunity["AccountId"]
    # The rescore the first sync asked for runs in the service's worker too: let it finish
    # first (a rescore of every account that overlaps the webhook's can write its older
    # verdict last).
    await _until(lambda: not _rows(database_url, _BUSY_JOBS), seconds=30)
    sf_admin.post(
        "outbound",
        {
            "target_url": f"{service_url}/webhooks/salesforce/{connection_id}?secret={SF_SECRET}",
            "objects": ["Opportunity"],
            "fields": None,
        },
    )
    started = time.monotonic()

    sf.Opportunity.update(opportunity["Id"], {"StageName": "Closed Won"})

    await _until(lambda: sf.Account.get(account)["ICP_Fit_Score__c"] == WON, seconds=15)
    assert time.monotonic() - started < 15
    assert _deals(database_url, connection_id)[opportunity["Id"]] == ([account], True, True, False)
    assert _scores(database_url, connection_id)[account] == WON
    assert len(_rows(database_url, "SELECT 1 FROM sync_runs")) == 1  # no sync run did it
    outbound = sf_admin.get("outbound")
    assert outbound["delivered_notifications"] >= 1
    assert outbound["failed_attempts"] == 0, outbound
