"""Reading deals and contacts from HubSpot: mapping, outcomes from the pipelines, company
associations, full and incremental reads, reads by id, errors and the calls they cost."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import (
    AssociationSpec,
    PublicAssociationsForObject,
    PublicObjectId,
    SimplePublicObjectInputForCreate,
)

from connectors.base import FatalError, OutcomeReader, Page, iso_utc
from connectors.hubspot import HubSpotConnector
from connectors.hubspot.outcomes import DealStages, associated_ids, contact_record, deal_record
from connectors.sandbox.common.admin_client import SandboxAdmin

COMPANIES, DEALS_PER_COMPANY, CONTACTS_PER_COMPANY = 150, 2, 3
ENTERPRISE = "14598210"
CONTACT_TO_COMPANY = 279  # HubSpot's unlabeled contact → company association type
SINCE_EVER = {"modified_since": "2000-01-01T00:00:00Z"}


@pytest.fixture
def hubspot_reset() -> dict[str, Any]:
    return {
        "seed": 11,
        "companies": COMPANIES,
        "deals_per_company": DEALS_PER_COMPANY,
        "contacts_per_company": CONTACTS_PER_COMPANY,
    }


def _records(pages: list[Page[Any]]) -> list[Any]:
    return [record for page in pages for record in page.records]


def _raw(client: HubSpot, object_type: str, properties: list[str]) -> dict[str, Any]:
    """What HubSpot holds, read with the official client alone: id → (properties, companies)."""
    api = getattr(client.crm, object_type).basic_api
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


def _spent(admin: SandboxAdmin, before: dict[str, int]) -> dict[str, int]:
    """The calls made since ``before`` (a ``stats()["calls"]``), per endpoint."""
    calls: dict[str, int] = admin.stats()["calls"]
    return {k: n - before.get(k, 0) for k, n in calls.items() if n != before.get(k, 0)}


def _new_contact(client: HubSpot, company_ids: list[str], **properties: str) -> str:
    created = client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties=properties,
            associations=[
                PublicAssociationsForObject(
                    to=PublicObjectId(id=company_id),
                    types=[
                        AssociationSpec(
                            association_category="HUBSPOT_DEFINED",
                            association_type_id=CONTACT_TO_COMPANY,
                        )
                    ],
                )
                for company_id in company_ids
            ],
        )
    )
    return str(created.id)


def test_the_hubspot_connector_is_an_outcome_reader(connector: HubSpotConnector) -> None:
    assert isinstance(connector, OutcomeReader)


def test_full_deal_read_takes_won_and_lost_from_the_pipelines_and_links_each_deal_to_its_company(
    connector: HubSpotConnector, hubspot: HubSpot, hubspot_admin: SandboxAdmin
) -> None:
    raw = _raw(
        hubspot,
        "deals",
        ["dealname", "amount", "dealstage", "pipeline", "hs_is_closed", "hs_is_closed_won"],
    )
    before = hubspot_admin.stats()["calls"]

    pages = list(connector.read_deal_pages(cursor=None, full=True))

    deals = {d.external_id: d for d in _records(pages)}
    assert len(deals) == COMPANIES * DEALS_PER_COMPANY == len(raw)
    for external_id, deal in deals.items():
        wire, companies = raw[external_id]
        assert deal.account_external_ids == companies and len(companies) == 1
        assert (deal.name, deal.pipeline, deal.stage) == (
            wire["dealname"],
            wire["pipeline"],
            wire["dealstage"],
        )
        assert deal.amount == float(wire["amount"])
        # HubSpot's own calculated flags agree with what the stage metadata says.
        assert deal.is_closed == (wire["hs_is_closed"] == "true")
        assert deal.is_won == (wire["hs_is_closed_won"] == "true")
        assert deal.stage_known and not deal.archived
        assert deal.created_at is not None and deal.crm_updated_at is not None
        assert (deal.closed_at is not None) == deal.is_closed
    outcomes = {(d.is_closed, d.is_won) for d in deals.values()}
    assert outcomes == {(False, False), (True, False), (True, True)}
    assert pages[-1].cursor.keys() == {"modified_since"}
    # Pages of 100 with their companies inline, the (empty) archived list, the pipelines once.
    list_pages = math.ceil(len(deals) / 100)
    assert _spent(hubspot_admin, before) == {
        "GET /crm/v3/objects/deals": list_pages + 1,
        "GET /crm/v3/pipelines/deals": 1,
    }


def test_the_custom_pipelines_numeric_stages_resolve_to_won_and_lost(
    connector: HubSpotConnector,
) -> None:
    deals = _records(list(connector.read_deal_pages(cursor=None, full=True)))

    enterprise = {d.stage: (d.is_closed, d.is_won) for d in deals if d.pipeline == ENTERPRISE}
    assert enterprise["14598216"] == (True, True)  # "Closed Won"
    assert enterprise["14598217"] == (True, False)  # "Closed Lost"
    assert all(
        outcome == (False, False)
        for stage, outcome in enterprise.items()
        if stage not in ("14598216", "14598217")
    )


def test_a_deal_in_a_stage_the_pipelines_no_longer_list_is_open_with_its_raw_stage() -> None:
    stages = DealStages.from_api(
        [
            {
                "id": "default",
                "stages": [
                    {"id": "closedwon", "metadata": {"isClosed": "true", "probability": "1.0"}},
                    {"id": "closedlost", "metadata": {"isClosed": "true", "probability": "0.0"}},
                    {"id": "open1", "metadata": {"isClosed": "false", "probability": "0.2"}},
                ],
            }
        ]
    )
    item = {"id": "7", "properties": {"pipeline": "default", "dealstage": "deleted_stage"}}

    deal = deal_record(item, ["5"], stages)

    assert (deal.stage, deal.stage_known, deal.is_closed, deal.is_won) == (
        "deleted_stage",
        False,
        False,
        False,
    )
    won = deal_record({"id": "8", "properties": {"dealstage": "closedwon"}}, [], stages)
    assert (won.stage_known, won.is_closed, won.is_won) == (True, True, True)


def test_full_contact_read_maps_names_email_domains_titles_and_buying_roles_with_companies(
    connector: HubSpotConnector, hubspot: HubSpot, hubspot_admin: SandboxAdmin
) -> None:
    raw = _raw(
        hubspot, "contacts", ["firstname", "lastname", "email", "jobtitle", "hs_buying_role"]
    )
    before = hubspot_admin.stats()["calls"]

    pages = list(connector.read_contact_pages(cursor=None, full=True))

    contacts = {c.external_id: c for c in _records(pages)}
    assert len(contacts) == COMPANIES * CONTACTS_PER_COMPANY == len(raw)
    for external_id, contact in contacts.items():
        wire, companies = raw[external_id]
        assert contact.account_external_ids == companies and len(companies) == 1
        assert contact.name == f"{wire['firstname']} {wire['lastname']}"
        assert contact.email_domain == wire["email"].rsplit("@", 1)[1].lower()
        assert contact.title == wire["jobtitle"]
        assert contact.buying_role == wire["hs_buying_role"]
        assert contact.department is None  # the portal has no department property
        assert contact.crm_updated_at is not None and not contact.archived
    assert any(c.buying_role for c in contacts.values())
    assert any(c.title for c in contacts.values())
    assert _spent(hubspot_admin, before) == {
        "GET /crm/v3/objects/contacts": math.ceil(len(contacts) / 100) + 1
    }


def test_a_contact_linked_to_two_companies_lists_both_in_full_incremental_and_by_id_reads(
    connector: HubSpotConnector, hubspot: HubSpot
) -> None:
    contact_id = _new_contact(
        hubspot,
        ["5000000001", "5000000002"],
        firstname="Ada",
        lastname="Byron",
        email="ada@Example.ORG",
        jobtitle="Chief Marketing Officer",
        hs_buying_role="DECISION_MAKER;BUDGET_HOLDER",
    )

    full = {
        c.external_id: c
        for c in _records(list(connector.read_contact_pages(cursor=None, full=True)))
    }
    changed = {
        c.external_id: c
        for c in _records(list(connector.read_contact_pages(cursor=SINCE_EVER, full=False)))
    }
    [by_id] = connector.read_contacts_by_ids([contact_id])

    for contact in (full[contact_id], changed[contact_id], by_id):
        assert sorted(contact.account_external_ids) == ["5000000001", "5000000002"]
        assert contact.name == "Ada Byron"
        assert contact.email_domain == "example.org"
        assert contact.title == "Chief Marketing Officer"
        # As HubSpot gives it: option codes, ';'-separated.
        assert contact.buying_role == "DECISION_MAKER;BUDGET_HOLDER"


def test_incremental_deal_read_picks_up_a_deal_moved_to_closed_won_with_one_search_and_one_association_read(
    connector: HubSpotConnector,
    make_connector: Callable[..., HubSpotConnector],
    hubspot_admin: SandboxAdmin,
) -> None:
    pages = list(connector.read_deal_pages(cursor=None, full=True))
    deals = {d.external_id: d for d in _records(pages)}
    open_deal = next(d for d in deals.values() if not d.is_closed and d.pipeline == "default")
    hubspot_admin.edits(
        object_type="deals", ids=[open_deal.external_id], properties={"dealstage": "closedwon"}
    )
    before = hubspot_admin.stats()["calls"]

    fresh = make_connector(settings={"lookback_seconds": 0})
    changed = list(fresh.read_deal_pages(cursor=pages[-1].cursor, full=False))

    [moved] = [d for d in _records(changed) if d.external_id == open_deal.external_id]
    assert (moved.is_closed, moved.is_won, moved.stage) == (True, True, "closedwon")
    assert moved.account_external_ids == open_deal.account_external_ids
    assert moved.closed_at is not None
    assert moved.crm_updated_at is not None and open_deal.crm_updated_at is not None
    assert moved.crm_updated_at > open_deal.crm_updated_at
    assert _spent(hubspot_admin, before) == {
        "GET /crm/v3/pipelines/deals": 1,
        "POST /crm/v3/objects/deals/search": 1,
        "POST /crm/v4/associations/deals/companies/batch/read": 1,
    }
    # The next incremental read starts at the latest change seen.
    assert changed[-1].cursor == {"modified_since": iso_utc(moved.crm_updated_at)}


def test_incremental_contact_read_picks_up_a_new_contact_with_its_company(
    connector: HubSpotConnector, hubspot: HubSpot
) -> None:
    pages = list(connector.read_contact_pages(cursor=None, full=True))
    contact_id = _new_contact(
        hubspot, ["5000000003"], firstname="Grace", lastname="Hopper", jobtitle="VP Engineering"
    )

    changed = _records(list(connector.read_contact_pages(cursor=pages[-1].cursor, full=False)))

    [new] = [c for c in changed if c.external_id == contact_id]
    assert new.account_external_ids == ["5000000003"]
    assert (new.name, new.title, new.email_domain) == ("Grace Hopper", "VP Engineering", None)


def test_incremental_reads_use_search_on_each_objects_own_modification_date(
    connector: HubSpotConnector, hubspot_admin: SandboxAdmin
) -> None:
    pages = list(connector.read_contact_pages(cursor=None, full=True))
    contacts = _records(pages)
    target = contacts[17]
    hubspot_admin.edits(
        object_type="contacts", ids=[target.external_id], properties={"jobtitle": "Head of SEO"}
    )

    changed = _records(list(connector.read_contact_pages(cursor=pages[-1].cursor, full=False)))

    assert target.external_id in {c.external_id for c in changed}
    # Only what changed within the lookback comes back, not every contact.
    assert len(changed) < len(contacts)


def test_full_reads_return_deleted_deals_and_contacts_archived(
    connector: HubSpotConnector, hubspot: HubSpot
) -> None:
    hubspot.crm.deals.basic_api.archive("9000000004")
    hubspot.crm.contacts.basic_api.archive("1000000005")

    deals = {
        d.external_id: d for d in _records(list(connector.read_deal_pages(cursor=None, full=True)))
    }
    contacts = {
        c.external_id: c
        for c in _records(list(connector.read_contact_pages(cursor=None, full=True)))
    }

    assert deals["9000000004"].archived and not deals["9000000003"].archived
    assert contacts["1000000005"].archived and not contacts["1000000004"].archived
    assert len(deals) == COMPANIES * DEALS_PER_COMPANY


def test_reads_by_id_return_live_and_archived_records_with_companies_and_leave_unknown_ids_out(
    connector: HubSpotConnector, hubspot: HubSpot, hubspot_admin: SandboxAdmin
) -> None:
    hubspot.crm.deals.basic_api.archive("9000000002")
    ids = [f"90000000{n:02d}" for n in range(1, 100)] + ["9000000002", "123", "9000000150"]
    before = hubspot_admin.stats()["calls"]

    deals = connector.read_deals_by_ids(ids)
    contacts = connector.read_contacts_by_ids(["1000000002", "42", "1000000001"])

    assert [d.external_id for d in deals] == [i for i in dict.fromkeys(ids) if i != "123"]
    by_id = {d.external_id: d for d in deals}
    assert by_id["9000000002"].archived and not by_id["9000000001"].archived
    # HubSpot keeps no associations for a deleted record: only the live ones have companies.
    assert all(len(d.account_external_ids) == 1 for d in deals if not d.archived)
    assert [c.external_id for c in contacts] == ["1000000002", "1000000001"]
    assert all(c.account_external_ids for c in contacts)
    assert _spent(hubspot_admin, before) == {
        "GET /crm/v3/pipelines/deals": 1,
        "POST /crm/v3/objects/deals/batch/read": 2 + 1,  # 101 live ids, then 2 not live
        "POST /crm/v4/associations/deals/companies/batch/read": 1,
        "POST /crm/v3/objects/contacts/batch/read": 2,
        "POST /crm/v4/associations/contacts/companies/batch/read": 1,
    }


def test_every_string_read_from_a_deal_or_contact_is_stripped_of_nul(
    connector: HubSpotConnector, hubspot_admin: SandboxAdmin
) -> None:
    hubspot_admin.edits(
        object_type="contacts",
        ids=["1000000001"],
        properties={"jobtitle": "VP\x00 Sales", "firstname": "Jo\x00", "email": "jo@ac\x00me.com"},
    )
    hubspot_admin.edits(
        object_type="deals", ids=["9000000001"], properties={"dealname": "Big\x00 deal"}
    )

    [contact] = connector.read_contacts_by_ids(["1000000001"])
    [deal] = connector.read_deals_by_ids(["9000000001"])

    assert contact.title == "VP Sales" and contact.email_domain == "acme.com"
    assert contact.name is not None and "\x00" not in contact.name
    assert deal.name == "Big deal"


def test_a_portal_department_property_is_read_when_configured() -> None:
    item = {"id": "1", "properties": {"department": "Growth", "email": "x@y.io", "team": "Ops"}}

    assert contact_record(item, [], department_property="department").department == "Growth"
    assert contact_record(item, [], department_property="team").department == "Ops"
    assert contact_record(item, [], department_property=None).department is None


@pytest.mark.parametrize(
    ("read", "scope"),
    [
        (lambda c: list(c.read_deal_pages(cursor=None, full=True)), "crm.objects.deals.read"),
        (
            lambda c: list(c.read_contact_pages(cursor=SINCE_EVER, full=False)),
            "crm.objects.contacts.read",
        ),
        (lambda c: c.read_deals_by_ids(["9000000001"]), "crm.objects.deals.read"),
        (lambda c: c.read_contacts_by_ids(["1000000001"]), "crm.objects.contacts.read"),
    ],
)
def test_a_token_without_the_read_scope_is_fatal_and_the_error_names_the_scope(
    connector: HubSpotConnector,
    hubspot_admin: SandboxAdmin,
    read: Callable[[HubSpotConnector], Any],
    scope: str,
) -> None:
    hubspot_admin.faults(error_rate=1.0, status_codes=[403])

    with pytest.raises(FatalError, match=scope):
        read(connector)

    assert connector.api_calls == 1  # not retried


def test_outcome_reads_ride_out_429s_and_5xx(
    make_connector: Callable[..., HubSpotConnector],
    hubspot_admin: SandboxAdmin,
    sleeps: list[float],
) -> None:
    expected_deals = {
        d.external_id: d
        for d in _records(list(make_connector().read_deal_pages(cursor=None, full=True)))
    }
    hubspot_admin.faults(error_rate=0.3, status_codes=[429, 500, 502, 503, 504], seed=5)
    connector = make_connector(max_attempts=12)

    deals = _records(list(connector.read_deal_pages(cursor=SINCE_EVER, full=False)))
    contacts = _records(list(connector.read_contact_pages(cursor=None, full=True)))
    by_id = connector.read_contacts_by_ids([c.external_id for c in contacts[:150]])

    assert {d.external_id: d.account_external_ids for d in deals} == {
        i: d.account_external_ids for i, d in expected_deals.items()
    }
    assert {(d.is_closed, d.is_won) for d in deals} == {
        (d.is_closed, d.is_won) for d in expected_deals.values()
    }
    assert len(contacts) == COMPANIES * CONTACTS_PER_COMPANY
    assert all(c.account_external_ids for c in by_id) and len(by_id) == 150
    assert sleeps  # it did have to retry
    assert hubspot_admin.stats()["rate_limited"] > 0


def test_full_and_incremental_reads_of_2000_companies_deals_and_contacts_cost_the_minimum_calls(
    make_connector: Callable[..., HubSpotConnector], hubspot_admin: SandboxAdmin
) -> None:
    hubspot_admin.reset(seed=3, companies=2_000, deals_per_company=2, contacts_per_company=3)
    connector = make_connector()
    before = hubspot_admin.stats()["calls"]

    deals = _records(list(connector.read_deal_pages(cursor=None, full=True)))
    contacts = _records(list(connector.read_contact_pages(cursor=None, full=True)))

    assert (len(deals), len(contacts)) == (4_000, 6_000)
    # One list call per 100, one for the (empty) archived list; the pipelines once.
    assert _spent(hubspot_admin, before) == {
        "GET /crm/v3/objects/deals": 40 + 1,
        "GET /crm/v3/pipelines/deals": 1,
        "GET /crm/v3/objects/contacts": 60 + 1,
    }
    before = hubspot_admin.stats()["calls"]

    # Everything changed: one search per 200 and one association batch read per search page.
    changed_deals = _records(list(connector.read_deal_pages(cursor=SINCE_EVER, full=False)))
    changed_contacts = _records(list(connector.read_contact_pages(cursor=SINCE_EVER, full=False)))

    assert (len(changed_deals), len(changed_contacts)) == (4_000, 6_000)
    assert all(len(r.account_external_ids) == 1 for r in changed_deals + changed_contacts)
    assert _spent(hubspot_admin, before) == {
        "POST /crm/v3/objects/deals/search": 20,
        "POST /crm/v4/associations/deals/companies/batch/read": 20,
        "POST /crm/v3/objects/contacts/search": 30,
        "POST /crm/v4/associations/contacts/companies/batch/read": 30,
    }


@pytest.mark.slow
@pytest.mark.parametrize("object_type", ["deals", "contacts"])
def test_incremental_outcome_reads_lose_nothing_at_the_10k_search_cap_even_when_interrupted(
    make_connector: Callable[..., HubSpotConnector], hubspot_admin: SandboxAdmin, object_type: str
) -> None:
    # 10,002 deals and 10,002 contacts, every one modified at the same instant.
    hubspot_admin.reset(
        seed=1, companies=5_001, deals_per_company=2, contacts_per_company=2, same_timestamp=True
    )
    connector = make_connector()
    read = connector.read_deal_pages if object_type == "deals" else connector.read_contact_pages
    pages = read(cursor=SINCE_EVER, full=False)
    # Stop past the point where offset paging would hit the cap, and resume from the cursor.
    done = [next(pages) for _ in range(30)]

    rest = list(read(cursor=done[-1].cursor, full=False))

    records = _records(done + rest)
    assert len(records) == len({r.external_id for r in records}) == 10_002
    assert all(len(r.account_external_ids) == 1 for r in records)
    calls = hubspot_admin.stats()["calls"]
    assert calls[f"POST /crm/v3/objects/{object_type}/search"] == 51
    assert calls[f"POST /crm/v4/associations/{object_type}/companies/batch/read"] == 51
    assert rest[-1].cursor.keys() == {"modified_since"}


def test_an_interrupted_full_read_resumes_after_its_last_stored_page(
    connector: HubSpotConnector, make_connector: Callable[..., HubSpotConnector]
) -> None:
    pages = connector.read_contact_pages(cursor=None, full=True)
    done = [next(pages), next(pages)]

    # A retried job: a new connector, and a full read asked for again, resumes the one under way.
    rest = list(make_connector().read_contact_pages(cursor=done[-1].cursor, full=True))

    ids = [c.external_id for c in _records(done + rest)]
    assert len(ids) == len(set(ids)) == COMPANIES * CONTACTS_PER_COMPANY
    assert rest[-1].cursor.keys() == {"modified_since"}


def test_inline_associations_cut_short_are_read_in_full_from_the_associations_api() -> None:
    listed = {"results": [{"id": "5", "type": "deal_to_company"}, {"id": "5", "type": "x"}]}
    cut = {**listed, "paging": {"next": {"after": "abc"}}}

    assert associated_ids({"id": "1", "associations": {"companies": listed}}, "companies") == ["5"]
    assert associated_ids({"id": "1"}, "companies") == []
    # None: the connector asks the v4 batch read for this record's companies instead.
    assert associated_ids({"id": "1", "associations": {"companies": cut}}, "companies") is None
