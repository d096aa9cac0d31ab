"""composite, composite/batch, composite/tree and SOSL search, through simple-salesforce."""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.sandbox.common.admin_client import SandboxAdmin

V = "/services/data/v59.0"


def _composite(sf: Salesforce, requests: list[dict[str, Any]], **options: Any) -> list[Any]:
    body = {"compositeRequest": requests, **options}
    answer = sf.restful("composite", method="POST", json=body)
    return list(answer["compositeResponse"])


def test_composite_subrequests_reference_earlier_results(sf: Salesforce) -> None:
    responses = _composite(
        sf,
        [
            {
                "method": "POST",
                "url": f"{V}/sobjects/Account",
                "referenceId": "NewAccount",
                "body": {"Name": "Composite Co", "Description": "Made in one call"},
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Contact",
                "referenceId": "NewContact",
                "body": {"LastName": "Ng", "AccountId": "@{NewAccount.id}"},
            },
            {
                "method": "GET",
                "url": f"{V}/query?q=SELECT+Id,+Account.Description+FROM+Contact+"
                "WHERE+Id+=+'@{NewContact.id}'",
                "referenceId": "Check",
            },
        ],
    )

    assert [r["httpStatusCode"] for r in responses] == [201, 201, 200]
    account_id = responses[0]["body"]["id"]
    assert responses[0]["httpHeaders"]["Location"] == f"{V}/sobjects/Account/{account_id}"
    [row] = responses[2]["body"]["records"]
    assert row["Account"]["Description"] == "Made in one call"


def test_all_or_none_rolls_every_write_back_when_one_fails(sf: Salesforce) -> None:
    before = sf.query("SELECT COUNT() FROM Account")["totalSize"]

    responses = _composite(
        sf,
        [
            {
                "method": "POST",
                "url": f"{V}/sobjects/Account",
                "referenceId": "Good",
                "body": {"Name": "Rolled back"},
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Account",
                "referenceId": "Bad",
                "body": {"Name": "x", "NoSuchField__c": 1},
            },
        ],
        allOrNone=True,
    )

    assert [r["httpStatusCode"] for r in responses] == [400, 400]
    assert responses[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert responses[1]["body"][0]["errorCode"] == "INVALID_FIELD"
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == before
    assert sf.query("SELECT COUNT() FROM Account WHERE Name = 'Rolled back'")["totalSize"] == 0


def test_a_reference_to_a_failed_subrequest_halts_the_dependent_one(sf: Salesforce) -> None:
    responses = _composite(
        sf,
        [
            {
                "method": "POST",
                "url": f"{V}/sobjects/Account",
                "referenceId": "Bad",
                "body": {"Description": "no name"},
            },
            {
                "method": "GET",
                "url": f"{V}/sobjects/Account/@{{Bad.id}}",
                "referenceId": "Dependent",
            },
        ],
    )

    assert responses[0]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert responses[1]["httpStatusCode"] == 400
    assert responses[1]["body"][0]["errorCode"] == "PROCESSING_HALTED"


def test_composite_batch_runs_independent_subrequests_and_halts_on_error(
    sf: Salesforce,
) -> None:
    account_id = sf.query("SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    body = {
        "haltOnError": True,
        "batchRequests": [
            {
                "method": "PATCH",
                "url": f"v59.0/sobjects/Account/{account_id}",
                "richInput": {"Rating": "Hot"},
            },
            {"method": "GET", "url": f"v59.0/sobjects/Account/{account_id}?fields=Rating"},
            {"method": "GET", "url": "v59.0/sobjects/Account/001000000000000AAA"},
            {"method": "GET", "url": "v59.0/limits"},
        ],
    }

    answer = sf.restful("composite/batch", method="POST", json=body)

    assert answer["hasErrors"] is True
    assert [r["statusCode"] for r in answer["results"]] == [204, 200, 404, 412]
    assert answer["results"][1]["result"]["Rating"] == "Hot"
    assert answer["results"][3]["result"][0]["errorCode"] == "BATCH_PROCESSING_HALTED"


def test_composite_tree_creates_accounts_with_their_contacts_or_nothing(
    sf: Salesforce,
) -> None:
    tree = {
        "records": [
            {
                "attributes": {"type": "Account", "referenceId": "acme"},
                "Name": "Tree Acme",
                "Contacts": {
                    "records": [
                        {"attributes": {"type": "Contact", "referenceId": "c1"}, "LastName": "A"},
                        {"attributes": {"type": "Contact", "referenceId": "c2"}, "LastName": "B"},
                    ]
                },
            }
        ]
    }

    created = sf.restful("composite/tree/Account", method="POST", json=tree)
    tree["records"][0]["Contacts"]["records"][1]["Email"] = "not an email field value" * 10
    tree["records"][0]["Name"] = "Tree Broken"
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.restful("composite/tree/Account", method="POST", json=tree)

    ids = {r["referenceId"]: r["id"] for r in created["results"]}
    assert set(ids) == {"acme", "c1", "c2"}
    contacts = sf.query(f"SELECT LastName FROM Contact WHERE AccountId = '{ids['acme']}'")
    assert sorted(r["LastName"] for r in contacts["records"]) == ["A", "B"]
    assert refused.value.content["results"][0]["referenceId"] == "c2"
    assert sf.query("SELECT COUNT() FROM Account WHERE Name = 'Tree Broken'")["totalSize"] == 0


@pytest.fixture
def salesforce_reset() -> dict[str, Any]:
    """Accounts with contacts, for searching people."""
    return {"daily_max": 15000, "seed": 7, "accounts": 30, "contacts_per_company": 2}


def test_sosl_finds_accounts_by_name_and_returns_the_fields_asked(sf: Salesforce) -> None:
    [account] = sf.query("SELECT Id, Name FROM Account LIMIT 1")["records"]
    word = account["Name"].split()[0]

    found = sf.search(f"FIND {{{word}}} IN NAME FIELDS RETURNING Account(Id, Name, Owner.Name)")

    records = found["searchRecords"]
    assert account["Id"] in [r["Id"] for r in records]
    assert all(word.lower() in r["Name"].lower() for r in records)
    assert all(r["attributes"]["type"] == "Account" and "Name" in r["Owner"] for r in records)


def test_sosl_searches_contact_emails_with_wildcards_and_filters(sf: Salesforce) -> None:
    [contact] = sf.query("SELECT Email, LastName FROM Contact LIMIT 1")["records"]
    domain = contact["Email"].split("@")[1]

    found = sf.search(
        f"FIND {{{domain.split('.')[0][:4]}*}} IN EMAIL FIELDS RETURNING "
        f"Contact(Email WHERE LastName = '{contact['LastName']}' LIMIT 5), Account"
    )

    records = found["searchRecords"]
    assert contact["Email"] in [r.get("Email") for r in records]
    assert all(r["attributes"]["type"] == "Contact" for r in records)


def test_a_one_letter_search_is_refused(sf_admin: SandboxAdmin, sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.quick_search("a")

    assert refused.value.content[0]["errorCode"] == "INVALID_SEARCH"


def test_a_subrequest_to_an_unknown_version_or_path_is_not_found(sf: Salesforce) -> None:
    body = {
        "batchRequests": [
            {"method": "GET", "url": "v99.0/limits"},
            {"method": "GET", "url": "v59.0/tooling/query?q=SELECT+Id+FROM+ApexClass"},
            {"method": "GET", "url": "v62.0/limits"},
        ]
    }

    answer = sf.restful("composite/batch", method="POST", json=body)

    assert [r["statusCode"] for r in answer["results"]] == [404, 404, 200]
    assert answer["results"][0]["result"][0]["errorCode"] == "NOT_FOUND"


def test_all_or_none_undoes_updates_deletes_and_their_history(sf: Salesforce) -> None:
    [account] = sf.query(
        "SELECT Id, Rating, (SELECT Id FROM Contacts) FROM Account ORDER BY Name LIMIT 1"
    )["records"]
    contact_id = account["Contacts"]["records"][0]["Id"]
    history_before = sf.query("SELECT COUNT() FROM AccountHistory")["totalSize"]
    rating = "Hot" if account["Rating"] != "Hot" else "Cold"

    responses = _composite(
        sf,
        [
            {
                "method": "PATCH",
                "url": f"{V}/sobjects/Account/{account['Id']}",
                "referenceId": "Rate",
                "body": {"Rating": rating},
            },
            {
                "method": "DELETE",
                "url": f"{V}/sobjects/Contact/{contact_id}",
                "referenceId": "Drop",
            },
            {
                "method": "PATCH",
                "url": f"{V}/sobjects/Account/{account['Id']}",
                "referenceId": "Bad",
                "body": {"NoSuchField__c": 1},
            },
        ],
        allOrNone=True,
    )

    assert [r["httpStatusCode"] for r in responses] == [400, 400, 400]
    assert responses[2]["body"][0]["errorCode"] == "INVALID_FIELD"
    [after] = sf.query(
        f"SELECT Rating, (SELECT Id FROM Contacts) FROM Account WHERE Id = '{account['Id']}'"
    )["records"]
    assert after["Rating"] == account["Rating"]
    assert contact_id in [c["Id"] for c in after["Contacts"]["records"]]
    assert sf.query("SELECT COUNT() FROM AccountHistory")["totalSize"] == history_before
