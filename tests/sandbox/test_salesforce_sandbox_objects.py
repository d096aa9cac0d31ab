"""The org's standard objects through simple-salesforce: describe against Salesforce's documented
standard fields, seeded people and owners, writes to the new objects, AccountHistory, and calls
to paths the fake does not serve."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.sandbox.common.admin_client import SandboxAdmin
from connectors.sandbox.common.demo_data import OWNERS
from tests.conftest import SANDBOX_TOKEN, SandboxServer

OBJECTS = ("Account", "Contact", "Opportunity", "OpportunityContactRole", "User", "AccountHistory")
# Standard fields as Salesforce's Object Reference (API v62.0) lists them; each must be described
# with this type.
DOCUMENTED: dict[str, dict[str, str]] = {
    "Account": {
        "Id": "id", "IsDeleted": "boolean", "MasterRecordId": "reference", "Name": "string",
        "Type": "picklist", "ParentId": "reference", "BillingStreet": "textarea",
        "BillingCity": "string", "BillingState": "string", "BillingPostalCode": "string",
        "BillingCountry": "string", "BillingLatitude": "double", "BillingLongitude": "double",
        "BillingGeocodeAccuracy": "picklist", "BillingAddress": "address",
        "ShippingStreet": "textarea", "ShippingCity": "string", "ShippingState": "string",
        "ShippingPostalCode": "string", "ShippingCountry": "string", "ShippingAddress": "address",
        "Phone": "phone", "Fax": "phone", "AccountNumber": "string", "Website": "url",
        "PhotoUrl": "url", "Sic": "string", "Industry": "picklist", "AnnualRevenue": "currency",
        "NumberOfEmployees": "int", "Ownership": "picklist", "TickerSymbol": "string",
        "Description": "textarea", "Rating": "picklist", "Site": "string",
        "OwnerId": "reference", "CreatedDate": "datetime", "CreatedById": "reference",
        "LastModifiedDate": "datetime", "LastModifiedById": "reference",
        "SystemModstamp": "datetime", "LastActivityDate": "date", "LastViewedDate": "datetime",
        "LastReferencedDate": "datetime", "Jigsaw": "string", "JigsawCompanyId": "string",
        "CleanStatus": "picklist", "AccountSource": "picklist", "DunsNumber": "string",
        "Tradestyle": "string", "NaicsCode": "string", "NaicsDesc": "string",
        "YearStarted": "string", "SicDesc": "string", "DandbCompanyId": "reference",
    },
    "Contact": {
        "Id": "id", "IsDeleted": "boolean", "MasterRecordId": "reference",
        "AccountId": "reference", "LastName": "string", "FirstName": "string",
        "Salutation": "picklist", "Name": "string", "OtherStreet": "textarea",
        "OtherCity": "string", "OtherAddress": "address", "MailingStreet": "textarea",
        "MailingCity": "string", "MailingState": "string", "MailingPostalCode": "string",
        "MailingCountry": "string", "MailingAddress": "address", "Phone": "phone",
        "Fax": "phone", "MobilePhone": "phone", "HomePhone": "phone", "OtherPhone": "phone",
        "AssistantPhone": "phone", "ReportsToId": "reference", "Email": "email",
        "Title": "string", "Department": "string", "AssistantName": "string",
        "LeadSource": "picklist", "Birthdate": "date", "Description": "textarea",
        "OwnerId": "reference", "HasOptedOutOfEmail": "boolean", "HasOptedOutOfFax": "boolean",
        "DoNotCall": "boolean", "CreatedDate": "datetime", "CreatedById": "reference",
        "LastModifiedDate": "datetime", "LastModifiedById": "reference",
        "SystemModstamp": "datetime", "LastActivityDate": "date",
        "EmailBouncedReason": "string", "EmailBouncedDate": "datetime",
        "IsEmailBounced": "boolean", "PhotoUrl": "url", "Jigsaw": "string",
        "JigsawContactId": "string", "CleanStatus": "picklist", "IndividualId": "reference",
    },
    "Opportunity": {
        "Id": "id", "IsDeleted": "boolean", "AccountId": "reference", "IsPrivate": "boolean",
        "Name": "string", "Description": "textarea", "StageName": "picklist",
        "Amount": "currency", "Probability": "percent", "ExpectedRevenue": "currency",
        "TotalOpportunityQuantity": "double", "CloseDate": "date", "Type": "picklist",
        "NextStep": "string", "LeadSource": "picklist", "IsClosed": "boolean",
        "IsWon": "boolean", "ForecastCategory": "picklist", "ForecastCategoryName": "picklist",
        "CampaignId": "reference", "HasOpportunityLineItem": "boolean",
        "Pricebook2Id": "reference", "OwnerId": "reference", "CreatedDate": "datetime",
        "CreatedById": "reference", "LastModifiedDate": "datetime",
        "LastModifiedById": "reference", "SystemModstamp": "datetime",
        "LastActivityDate": "date", "LastStageChangeDate": "datetime",
        "ContactId": "reference", "LastViewedDate": "datetime",
        "LastReferencedDate": "datetime", "HasOpenActivity": "boolean",
        "HasOverdueTask": "boolean",
    },
    "OpportunityContactRole": {
        "Id": "id", "OpportunityId": "reference", "ContactId": "reference", "Role": "picklist",
        "IsPrimary": "boolean", "CreatedDate": "datetime", "CreatedById": "reference",
        "LastModifiedDate": "datetime", "LastModifiedById": "reference",
        "SystemModstamp": "datetime", "IsDeleted": "boolean",
    },
    "User": {
        "Id": "id", "Username": "string", "LastName": "string", "FirstName": "string",
        "Name": "string", "CompanyName": "string", "Department": "string", "Title": "string",
        "Street": "textarea", "City": "string", "Country": "string", "Address": "address",
        "Email": "email", "Phone": "phone", "MobilePhone": "phone", "Alias": "string",
        "CommunityNickname": "string", "IsActive": "boolean", "TimeZoneSidKey": "picklist",
        "UserRoleId": "reference", "LocaleSidKey": "picklist", "EmailEncodingKey": "picklist",
        "ProfileId": "reference", "UserType": "picklist", "LanguageLocaleKey": "picklist",
        "EmployeeNumber": "string", "ManagerId": "reference", "LastLoginDate": "datetime",
        "CreatedDate": "datetime", "CreatedById": "reference", "LastModifiedDate": "datetime",
        "LastModifiedById": "reference", "SystemModstamp": "datetime", "AboutMe": "textarea",
    },
    "AccountHistory": {
        "Id": "id", "IsDeleted": "boolean", "AccountId": "reference",
        "CreatedById": "reference", "CreatedDate": "datetime", "Field": "picklist",
        "DataType": "picklist", "OldValue": "anyType", "NewValue": "anyType",
    },
}  # fmt: skip


@pytest.fixture
def salesforce_reset() -> dict[str, Any]:
    """Twenty accounts with three contacts and two opportunities each."""
    return {
        "daily_max": 15000,
        "seed": 7,
        "accounts": 20,
        "contacts_per_company": 3,
        "deals_per_company": 2,
    }


def test_describe_global_lists_the_standard_objects(sf: Salesforce) -> None:
    described = {o["name"]: o for o in sf.describe()["sobjects"]}

    assert set(OBJECTS) <= set(described)
    assert described["Contact"]["keyPrefix"] == "003"
    assert described["AccountHistory"]["createable"] is False
    assert described["User"]["queryable"] is True


@pytest.mark.parametrize("name", OBJECTS)
def test_describe_has_every_documented_standard_field_with_its_type(
    sf: Salesforce, name: str
) -> None:
    fields = {f["name"]: f for f in getattr(sf, name).describe()["fields"]}

    missing = sorted(set(DOCUMENTED[name]) - set(fields))
    assert missing == []
    assert {n: fields[n]["type"] for n in DOCUMENTED[name]} == DOCUMENTED[name]
    assert fields["Id"]["nillable"] is False
    assert all(f["soapType"] for f in fields.values())


def test_describe_lists_child_relationships_that_subqueries_use(sf: Salesforce) -> None:
    children = {c["relationshipName"]: c for c in sf.Account.describe()["childRelationships"]}

    assert children["Contacts"]["childSObject"] == "Contact"
    assert children["Contacts"]["field"] == "AccountId"
    assert {"Opportunities", "Histories", "ChildAccounts"} <= set(children)


def test_an_account_is_created_with_description_and_other_standard_fields(sf: Salesforce) -> None:
    created = sf.Account.create(
        {
            "Name": "Standard Fields Inc.",
            "Description": "A company described",
            "Phone": "+1 555 0100",
            "Rating": "Warm",
            "Ownership": "Private",
            "AccountNumber": "A-1",
            "YearStarted": "2001",
            "BillingStreet": "1 Main St",
            "BillingPostalCode": "94105",
        }
    )

    account = sf.Account.get(created["id"])
    assert account["Description"] == "A company described"
    assert account["BillingAddress"]["street"] == "1 Main St"
    assert account["BillingAddress"]["postalCode"] == "94105"
    assert account["OwnerId"].startswith("005")


def test_the_seeded_org_has_contacts_roles_and_owners_from_the_demo_data(
    sf: Salesforce,
) -> None:
    users = sf.query("SELECT Id, Name, Email FROM User")["records"]
    contacts = sf.query("SELECT COUNT() FROM Contact")["totalSize"]
    roles = sf.query_all("SELECT OpportunityId, ContactId, IsPrimary FROM OpportunityContactRole")
    owners = sf.query("SELECT Owner.Email FROM Account")["records"]

    assert len(users) == len(OWNERS) + 1  # the reps and the integration user
    assert contacts == 60
    primaries = Counter(r["OpportunityId"] for r in roles["records"] if r["IsPrimary"])
    assert primaries and set(primaries.values()) == {1}
    rep_emails = {o["email"] for o in OWNERS}
    assert {o["Owner"]["Email"] for o in owners} <= rep_emails


def test_a_contact_gets_its_full_name_and_user_cannot_be_created(sf: Salesforce) -> None:
    account_id = sf.query("SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    created = sf.Contact.create(
        {"FirstName": "Ada", "LastName": "Lovelace", "AccountId": account_id}
    )

    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.User.create({"LastName": "X"})

    assert sf.Contact.get(created["id"])["Name"] == "Ada Lovelace"
    assert refused.value.content[0]["errorCode"] == "INVALID_TYPE_FOR_OPERATION"


def test_every_tracked_change_writes_account_history(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    [first, second] = sf.query("SELECT Id, Industry, Rating FROM Account LIMIT 2")["records"]
    before = sf.query("SELECT COUNT() FROM AccountHistory")["totalSize"]

    sf.Account.update(first["Id"], {"Industry": "Retail", "Description": "untracked"})
    sf.Account.update(first["Id"], {"Industry": "Retail"})  # no change: no history
    sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={
            "records": [{"attributes": {"type": "Account"}, "id": second["Id"], "Rating": "Cold"}]
        },
    )
    sf_admin.edits(ids=[second["Id"]], fields={"NumberOfEmployees": 4242})

    history = sf.query(
        "SELECT AccountId, Field, OldValue, NewValue, CreatedById FROM AccountHistory "
        f"WHERE AccountId IN ('{first['Id']}', '{second['Id']}') AND CreatedDate = TODAY"
    )["records"]
    changes = {(h["AccountId"], h["Field"]): (h["OldValue"], h["NewValue"]) for h in history}
    assert sf.query("SELECT COUNT() FROM AccountHistory")["totalSize"] == before + len(history)
    expected = {
        (first["Id"], "Industry"): (first["Industry"], "Retail"),
        (second["Id"], "Rating"): (second["Rating"], "Cold"),
    }
    for key, value in expected.items():
        if value[0] != value[1]:
            assert changes[key] == value
    assert changes[(second["Id"], "NumberOfEmployees")][1] == 4242
    assert all((h["AccountId"], h["Field"]) != (first["Id"], "Description") for h in history)


def test_the_seeded_history_is_queryable_as_a_child_of_accounts(sf: Salesforce) -> None:
    rows = sf.query_all(
        "SELECT Id, (SELECT Field, OldValue, NewValue FROM Histories) FROM Account"
    )["records"]

    histories = [h for r in rows if r["Histories"] for h in r["Histories"]["records"]]
    assert histories
    assert {h["Field"] for h in histories} <= {"Type", "NumberOfEmployees"}


def test_deleting_an_account_takes_its_contacts_opportunities_and_roles_along(
    sf: Salesforce,
) -> None:
    account_id = sf.query("SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    opportunity_ids = [
        r["Id"]
        for r in sf.query(f"SELECT Id FROM Opportunity WHERE AccountId = '{account_id}'")["records"]
    ]

    sf.Account.delete(account_id)

    assert (
        sf.query(f"SELECT COUNT() FROM Contact WHERE AccountId = '{account_id}'")["totalSize"] == 0
    )
    quoted = ", ".join(f"'{i}'" for i in opportunity_ids)
    roles = sf.query(
        f"SELECT COUNT() FROM OpportunityContactRole WHERE OpportunityId IN ({quoted})"
    )
    assert roles["totalSize"] == 0


def test_calls_to_paths_the_fake_does_not_serve_are_counted_as_unmatched(
    sf_admin: SandboxAdmin, salesforce_server: SandboxServer, sf_sessions: Any
) -> None:
    session: requests.Session = sf_sessions()
    session.headers["Authorization"] = f"Bearer {SANDBOX_TOKEN}"

    missing = session.get(f"{salesforce_server.url}/services/data/v62.0/tooling/query?q=x")
    refused = session.put(f"{salesforce_server.url}/services/data/v62.0/limits")
    resources = session.get(f"{salesforce_server.url}/services/data/v62.0").json()

    stats = sf_admin.stats()
    assert missing.status_code == 404
    assert missing.json()[0]["errorCode"] == "NOT_FOUND"
    assert refused.status_code == 405
    assert stats["unmatched"] == {
        "GET /services/data/v62.0/tooling/query": 1,
        "PUT /services/data/v62.0/limits": 1,
    }
    assert "tooling" not in resources
    # Every resource advertised is served (composite answers POST only: 405 to a GET).
    assert all(
        session.get(salesforce_server.url + p).status_code != 404 for p in resources.values()
    )


def test_new_history_rows_are_listed_by_the_replication_resource(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    account = sf.query("SELECT Id, Rating FROM Account LIMIT 1")["records"][0]
    now = datetime.now(UTC)
    rating = "Hot" if account["Rating"] != "Hot" else "Cold"

    # Backdated: the replication resources never cover the current minute.
    sf_admin.edits(
        ids=[account["Id"]], fields={"Rating": rating}, at=(now - timedelta(minutes=2)).isoformat()
    )

    updated = sf.AccountHistory.updated(now - timedelta(minutes=5), now)
    [row] = sf.query(
        f"SELECT Id FROM AccountHistory WHERE AccountId = '{account['Id']}' AND Field = 'Rating'"
    )["records"]
    assert row["Id"] in updated["ids"]
