"""Reading Opportunities and Contacts from the Salesforce sandbox over https through
simple-salesforce: deals and contacts mapped, full and incremental reads, deletions, cursors,
expired query locators, reads by id, API calls, retries and refused access."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce

from connectors.base import (
    ContactRecord,
    DealRecord,
    FatalError,
    OutcomeReader,
    Page,
    RetriableError,
)
from connectors.salesforce import SalesforceConnector
from connectors.salesforce.mapping import FieldDefinitions, FieldInfo
from connectors.salesforce.outcomes import contact_columns, opportunity_columns
from connectors.sandbox.common.admin_client import SandboxAdmin

QUERY = "GET /services/data/v{version}/queryAll"
MORE = "GET /services/data/v{version}/queryAll/{locator}"
DESCRIBE = "GET /services/data/v{version}/sobjects/{sobject}/describe"
OPPORTUNITY_FIELDS = (
    "Id, IsDeleted, AccountId, Name, StageName, IsClosed, IsWon, Amount, CreatedDate, CloseDate, "
    "SystemModstamp"
)
CONTACT_FIELDS = "Id, IsDeleted, AccountId, Name, Email, Title, Department, SystemModstamp"


@pytest.fixture
def salesforce_reset() -> dict[str, Any]:
    """Fifty accounts with two opportunities and three contacts each."""
    return {
        "daily_max": 15000,
        "seed": 7,
        "accounts": 50,
        "opportunities_per_account": 2,
        "contacts_per_account": 3,
    }


def _raw(client: Salesforce, soql: str) -> dict[str, dict[str, Any]]:
    """What the org holds, deleted rows included, read with simple-salesforce alone."""
    return {row["Id"]: row for row in client.query_all(soql, include_deleted=True)["records"]}


def _raw_opportunities(client: Salesforce) -> dict[str, dict[str, Any]]:
    return _raw(client, f"SELECT {OPPORTUNITY_FIELDS} FROM Opportunity")


def _raw_contacts(client: Salesforce) -> dict[str, dict[str, Any]]:
    return _raw(client, f"SELECT {CONTACT_FIELDS} FROM Contact")


def _raw_roles(client: Salesforce) -> list[dict[str, Any]]:
    soql = "SELECT Id, OpportunityId, ContactId, Role, IsPrimary, CreatedDate FROM OpportunityContactRole"
    return list(_raw(client, soql).values())


def _records(pages: Sequence[Page[Any]]) -> list[Any]:
    return [record for page in pages for record in page.records]


def _deals(
    connector: SalesforceConnector, cursor: dict[str, Any] | None = None
) -> list[DealRecord]:
    return _records(list(connector.read_deal_pages(cursor=cursor, full=cursor is None)))


def _contacts(
    connector: SalesforceConnector, cursor: dict[str, Any] | None = None
) -> list[ContactRecord]:
    return _records(list(connector.read_contact_pages(cursor=cursor, full=cursor is None)))


def _evict_query_locators(client: Salesforce) -> None:
    """Open ten new query cursors: a user keeps ten, so every older locator is released."""
    for _ in range(10):
        client.query("SELECT Id FROM Account", headers={"Sforce-Query-Options": "batchSize=200"})


def _calls(admin: SandboxAdmin) -> dict[str, int]:
    return dict(admin.stats()["calls"])


def _spent(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


def _now() -> dict[str, str]:
    return {"modified_since": datetime.now(UTC).isoformat()}


# -- mapping ------------------------------------------------------------------------------------


def test_the_connector_is_an_outcome_reader(sf_connector: SalesforceConnector) -> None:
    assert isinstance(sf_connector, OutcomeReader)


def test_a_full_read_maps_every_opportunity_won_and_lost_from_is_closed_and_is_won(
    sf_connector: SalesforceConnector, sf: Salesforce
) -> None:
    raw = _raw_opportunities(sf)
    roles: dict[str, dict[str, str | None]] = {}
    for role in _raw_roles(sf):
        roles.setdefault(role["OpportunityId"], {})[role["ContactId"]] = role["Role"]

    deals = {d.external_id: d for d in _deals(sf_connector)}

    assert deals.keys() == raw.keys()
    assert len(deals) == 100
    for external_id, deal in deals.items():
        wire = raw[external_id]
        assert deal.account_external_ids == [wire["AccountId"]]
        assert deal.name == wire["Name"]
        assert deal.stage == wire["StageName"]
        assert (deal.is_closed, deal.is_won) == (wire["IsClosed"], wire["IsWon"])
        assert deal.amount == wire["Amount"]
        assert deal.created_at == datetime.fromisoformat(wire["CreatedDate"])
        assert deal.crm_updated_at == datetime.fromisoformat(wire["SystemModstamp"])
        close_day = datetime.combine(date.fromisoformat(wire["CloseDate"]), time(), tzinfo=UTC)
        assert deal.closed_at == (close_day if wire["IsClosed"] else None)
        assert deal.contact_roles == roles.get(external_id, {})
        assert deal.archived is False
    outcomes = {(d.is_closed, d.is_won) for d in deals.values()}
    assert outcomes == {(True, True), (True, False), (False, False)}
    assert any(len(d.contact_roles) > 1 for d in deals.values())


def test_a_full_read_maps_every_contact_with_its_account_email_domain_and_buying_role(
    sf_connector: SalesforceConnector, sf: Salesforce
) -> None:
    raw = _raw_contacts(sf)
    # The buying role: where the contact is an opportunity's primary contact, that role; else
    # the role it was given most recently.
    best: dict[str, tuple[bool, str]] = {}
    buying_role: dict[str, str] = {}
    for role in _raw_roles(sf):
        if role["Role"] is None:
            continue
        rank = (role["IsPrimary"], role["CreatedDate"])
        if role["ContactId"] not in best or rank > best[role["ContactId"]]:
            best[role["ContactId"]] = rank
            buying_role[role["ContactId"]] = role["Role"]

    contacts = {c.external_id: c for c in _contacts(sf_connector)}

    assert contacts.keys() == raw.keys()
    assert len(contacts) == 150
    for external_id, contact in contacts.items():
        wire = raw[external_id]
        assert contact.account_external_ids == [wire["AccountId"]]
        assert contact.name == wire["Name"]
        assert contact.title == wire["Title"]
        assert contact.department == wire["Department"]
        assert contact.email_domain == wire["Email"].rsplit("@", 1)[1].lower()
        assert contact.buying_role == buying_role.get(external_id)
        assert contact.crm_updated_at == datetime.fromisoformat(wire["SystemModstamp"])
        assert contact.archived is False
    assert sum(c.buying_role is not None for c in contacts.values()) > 50
    assert any(c.buying_role is None for c in contacts.values())


def test_a_deleted_contact_role_is_no_longer_on_its_opportunity_nor_its_contact(
    sf_connector: SalesforceConnector, sf: Salesforce
) -> None:
    roles = _raw_roles(sf)
    per_contact: dict[str, int] = {}
    for row in roles:
        per_contact[row["ContactId"]] = per_contact.get(row["ContactId"], 0) + 1
    role = next(r for r in roles if r["Role"] is not None and per_contact[r["ContactId"]] == 1)
    sf.OpportunityContactRole.delete(role["Id"])

    [deal] = sf_connector.read_deals_by_ids([role["OpportunityId"]])
    [contact] = sf_connector.read_contacts_by_ids([role["ContactId"]])

    assert role["ContactId"] not in deal.contact_roles
    assert contact.buying_role is None


def test_records_without_an_account_carry_no_account_and_nul_characters_are_stripped(
    sf_connector: SalesforceConnector, sf: Salesforce
) -> None:
    contact = sf.Contact.create(
        {"LastName": "Null\x00ified", "Title": "VP\x00 Marketing", "Email": "a@Ex\x00ample.com"}
    )["id"]
    deal = sf.Opportunity.create(
        {"Name": "Orphan\x00 deal", "StageName": "Prospecting", "CloseDate": "2030-01-31"}
    )["id"]

    [read_contact] = sf_connector.read_contacts_by_ids([contact])
    [read_deal] = sf_connector.read_deals_by_ids([deal])

    assert read_contact.account_external_ids == []
    assert (read_contact.name, read_contact.title) == ("Nullified", "VP Marketing")
    assert read_contact.email_domain == "example.com"
    assert read_contact.buying_role is None
    assert read_deal.account_external_ids == []
    assert read_deal.name == "Orphan deal"
    assert (read_deal.is_closed, read_deal.closed_at, read_deal.contact_roles) == (False, None, {})


def test_fields_the_org_lacks_are_left_out_of_the_select_and_roles_need_their_relationship() -> (
    None
):
    info = FieldInfo(type="string")
    without_amount = FieldDefinitions(
        dict.fromkeys(("Id", "IsDeleted", "SystemModstamp", "AccountId", "Name"), info)
    )
    with_roles = FieldDefinitions(
        dict.fromkeys(("Id", "IsDeleted", "SystemModstamp", "Title"), info),
        frozenset({"OpportunityContactRoles"}),
    )

    assert opportunity_columns(without_amount) == [
        "Id",
        "IsDeleted",
        "SystemModstamp",
        "AccountId",
        "Name",
    ]
    columns = contact_columns(with_roles)
    assert columns[:4] == ["Id", "IsDeleted", "SystemModstamp", "Title"]
    assert columns[4].startswith("(SELECT Role FROM OpportunityContactRoles ")
    assert len(columns) == 5


class _HiddenFieldAdapter(HTTPAdapter):
    """Salesforce as a user sees it when field-level security hides Contact.Department: a
    query naming it is refused (INVALID_FIELD), the describe leaves it out."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = requests.utils.unquote(request.url or "").replace("+", " ")
        if "FROM Contact" in url and "Department" in url:
            return _error_response(
                request, 400, "INVALID_FIELD", "No such column 'Department' on entity 'Contact'"
            )
        response = super().send(request, **kwargs)
        if url.endswith("sobjects/Contact/describe"):
            body = response.json()
            body["fields"] = [f for f in body["fields"] if f["name"] != "Department"]
            response._content = json.dumps(body).encode()
        return response


def _error_response(
    request: requests.PreparedRequest, status: int, code: str, message: str
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps([{"message": message, "errorCode": code}]).encode()
    response.headers["Content-Type"] = "application/json"
    response.url = request.url or ""
    response.request = request
    return response


def test_a_field_the_user_cannot_see_is_described_once_then_left_out_and_read_as_empty(
    sf_admin: SandboxAdmin, make_sf_connector: Callable[..., SalesforceConnector], sf: Salesforce
) -> None:
    raw = _raw_contacts(sf)
    session = requests.Session()
    session.mount("https://", _HiddenFieldAdapter())
    connector = make_sf_connector(session=session)
    before = _calls(sf_admin)

    contacts = _contacts(connector)
    again = connector.read_contacts_by_ids(sorted(raw)[:5])

    assert {c.external_id for c in contacts} == raw.keys()
    assert all(c.department is None for c in contacts + again)
    assert {c.external_id: c.title for c in contacts} == {i: r["Title"] for i, r in raw.items()}
    assert any(c.buying_role for c in contacts)
    # The refused query never reached the org; one describe, then the query without it, and
    # the read by id knows already.
    assert _spent(before, _calls(sf_admin)) == {DESCRIBE: 1, QUERY: 2}


# -- full reads, paging and API calls -----------------------------------------------------------


def test_a_full_read_of_deals_and_contacts_costs_one_call_per_2000_records_and_nothing_more(
    sf_admin: SandboxAdmin, sf_connector: SalesforceConnector, sf: Salesforce
) -> None:
    sf_admin.reset(seed=3, accounts=2000, opportunities_per_account=2, contacts_per_account=3)
    before = _calls(sf_admin)

    deal_pages = list(sf_connector.read_deal_pages(cursor=None, full=True))
    after_deals = _calls(sf_admin)
    contact_pages = list(sf_connector.read_contact_pages(cursor=None, full=True))
    after_contacts = _calls(sf_admin)

    assert [len(p.records) for p in deal_pages] == [2000, 2000]
    assert [len(p.records) for p in contact_pages] == [2000, 2000, 2000]
    assert len({r.external_id for r in _records(deal_pages)}) == 4000
    assert len({r.external_id for r in _records(contact_pages)}) == 6000
    # The minimum: ⌈N/2000⌉ query/queryMore calls (standard fields need no describe).
    assert _spent(before, after_deals) == {QUERY: 1, MORE: math.ceil(4000 / 2000) - 1}
    assert _spent(after_deals, after_contacts) == {QUERY: 1, MORE: math.ceil(6000 / 2000) - 1}
    assert deal_pages[0].cursor["phase"] == "full"
    assert deal_pages[-1].cursor.keys() == {"modified_since"}
    assert contact_pages[-1].cursor.keys() == {"modified_since"}


def test_an_interrupted_contact_read_resumes_after_its_last_page_in_a_new_connector(
    sf_admin: SandboxAdmin, make_sf_connector: Callable[..., SalesforceConnector]
) -> None:
    sf_admin.reset(seed=3, accounts=1500, opportunities_per_account=0, contacts_per_account=3)
    everything = [c.external_id for c in _contacts(make_sf_connector())]
    first = next(make_sf_connector().read_contact_pages(cursor=None, full=True))

    rest = list(make_sf_connector().read_contact_pages(cursor=first.cursor, full=False))

    assert [r.external_id for r in first.records] + [
        r.external_id for r in _records(rest)
    ] == everything
    assert rest[-1].cursor.keys() == {"modified_since"}


def test_an_expired_query_locator_restarts_a_deal_read_after_the_last_opportunity_seen(
    sf_admin: SandboxAdmin,
    make_sf_connector: Callable[..., SalesforceConnector],
    sf: Salesforce,
) -> None:
    sf_admin.reset(seed=3, accounts=2250, opportunities_per_account=2, contacts_per_account=0)
    everything = sorted(_raw(sf, "SELECT Id FROM Opportunity"))
    first = next(make_sf_connector().read_deal_pages(cursor=None, full=True))
    _evict_query_locators(sf)
    before = _calls(sf_admin)

    rest = list(make_sf_connector().read_deal_pages(cursor=first.cursor, full=False))

    assert [r.external_id for r in first.records + _records(rest)] == everything
    spent = _spent(before, _calls(sf_admin))
    # The expired locator, then one query from the last id seen and its one more page.
    assert (spent[QUERY], spent[MORE]) == (1, 2)


# -- incremental reads and deletions ------------------------------------------------------------


def test_an_incremental_read_returns_the_opportunity_moved_to_closed_won_and_the_deleted_one(
    sf_connector: SalesforceConnector, sf: Salesforce
) -> None:
    raw = _raw_opportunities(sf)
    open_ids = sorted(i for i, row in raw.items() if not row["IsClosed"])
    won, deleted = open_ids[0], open_ids[1]
    since = _now()
    sf.Opportunity.update(won, {"StageName": "Closed Won", "CloseDate": "2026-11-30"})
    sf.Opportunity.delete(deleted)

    pages = list(sf_connector.read_deal_pages(cursor=since, full=False))

    changed = {d.external_id: d for d in _records(pages)}
    assert changed.keys() == {won, deleted}
    assert (changed[won].is_closed, changed[won].is_won) == (True, True)
    assert changed[won].closed_at == datetime(2026, 11, 30, tzinfo=UTC)
    assert changed[won].archived is False
    assert changed[deleted].archived is True
    assert pages[-1].cursor.keys() == {"modified_since"}
    # A full read keeps returning the deleted opportunity as archived.
    assert {d.external_id for d in _deals(sf_connector) if d.archived} == {deleted}


def test_an_incremental_read_returns_new_edited_and_deleted_contacts_only(
    sf_connector: SalesforceConnector, sf: Salesforce
) -> None:
    raw = _raw_contacts(sf)
    account = next(iter(raw.values()))["AccountId"]
    edited, deleted = sorted(raw)[:2]
    since = _now()
    new = sf.Contact.create(
        {"AccountId": account, "LastName": "Okafor", "Title": "Head of SEO", "Email": "n@x.io"}
    )["id"]
    sf.Contact.update(edited, {"Title": "Chief Marketing Officer"})
    sf.Contact.delete(deleted)

    changed = {c.external_id: c for c in _contacts(sf_connector, since)}

    assert changed.keys() == {new, edited, deleted}
    assert changed[new].account_external_ids == [account]
    assert (changed[new].title, changed[new].email_domain) == ("Head of SEO", "x.io")
    assert changed[edited].title == "Chief Marketing Officer"
    assert [c.archived for c in (changed[new], changed[edited], changed[deleted])] == [
        False,
        False,
        True,
    ]


def test_an_incremental_read_with_nothing_changed_is_one_empty_page_per_object(
    sf_connector: SalesforceConnector,
) -> None:
    since = _now()

    deal_pages = list(sf_connector.read_deal_pages(cursor=since, full=False))
    contact_pages = list(sf_connector.read_contact_pages(cursor=since, full=False))

    assert [p.records for p in deal_pages] == [[]]
    assert [p.records for p in contact_pages] == [[]]
    assert deal_pages[0].cursor.keys() == {"modified_since"}


# -- reads by id --------------------------------------------------------------------------------


def test_reads_by_id_return_current_state_in_order_with_deleted_ones_archived(
    sf_connector: SalesforceConnector, sf: Salesforce
) -> None:
    opportunities = sorted(_raw_opportunities(sf))[:3]
    contacts = sorted(_raw_contacts(sf))[:3]
    sf.Opportunity.delete(opportunities[1])
    sf.Contact.delete(contacts[1])
    sf.Contact.update(contacts[2], {"Title": "VP Engineering"})
    unknown = "006000000000000AAA"

    deals = sf_connector.read_deals_by_ids(
        [opportunities[2], unknown, opportunities[1][:15], "not-an-id", opportunities[0]]
    )
    people = sf_connector.read_contacts_by_ids([contacts[2], contacts[1][:15], contacts[0]])

    assert [d.external_id for d in deals] == [opportunities[2], opportunities[1], opportunities[0]]
    assert [d.archived for d in deals] == [False, True, False]
    assert [c.external_id for c in people] == [contacts[2], contacts[1], contacts[0]]
    assert [c.archived for c in people] == [False, True, False]
    assert people[0].title == "VP Engineering"
    assert sf_connector.read_deals_by_ids([]) == []


def test_reads_by_id_ask_in_chunks_of_200(
    sf_admin: SandboxAdmin, sf_connector: SalesforceConnector, sf: Salesforce
) -> None:
    sf_admin.reset(seed=2, accounts=150, opportunities_per_account=3, contacts_per_account=0)
    ids = sorted(_raw(sf, "SELECT Id FROM Opportunity"))
    before = _calls(sf_admin)

    deals = sf_connector.read_deals_by_ids(ids)

    assert [d.external_id for d in deals] == ids
    assert _spent(before, _calls(sf_admin)) == {QUERY: 3}


# -- failures -----------------------------------------------------------------------------------


def test_deal_and_contact_reads_succeed_through_30_percent_5xx_and_timeouts(
    sf_admin: SandboxAdmin,
    make_sf_connector: Callable[..., SalesforceConnector],
    sleeps: list[float],
) -> None:
    sf_admin.reset(seed=4, accounts=1200, opportunities_per_account=2, contacts_per_account=2)
    expected_deals = _deals(make_sf_connector())
    expected_contacts = _contacts(make_sf_connector())
    sf_admin.faults(
        error_rate=0.25, status_codes=[500, 502, 503], timeout_rate=0.1, timeout_seconds=1.0, seed=5
    )
    before = sf_admin.stats()["total"]
    connector = make_sf_connector(timeout=0.3)

    deals = _deals(connector)  # query, one more page
    contacts = _contacts(connector)  # the same
    by_id = connector.read_contacts_by_ids([c.external_id for c in expected_contacts[:400]])

    assert deals == expected_deals
    assert contacts == expected_contacts
    assert by_id == expected_contacts[:400]
    assert connector.api_calls == sf_admin.stats()["total"] - before
    assert connector.api_calls > 6  # 6 calls without faults
    assert len(sleeps) == connector.api_calls - 6


def test_a_contact_read_stopped_at_the_daily_share_resumes_from_its_cursor_losing_nothing(
    sf_admin: SandboxAdmin, make_sf_connector: Callable[..., SalesforceConnector]
) -> None:
    sf_admin.reset(seed=3, accounts=1500, opportunities_per_account=0, contacts_per_account=3)
    everything = [c.external_id for c in _contacts(make_sf_connector())]
    sf_admin.post("limits", {"used": 78, "max": 100})
    connector = make_sf_connector(settings={"daily_limit_share": 0.8})
    pages = []

    with pytest.raises(RetriableError, match="daily API allocation at 80%"):
        for page in connector.read_contact_pages(cursor=None, full=True):
            pages.append(page)

    # The query (79/100), the second page (80/100): then no more calls.
    assert [len(p.records) for p in pages] == [2000, 2000]
    assert connector.api_calls == 2
    sf_admin.post("limits", {"max": 15000})
    rest = list(make_sf_connector().read_contact_pages(cursor=pages[-1].cursor, full=False))
    assert [r.external_id for r in _records(pages + rest)] == everything


def test_request_limit_exceeded_stops_a_deal_read_at_once_as_retriable(
    sf_admin: SandboxAdmin, sf_connector: SalesforceConnector, sf: Salesforce, sleeps: list[float]
) -> None:
    ids = sorted(_raw_opportunities(sf))
    sf_admin.post("limits", {"used": 15000, "max": 15000})

    with pytest.raises(RetriableError, match="REQUEST_LIMIT_EXCEEDED"):
        sf_connector.read_deals_by_ids(ids)

    assert sleeps == []
    assert sf_connector.api_calls == 1


class _RefusingAdapter(HTTPAdapter):
    """Answers queries and describes of one object as Salesforce does when the user has no
    access to it, passes everything else on (the sandbox grants every object)."""

    def __init__(self, object_name: str, code: str) -> None:
        super().__init__()
        self.object_name = object_name
        self.code = code

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = requests.utils.unquote(request.url or "").replace("+", " ")
        if f"FROM {self.object_name}" in url or f"sobjects/{self.object_name}/" in url:
            status = 400 if self.code == "INVALID_TYPE" else 403
            message = f"sObject type '{self.object_name}' is not supported."
            return _error_response(request, status, self.code, message)
        return super().send(request, **kwargs)


@pytest.mark.parametrize(
    ("object_name", "code", "read"),
    [
        ("Opportunity", "INVALID_TYPE", lambda c: list(c.read_deal_pages(cursor=None, full=True))),
        ("Contact", "INSUFFICIENT_ACCESS", lambda c: c.read_contacts_by_ids(["003" + "0" * 15])),
    ],
)
def test_an_object_the_user_cannot_read_is_fatal_and_says_what_to_grant(
    make_sf_connector: Callable[..., SalesforceConnector],
    sleeps: list[float],
    object_name: str,
    code: str,
    read: Callable[[SalesforceConnector], Any],
) -> None:
    session = requests.Session()
    session.mount("https://", _RefusingAdapter(object_name, code))
    connector = make_sf_connector(session=session)

    with pytest.raises(FatalError) as refused:
        read(connector)

    message = str(refused.value)
    plurals = {"Opportunity": "Opportunities", "Contact": "Contacts"}
    assert f"cannot read {object_name}" in message
    assert f"grant it Read on {plurals[object_name]}" in message
    assert code in message
    assert sleeps == []  # not retried
    # Accounts still read.
    assert len(_records(list(connector.read_pages(cursor=None, full=True)))) == 50
