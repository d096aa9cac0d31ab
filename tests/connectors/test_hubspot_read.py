"""Reading companies from HubSpot: mapping, full and incremental reads, cursors, reads by id."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hubspot import HubSpot

from connectors.base import AccountRecord, CanonicalAccount, FatalError, Page
from connectors.hubspot import HubSpotConnector
from connectors.sandbox.common.admin_client import SandboxAdmin

RAW_PROPERTIES = [
    "name",
    "domain",
    "industry",
    "numberofemployees",
    "annualrevenue",
    "country",
    "web_technologies",
    "lifecyclestage",
    "hs_num_open_deals",
    "has_inhouse_seo",
    "is_competitor",
    "founded_year",
    "hs_lastmodifieddate",
]


def _raw_companies(client: HubSpot, *, archived: bool = False) -> dict[str, dict[str, Any]]:
    """What HubSpot holds, as its wire strings, read with the official client alone."""
    rows: dict[str, dict[str, Any]] = {}
    after = None
    while True:
        page = client.crm.companies.basic_api.get_page(
            limit=100, after=after, properties=RAW_PROPERTIES, archived=archived
        )
        rows.update({r.id: r.properties for r in page.results})
        if page.paging is None:
            return rows
        after = page.paging.next.after


def _records(pages: list[Page]) -> list[AccountRecord]:
    return [record for page in pages for record in page.records]


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_full_read_maps_every_company_to_typed_canonical_fields(
    connector: HubSpotConnector, hubspot: HubSpot
) -> None:
    raw = _raw_companies(hubspot)

    records = {
        r.external_id: r for r in _records(list(connector.read_pages(cursor=None, full=True)))
    }

    assert records.keys() == raw.keys()
    for external_id, record in records.items():
        wire = raw[external_id]
        fields = record.fields
        assert fields["name"] == wire["name"]
        assert fields["employees"] == (
            int(wire["numberofemployees"]) if wire["numberofemployees"] else None
        )
        assert fields["open_deals"] == int(wire["hs_num_open_deals"])
        # No stage at all is unknown, not "not a customer".
        stage = wire["lifecyclestage"]
        assert fields["is_customer"] == (stage == "customer" if stage else None)
        assert record.crm_updated_at == datetime.fromisoformat(wire["hs_lastmodifieddate"])
        assert record.archived is False
        assert not any(key.startswith("icp_") for key in fields["attributes"])
        # The pipeline builds its canonical account straight from a record.
        CanonicalAccount(
            external_id=record.external_id,
            archived=record.archived,
            crm_updated_at=record.crm_updated_at,
            **fields,
        )


def test_enumeration_codes_become_their_labels_so_the_example_icp_matches(
    connector: HubSpotConnector, hubspot: HubSpot
) -> None:
    raw = _raw_companies(hubspot)
    records = {
        r.external_id: r for r in _records(list(connector.read_pages(cursor=None, full=True)))
    }

    online_media = [i for i, wire in raw.items() if wire["industry"] == "ONLINE_MEDIA"]
    aem = [
        i
        for i, wire in raw.items()
        if "adobe_experience_manager" in (wire["web_technologies"] or "")
    ]
    stages = {wire["lifecyclestage"] for wire in raw.values()}

    assert online_media and aem
    assert {records[i].fields["industry"] for i in online_media} == {"Online Media"}
    for i in aem:
        tech = records[i].fields["tech_stack"]
        assert "Adobe Experience Manager" in tech
        assert len(tech) == len(raw[i]["web_technologies"].split(";"))
    assert "marketingqualifiedlead" in stages
    assert "Marketing Qualified Lead" in {r.fields["lifecycle_stage"] for r in records.values()}


def test_countries_numbers_and_extra_properties_are_normalised(
    connector: HubSpotConnector, hubspot: HubSpot
) -> None:
    raw = _raw_companies(hubspot)
    records = {
        r.external_id: r for r in _records(list(connector.read_pages(cursor=None, full=True)))
    }

    spellings = {wire["country"] for wire in raw.values()}
    us = [
        i
        for i, wire in raw.items()
        if wire["country"] in {"United States", "USA", "us", "United States of America"}
    ]
    with_revenue = next(i for i, wire in raw.items() if wire["annualrevenue"])
    seo = {i: wire["has_inhouse_seo"] for i, wire in raw.items() if wire["has_inhouse_seo"]}

    assert len(spellings) > len({r.fields["country"] for r in records.values()})
    assert us and {records[i].fields["country"] for i in us} == {"US"}
    assert all(len(r.fields["country"]) == 2 for r in records.values() if r.fields["country"])
    assert records[with_revenue].fields["annual_revenue"] == float(
        raw[with_revenue]["annualrevenue"]
    )
    assert isinstance(records[with_revenue].fields["employees"], int)
    assert seo and all(
        records[i].fields["attributes"]["has_inhouse_seo"] is (value == "true")
        for i, value in seo.items()
    )
    assert any(r.fields["funding_stage"] for r in records.values())


def test_a_value_that_does_not_parse_becomes_none_without_failing_the_record(
    hubspot_admin: SandboxAdmin, connector: HubSpotConnector, hubspot: HubSpot
) -> None:
    victim = next(iter(_raw_companies(hubspot)))
    hubspot_admin.edits(ids=[victim], properties={"founded_year": "circa 1990", "name": "Odd Co"})

    [record] = connector.read_by_ids([victim])

    assert record.fields["founded_year"] is None
    assert record.fields["name"] == "Odd Co"


def test_archived_companies_come_back_archived_after_the_live_ones(
    connector: HubSpotConnector, hubspot: HubSpot
) -> None:
    live = list(_raw_companies(hubspot))
    gone = live[3:6]
    for company_id in gone:
        hubspot.crm.companies.basic_api.archive(company_id)

    records = _records(list(connector.read_pages(cursor=None, full=True)))

    assert [r.external_id for r in records if r.archived] == gone
    assert {r.external_id for r in records if not r.archived} == set(live) - set(gone)
    assert all(r.fields["name"] for r in records if r.archived)


def test_incremental_read_returns_exactly_the_companies_edited_since_the_cursor(
    hubspot_admin: SandboxAdmin, connector: HubSpotConnector
) -> None:
    # Seeded companies were all last modified more than a day ago, beyond any lookback.
    before = datetime.now(UTC)
    edited = {e["id"] for e in hubspot_admin.edits(count=7)["edited"]}

    pages = list(connector.read_pages(cursor={"modified_since": _iso(before)}, full=False))

    assert {r.external_id for r in _records(pages)} == edited
    assert len(_records(pages)) == 7


def test_incremental_read_looks_back_to_catch_changes_near_the_cursor(
    hubspot_admin: SandboxAdmin, make_connector: Callable[..., HubSpotConnector]
) -> None:
    edited = {e["id"] for e in hubspot_admin.edits(count=3)["edited"]}
    a_minute_later = datetime.now(UTC) + timedelta(seconds=60)
    cursor = {"modified_since": _iso(a_minute_later)}

    with_lookback = make_connector(settings={"lookback_seconds": 300})
    without = make_connector(settings={"lookback_seconds": 0})

    assert {
        r.external_id for r in _records(list(with_lookback.read_pages(cursor=cursor, full=False)))
    } == edited
    assert _records(list(without.read_pages(cursor=cursor, full=False))) == []


def test_the_last_cursor_is_the_latest_modification_seen(
    hubspot_admin: SandboxAdmin, connector: HubSpotConnector
) -> None:
    before = datetime.now(UTC)
    hubspot_admin.edits(count=4)

    pages = list(connector.read_pages(cursor={"modified_since": _iso(before)}, full=False))

    latest = max(r.crm_updated_at for r in _records(pages) if r.crm_updated_at)
    assert pages[-1].cursor.keys() == {"modified_since"}
    assert datetime.fromisoformat(pages[-1].cursor["modified_since"]) == latest


def test_the_last_cursor_is_the_start_of_the_read_when_nothing_changed(
    make_connector: Callable[..., HubSpotConnector],
) -> None:
    connector = make_connector(settings={"lookback_seconds": 0})
    started = datetime.now(UTC)

    quiet = list(connector.read_pages(cursor={"modified_since": _iso(started)}, full=False))

    resting = datetime.fromisoformat(quiet[-1].cursor["modified_since"])
    assert _records(quiet) == []
    assert started - timedelta(milliseconds=1) <= resting <= datetime.now(UTC)


def test_a_full_read_resumes_after_the_page_it_was_interrupted_at(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot, make_connector: Callable[..., HubSpotConnector]
) -> None:
    hubspot_admin.reset(seed=3, companies=250)
    archived = list(_raw_companies(hubspot))[-2:]
    for company_id in archived:
        hubspot.crm.companies.basic_api.archive(company_id)
    first = make_connector()
    pages = first.read_pages(cursor=None, full=True)
    done = [next(pages), next(pages)]

    rest = list(make_connector().read_pages(cursor=done[-1].cursor, full=True))

    ids = [r.external_id for r in _records(done + rest)]
    assert len(ids) == len(set(ids)) == 250
    assert {r.external_id for r in _records(rest) if r.archived} == set(archived)
    assert "modified_since" in rest[-1].cursor


def test_an_incremental_read_resumes_after_the_page_it_was_interrupted_at(
    hubspot_admin: SandboxAdmin, connector: HubSpotConnector
) -> None:
    hubspot_admin.reset(seed=3, companies=1_000, deals_per_company=0, same_timestamp=True)
    cursor = {"modified_since": "2000-01-01T00:00:00Z"}
    pages = connector.read_pages(cursor=cursor, full=False)
    done = [next(pages) for _ in range(2)]

    rest = list(connector.read_pages(cursor=done[-1].cursor, full=False))

    ids = [r.external_id for r in _records(done + rest)]
    assert [len(p.records) for p in done + rest] == [200] * 5
    assert len(ids) == len(set(ids)) == 1_000
    assert rest[-1].cursor.keys() == {"modified_since"}


def test_read_by_ids_returns_known_companies_in_order_and_leaves_out_unknown_ones(
    connector: HubSpotConnector, hubspot: HubSpot
) -> None:
    ids = list(_raw_companies(hubspot))
    hubspot.crm.companies.basic_api.archive(ids[1])
    wanted = [ids[4], "999", ids[1], ids[0], ids[4]]

    records = connector.read_by_ids(wanted)

    assert [r.external_id for r in records] == [ids[4], ids[1], ids[0]]
    assert [r.archived for r in records] == [False, True, False]
    assert records[0].fields["name"]


def test_read_by_ids_batches_a_hundred_ids_per_call(
    hubspot_admin: SandboxAdmin, connector: HubSpotConnector, hubspot: HubSpot
) -> None:
    hubspot_admin.reset(seed=5, companies=230)
    ids = list(_raw_companies(hubspot))
    calls_before = connector.api_calls

    records = connector.read_by_ids(ids)

    assert [r.external_id for r in records] == ids
    # one properties read for labels, three batch reads; no archived lookup as none is missing
    assert connector.api_calls - calls_before == 4


def test_field_map_cannot_read_icp_properties_or_unknown_fields(
    hubspot_admin: SandboxAdmin,
) -> None:
    with pytest.raises(FatalError, match="icp_fit_score"):
        HubSpotConnector(access_token="t", settings={"extra_properties": ["icp_fit_score"]})
    with pytest.raises(FatalError, match="icp_tier"):
        HubSpotConnector(access_token="t", settings={"field_map": {"industry": "icp_tier"}})
    with pytest.raises(FatalError, match="not a mappable canonical field"):
        HubSpotConnector(access_token="t", settings={"field_map": {"revenue": "annualrevenue"}})


def test_field_map_overrides_and_unmaps_default_sources(
    make_connector: Callable[..., HubSpotConnector], hubspot: HubSpot
) -> None:
    raw = _raw_companies(hubspot)
    connector = make_connector(settings={"field_map": {"name": "domain", "city": None}})

    records = _records(list(connector.read_pages(cursor=None, full=True)))

    assert all(r.fields["name"] == raw[r.external_id]["domain"] for r in records)
    assert all("city" not in r.fields for r in records)
