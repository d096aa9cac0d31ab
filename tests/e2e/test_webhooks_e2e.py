"""CRM-triggered rescoring through the real service process: each sandbox's own webhook
emitter (HubSpot's signed v3 events, Salesforce's Outbound Messages) calls `icp-sync serve`,
whose worker writes the new verdict back."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from app.core.db import libpq_conninfo
from tests.e2e.conftest import (
    BATCH_UPDATE,
    activate_example_icp,
    calls,
    make_connection,
    salesforce_connection,
    sync,
)

PERFECT_FIT = {
    "country": "United States",
    "industry": "ONLINE_MEDIA",
    "funding_stage": "series_b",
    "total_money_raised": "9000000",
    "has_inhouse_seo": "true",
    "web_technologies": "contentful",
    "numberofemployees": "120",
}


def _tier(hubspot, company_id: str) -> str | None:
    company = hubspot.crm.companies.basic_api.get_by_id(company_id, properties=["icp_tier"])
    return company.properties.get("icp_tier")


async def _until(condition, *, seconds: float = 30) -> None:
    """Poll until ``condition()`` holds (nothing in the CRM or the service can signal us);
    fail if it never does."""
    for _ in range(int(seconds * 10)):
        if condition():
            return
        await asyncio.sleep(0.1)
    assert condition(), f"still not true after {seconds} s"


def _service_idle(database_url) -> bool:
    """Every stored event processed, and no inbox or write-back job waiting or running."""
    return (
        _count(
            database_url,
            "SELECT (SELECT count(*) FROM webhook_inbox WHERE processed_at IS NULL)"
            " + (SELECT count(*) FROM procrastinate_jobs"
            "    WHERE task_name IN ('inbox.process', 'writeback.flush')"
            "      AND status IN ('todo', 'doing'))",
        )
        == 0
    )


def _count(database_url, query: str, *args) -> int:
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        return connection.execute(query, args).fetchone()[0]


@pytest.mark.slow
async def test_a_reps_edit_reaches_the_icp_properties_with_no_sync_run(
    database, database_url, hubspot_admin, hubspot, service_url
):
    """Delivered twice (HubSpot's at-least-once retry), processed once: one write, and our
    write-back's own echo causes none."""
    hubspot_admin.reset(seed=3, companies=60)
    await activate_example_icp(database)
    connection_id = await make_connection(database, hubspot_admin.url)
    await sync(database, connection_id)
    crm = hubspot.crm.companies.basic_api.get_page(limit=100, properties=["icp_tier"]).results
    target = next(c.id for c in crm if c.properties.get("icp_tier") == "D")
    hubspot_admin.webhooks(f"{service_url}/webhooks/hubspot/{connection_id}", redeliver=True)
    writes = calls(hubspot_admin, BATCH_UPDATE)

    hubspot_admin.edits(ids=[target], properties=PERFECT_FIT)

    await _until(lambda: _tier(hubspot, target) == "A")
    assert _tier(hubspot, target) == "A"
    assert _count(database_url, "SELECT count(*) FROM sync_runs") == 1  # the initial one only

    # Our write-back echoes back as icp_* propertyChange events: once the sandbox has
    # delivered them (the service stored what it keeps) and the service is idle, no further
    # write may have been made.
    def echo_delivered() -> bool:
        state = hubspot_admin.get("webhooks")
        return state["pending_events"] == 0 and state["delivered_events"] > len(PERFECT_FIT)

    await _until(echo_delivered)
    await _until(lambda: _service_idle(database_url))
    assert calls(hubspot_admin, BATCH_UPDATE) == writes + 1
    delivered = hubspot_admin.get("webhooks")
    assert delivered["failed_attempts"] == 0, delivered
    assert delivered["redelivered_requests"] >= 1, delivered
    stored = _count(database_url, "SELECT count(*) FROM webhook_inbox WHERE object_id = %s", target)
    assert stored == len(PERFECT_FIT)  # one row per changed property, not two


@pytest.mark.slow
async def test_a_reps_edit_in_salesforce_reaches_the_icp_fields_with_no_sync_run(
    database, database_url, sf_admin, salesforce_server, sf, service_url
):
    """The Salesforce sandbox's Outbound Messages (SOAP, retried until acked) drive the same
    path; our own field updates come back as notifications and cause no further write."""
    sf_admin.reset(seed=4, accounts=40, opportunities_per_account=0)
    await activate_example_icp(database)
    organization_id = sf_admin.get("outbound")["organization_id"]
    connection_id = await salesforce_connection(
        database,
        salesforce_server,
        credentials={"webhook_secret": SF_SECRET},
        salesforce_organization_id=organization_id,
    )
    await sync(database, connection_id)
    tiers = {r["Id"]: r["ICP_Tier__c"] for r in sf.query_all(SF_TIERS)["records"]}
    target = next(i for i, tier in tiers.items() if tier == "D")
    sf_admin.post(
        "outbound",
        {"target_url": f"{service_url}/webhooks/salesforce/{connection_id}?secret={SF_SECRET}"},
    )
    writes = _salesforce_writes(sf_admin)

    sf_admin.edits(ids=[target], fields=PERFECT_FIT_SALESFORCE)

    def tier() -> str | None:
        return sf.Account.get(target)["ICP_Tier__c"]

    await _until(lambda: tier() == "A")
    assert tier() == "A"
    assert _count(database_url, "SELECT count(*) FROM sync_runs") == 1

    # Our own update comes back as a notification: once it is delivered and processed, no
    # further write may have been made.
    def echo_delivered() -> bool:
        state = sf_admin.get("outbound")
        return state["pending_notifications"] == 0 and state["delivered_notifications"] >= 2

    await _until(echo_delivered)
    await _until(lambda: _service_idle(database_url))
    assert _salesforce_writes(sf_admin) == writes + 1
    outbound = sf_admin.get("outbound")
    assert outbound["failed_attempts"] == 0, outbound
    assert outbound["pending_notifications"] == 0, outbound


SF_SECRET = "outbound-secret-0123456789"
SF_TIERS = "SELECT Id, ICP_Tier__c FROM Account"
PERFECT_FIT_SALESFORCE = {
    "BillingCountry": "United States",
    "Industry": "Online Media",
    "Funding_Stage__c": "series_b",
    "Total_Funding__c": 9000000,
    "Has_Inhouse_SEO__c": True,
    "Tech_Stack__c": "Contentful",
    "NumberOfEmployees": 120,
}


def _salesforce_writes(admin) -> int:
    calls = admin.stats()["calls"]
    return sum(n for key, n in calls.items() if key.startswith("PATCH") and "composite" in key)
