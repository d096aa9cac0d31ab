"""Reading Accounts from the Salesforce sandbox over https through simple-salesforce: mapping,
full and incremental reads, deleted accounts, cursors, expired query locators, reads by id."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from simple_salesforce import Salesforce

from connectors.base import AccountRecord, CanonicalAccount, Page
from connectors.salesforce import SalesforceConnector
from connectors.sandbox.common.admin_client import SandboxAdmin

RAW_FIELDS = (
    "Id, IsDeleted, SystemModstamp, Name, Website, NumberOfEmployees, BillingCountry, Type, "
    "Funding_Stage__c, NPS__c, Tech_Stack__c, Has_Inhouse_SEO__c, Is_Competitor__c"
)


def _raw_accounts(client: Salesforce) -> dict[str, dict[str, Any]]:
    """What the org holds, deleted accounts included, read with simple-salesforce alone."""
    rows = client.query_all(f"SELECT {RAW_FIELDS} FROM Account", include_deleted=True)
    return {row["Id"]: row for row in rows["records"]}


def _records(pages: list[Page]) -> list[AccountRecord]:
    return [record for page in pages for record in page.records]


def _ids(pages: list[Page]) -> list[str]:
    return [record.external_id for record in _records(pages)]


def _evict_query_locators(client: Salesforce) -> None:
    """Open ten new query cursors: a user keeps ten, so every older locator is released."""
    for _ in range(10):
        client.query("SELECT Id FROM Account", headers={"Sforce-Query-Options": "batchSize=200"})


def test_full_read_maps_every_account_to_typed_canonical_fields(
    sf_connector: SalesforceConnector, sf: Salesforce
) -> None:
    raw = _raw_accounts(sf)

    records = {
        r.external_id: r for r in _records(list(sf_connector.read_pages(cursor=None, full=True)))
    }

    assert records.keys() == raw.keys()
    for external_id, record in records.items():
        wire, fields = raw[external_id], record.fields
        assert fields["name"] == wire["Name"]
        assert fields["employees"] == wire["NumberOfEmployees"]
        assert fields["funding_stage"] == wire["Funding_Stage__c"]
        assert fields["nps"] == (int(wire["NPS__c"]) if wire["NPS__c"] is not None else None)
        assert fields["tech_stack"] == (
            wire["Tech_Stack__c"].split(";") if wire["Tech_Stack__c"] else None
        )
        assert "/" not in (fields["domain"] or "")
        assert fields["country"] is None or len(fields["country"]) == 2
        assert fields["is_customer"] == (
            wire["Type"].startswith("Customer") if wire["Type"] else None
        )
        assert fields["attributes"] == {
            "Has_Inhouse_SEO__c": wire["Has_Inhouse_SEO__c"],
            "Is_Competitor__c": wire["Is_Competitor__c"],
        }
        assert record.crm_updated_at == datetime.fromisoformat(wire["SystemModstamp"])
        assert record.archived is False
        # The pipeline builds its canonical account straight from a record.
        CanonicalAccount(external_id=external_id, **fields)
    assert any(r.fields["is_customer"] for r in records.values())
    assert any(r.fields["attributes"]["Has_Inhouse_SEO__c"] for r in records.values())


def test_extra_fields_can_be_renamed_into_the_attribute_names_an_icp_uses(
    make_sf_connector: Callable[..., SalesforceConnector], sf: Salesforce
) -> None:
    raw = _raw_accounts(sf)
    connector = make_sf_connector(
        settings={"extra_properties": {"has_inhouse_seo": "Has_Inhouse_SEO__c"}}
    )

    records = _records(list(connector.read_pages(cursor=None, full=True)))

    assert {r.external_id: r.fields["attributes"] for r in records} == {
        i: {"has_inhouse_seo": row["Has_Inhouse_SEO__c"]} for i, row in raw.items()
    }


def test_a_full_read_returns_deleted_accounts_as_archived(
    sf_connector: SalesforceConnector, sf: Salesforce, sf_admin: SandboxAdmin
) -> None:
    raw = _raw_accounts(sf)
    deleted = sorted(raw)[:3]
    sf_admin.post("delete", {"ids": deleted})

    records = _records(list(sf_connector.read_pages(cursor=None, full=True)))

    assert len(records) == len(raw)
    assert sorted(r.external_id for r in records if r.archived) == deleted


def test_a_full_read_pages_2000_accounts_at_a_time_and_ends_on_a_resting_cursor(
    sf_admin: SandboxAdmin, sf_connector: SalesforceConnector, sf: Salesforce
) -> None:
    sf_admin.reset(seed=3, companies=4500, deals_per_company=0)
    raw = _raw_accounts(sf)
    calls_before = sf_admin.stats()["calls"]
    before = datetime.now(UTC)

    pages = list(sf_connector.read_pages(cursor=None, full=True))

    assert [len(p.records) for p in pages] == [2000, 2000, 500]
    assert sorted(_ids(pages)) == sorted(raw)
    assert len(set(_ids(pages))) == 4500
    assert pages[0].cursor["phase"] == "full"
    assert pages[0].cursor["next_records_url"]
    # Seeded accounts were all modified before the read began: the latest one is the mark.
    latest = max(r.crm_updated_at for r in _records(pages) if r.crm_updated_at)
    assert latest < before
    assert pages[-1].cursor == {
        "modified_since": latest.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    }
    calls = sf_admin.stats()["calls"]
    query, more = (
        "GET /services/data/v{version}/queryAll",
        "GET /services/data/v{version}/queryAll/{locator}",
    )
    assert calls[query] - calls_before[query] == 1
    assert calls[more] - calls_before[more] == 2


def test_an_interrupted_full_read_resumes_after_its_last_page_in_a_new_connector(
    sf_admin: SandboxAdmin, make_sf_connector: Callable[..., SalesforceConnector]
) -> None:
    sf_admin.reset(seed=3, companies=4500, deals_per_company=0)
    everything = _ids(list(make_sf_connector().read_pages(cursor=None, full=True)))
    first = next(make_sf_connector().read_pages(cursor=None, full=True))

    rest = list(make_sf_connector().read_pages(cursor=first.cursor, full=False))

    assert [r.external_id for r in first.records] + _ids(rest) == everything
    assert rest[-1].cursor.keys() == {"modified_since"}


def test_an_expired_query_locator_restarts_a_full_read_after_the_last_account_seen(
    sf_admin: SandboxAdmin,
    make_sf_connector: Callable[..., SalesforceConnector],
    sf: Salesforce,
) -> None:
    sf_admin.reset(seed=3, companies=4500, deals_per_company=0)
    everything = sorted(_raw_accounts(sf))
    first = next(make_sf_connector().read_pages(cursor=None, full=True))
    _evict_query_locators(sf)
    calls_before = sf_admin.stats()["calls"]

    rest = list(make_sf_connector().read_pages(cursor=first.cursor, full=False))

    assert [r.external_id for r in first.records] + _ids(rest) == everything
    calls = sf_admin.stats()["calls"]
    query, more = (
        "GET /services/data/v{version}/queryAll",
        "GET /services/data/v{version}/queryAll/{locator}",
    )
    assert calls[query] - calls_before[query] == 1  # one new query, from the last id seen
    assert calls[more] - calls_before[more] == 2  # the expired locator, then the new one's


def test_an_incremental_read_returns_exactly_the_accounts_changed_since_the_cursor(
    sf_admin: SandboxAdmin, sf_connector: SalesforceConnector
) -> None:
    since = {"modified_since": datetime.now(UTC).isoformat()}
    edited = {e["id"] for e in sf_admin.post("edits", {"count": 5})["edited"]}
    live = sorted({e["id"] for e in sf_admin.post("edits", {"count": 40})["edited"]} - edited)
    deleted = live[:1]
    sf_admin.post("delete", {"ids": deleted})
    edited |= set(live)

    pages = list(sf_connector.read_pages(cursor=since, full=False))

    records = _records(pages)
    assert {r.external_id for r in records} == edited
    assert [r.external_id for r in records if r.archived] == deleted
    stamps = [r.crm_updated_at for r in records]
    assert stamps == sorted(stamps)  # SystemModstamp order: what makes a restart exact
    assert len(pages) == 1
    assert pages[-1].cursor.keys() == {"modified_since"}


def test_an_incremental_read_with_nothing_changed_is_one_empty_page_and_keeps_its_place(
    sf_connector: SalesforceConnector,
) -> None:
    since = datetime.now(UTC).replace(microsecond=0)

    pages = list(sf_connector.read_pages(cursor={"modified_since": since.isoformat()}, full=False))

    assert [p.records for p in pages] == [[]]
    resting = datetime.fromisoformat(pages[0].cursor["modified_since"])
    assert since <= resting <= datetime.now(UTC)


def test_an_incremental_read_after_an_expired_locator_loses_no_changed_account(
    sf_admin: SandboxAdmin,
    make_sf_connector: Callable[..., SalesforceConnector],
    sf: Salesforce,
) -> None:
    sf_admin.reset(seed=5, companies=3000, deals_per_company=0)
    start = datetime.now(UTC) - timedelta(hours=1)
    since = {"modified_since": start.isoformat()}
    ids = sorted(_raw_accounts(sf))
    # Nine saves of 300 accounts, a minute apart: page one ends inside the seventh.
    for minute in range(9):
        group = ids[minute * 300 : (minute + 1) * 300]
        at = (start + timedelta(minutes=minute + 1)).isoformat()
        sf_admin.post("edits", {"ids": group, "fields": {"NumberOfEmployees": 5}, "at": at})
    edited = set(ids[:2700])
    first = next(make_sf_connector().read_pages(cursor=since, full=False))
    assert first.cursor["phase"] == "changed"
    _evict_query_locators(sf)

    rest = list(make_sf_connector().read_pages(cursor=first.cursor, full=False))

    seen = [r.external_id for r in first.records] + _ids(rest)
    assert set(seen) == edited
    # Only accounts saved in the same second as the last one seen come twice.
    assert len(seen) - len(edited) <= 300


def test_a_full_read_asked_for_mid_incremental_starts_over(
    sf_connector: SalesforceConnector, sf: Salesforce
) -> None:
    mid_read = {
        "phase": "changed",
        "next_records_url": "/services/data/v59.0/queryAll/01g5g0000M7zzzzAAA-2000",
        "since": datetime.now(UTC).isoformat(),
        "started_at": datetime.now(UTC).isoformat(),
        "max_modified": None,
    }

    pages = list(sf_connector.read_pages(cursor=mid_read, full=True))

    assert sorted(_ids(pages)) == sorted(_raw_accounts(sf))


def test_read_by_ids_returns_current_state_in_order_with_deleted_ones_archived(
    sf_connector: SalesforceConnector, sf: Salesforce, sf_admin: SandboxAdmin
) -> None:
    ids = sorted(_raw_accounts(sf))[:4]
    sf_admin.post("delete", {"ids": [ids[1]]})
    sf_admin.post("edits", {"ids": [ids[2]], "fields": {"Name": "Renamed Inc"}})
    unknown = "001000000000000AAA"
    wanted = [ids[3], ids[2], unknown, ids[1][:15], "not-an-id", ids[0]]

    records = sf_connector.read_by_ids(wanted)

    assert [r.external_id for r in records] == [ids[3], ids[2], ids[1], ids[0]]
    assert [r.archived for r in records] == [False, False, True, False]
    assert records[1].fields["name"] == "Renamed Inc"


def test_read_by_ids_asks_in_chunks_of_200(
    sf_admin: SandboxAdmin, sf_connector: SalesforceConnector, sf: Salesforce
) -> None:
    sf_admin.reset(seed=2, companies=450, deals_per_company=0)
    ids = sorted(_raw_accounts(sf))

    records = sf_connector.read_by_ids(ids)

    assert [r.external_id for r in records] == ids
    assert sf_admin.stats()["calls"]["GET /services/data/v{version}/queryAll"] == 1 + 3


def test_mapped_fields_the_org_lacks_read_as_empty_instead_of_failing_the_read(
    sf_admin: SandboxAdmin, sf_connector: SalesforceConnector
) -> None:
    sf_admin.post("fields", {"remove": ["Funding_Stage__c", "Has_Inhouse_SEO__c"]})

    records = _records(list(sf_connector.read_pages(cursor=None, full=True)))

    assert len(records) == 50
    assert all(r.fields["funding_stage"] is None for r in records)
    assert all("Has_Inhouse_SEO__c" not in r.fields["attributes"] for r in records)
    assert any(r.fields["nps"] is not None for r in records)


@pytest.mark.parametrize("full", [True, False])
def test_every_read_of_an_empty_org_ends_with_one_empty_page_carrying_the_resting_cursor(
    sf_admin: SandboxAdmin, sf_connector: SalesforceConnector, full: bool
) -> None:
    sf_admin.reset(seed=1, companies=0)
    before = datetime.now(UTC)

    pages = list(sf_connector.read_pages(cursor={"modified_since": before.isoformat()}, full=full))

    assert len(pages) == 1
    assert pages[0].records == []
    assert datetime.fromisoformat(pages[0].cursor["modified_since"]) >= before.replace(
        microsecond=0
    )
