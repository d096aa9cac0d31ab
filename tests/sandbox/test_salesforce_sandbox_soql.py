"""SOQL beyond flat rows, through simple-salesforce: relationship paths, child subqueries,
aggregates, date literals, FIELDS() and compound addresses."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from simple_salesforce import Salesforce

from connectors.sandbox.common.admin_client import SandboxAdmin
from connectors.sandbox.salesforce.soql import date_literal

Row = dict[str, Any]


@pytest.fixture
def salesforce_reset() -> dict[str, Any]:
    """Fifty accounts with three contacts and two opportunities each."""
    return {
        "daily_max": 15000,
        "seed": 7,
        "accounts": 50,
        "contacts_per_company": 3,
        "deals_per_company": 2,
    }


def _rows(sf: Salesforce, soql: str) -> list[Row]:
    return list(sf.query_all_iter(soql))


def test_a_relationship_path_nests_the_parents_fields_under_the_relationship(
    sf: Salesforce,
) -> None:
    [row] = sf.query(
        "SELECT Id, Name, Account.Name, Account.Owner.Email, Owner.Name FROM Contact LIMIT 1"
    )["records"]

    account = sf.Account.get(row["Account"]["attributes"]["url"].rsplit("/", 1)[1])
    owner = sf.User.get(account["OwnerId"])
    assert list(row) == ["attributes", "Id", "Name", "Account", "Owner"]
    assert row["Account"]["attributes"]["type"] == "Account"
    assert row["Account"]["Name"] == account["Name"]
    assert row["Account"]["Owner"]["Email"] == owner["Email"]
    assert row["Owner"]["attributes"]["type"] == "User"


def test_a_null_parent_renders_as_null_and_filters_on_parent_fields_work(
    sf: Salesforce,
) -> None:
    created = sf.Contact.create({"LastName": "Orphan"})
    software = _rows(
        sf, "SELECT Id, Account.Industry FROM Contact WHERE Account.Industry = 'Software'"
    )

    [orphan] = sf.query(f"SELECT Id, Account.Name FROM Contact WHERE Id = '{created['id']}'")[
        "records"
    ]
    assert orphan["Account"] is None
    assert software and all(r["Account"]["Industry"] == "Software" for r in software)
    total = sf.query("SELECT COUNT() FROM Contact WHERE Account.Industry = 'Software'")
    assert total["totalSize"] == len(software)


def test_child_subqueries_list_each_accounts_contacts_and_won_opportunities(
    sf: Salesforce,
) -> None:
    rows = _rows(
        sf,
        "SELECT Id, (SELECT Id, Email FROM Contacts ORDER BY Email), "
        "(SELECT Name, StageName FROM Opportunities WHERE IsWon = true) FROM Account",
    )

    assert len(rows) == 50
    assert all(r["Contacts"]["totalSize"] == 3 and r["Contacts"]["done"] for r in rows)
    for row in rows:
        emails = [c["Email"] for c in row["Contacts"]["records"]]
        assert emails == sorted(emails, key=str.lower)
        won = row["Opportunities"]
        assert won is None or all(o["StageName"] == "Closed Won" for o in won["records"])
    assert any(r["Opportunities"] is None for r in rows)


def test_opportunity_contact_roles_name_each_deals_people_with_one_primary(
    sf: Salesforce,
) -> None:
    rows = _rows(
        sf,
        "SELECT Id, (SELECT ContactId, Role, IsPrimary, Contact.Email "
        "FROM OpportunityContactRoles) FROM Opportunity",
    )

    with_roles = [r for r in rows if r["OpportunityContactRoles"]]
    assert with_roles
    for row in with_roles:
        roles = row["OpportunityContactRoles"]["records"]
        assert sum(role["IsPrimary"] for role in roles) == 1
        assert all("@" in role["Contact"]["Email"] for role in roles)


def test_group_by_answers_aggregate_results_named_expr0_or_by_alias(sf: Salesforce) -> None:
    accounts = _rows(sf, "SELECT Industry FROM Account")
    expected = Counter(r["Industry"] for r in accounts)

    grouped = sf.query(
        "SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry ORDER BY COUNT(Id) DESC"
    )["records"]
    [totals] = sf.query("SELECT COUNT(Id) n, SUM(Amount), MAX(Amount) FROM Opportunity")["records"]

    assert {r["Industry"]: r["expr0"] for r in grouped} == expected
    assert [r["expr0"] for r in grouped] == sorted(expected.values(), reverse=True)
    assert grouped[0]["attributes"] == {"type": "AggregateResult"}
    amounts = [r["Amount"] for r in _rows(sf, "SELECT Amount FROM Opportunity")]
    assert totals["n"] == 100
    assert totals["expr0"] == pytest.approx(sum(amounts))
    assert totals["expr1"] == max(amounts)


def test_date_literals_select_the_days_they_name(sf: Salesforce) -> None:
    today = datetime.now(UTC).date()
    closes = [
        date.fromisoformat(r["CloseDate"]) for r in _rows(sf, "SELECT CloseDate FROM Opportunity")
    ]

    last_90 = sf.query("SELECT COUNT() FROM Opportunity WHERE CloseDate = LAST_N_DAYS:90")
    future = sf.query("SELECT COUNT() FROM Opportunity WHERE CloseDate > TODAY")
    this_year = sf.query("SELECT COUNT() FROM Opportunity WHERE CloseDate = THIS_YEAR")

    assert last_90["totalSize"] == sum(today - timedelta(days=90) <= d <= today for d in closes)
    assert future["totalSize"] == sum(d > today for d in closes)
    assert this_year["totalSize"] == sum(d.year == today.year for d in closes)
    assert future["totalSize"] > 0


@pytest.mark.parametrize(
    ("literal", "start", "end"),
    [
        ("YESTERDAY", date(2026, 3, 3), date(2026, 3, 4)),
        ("LAST_N_DAYS:7", date(2026, 2, 25), date(2026, 3, 5)),
        ("THIS_WEEK", date(2026, 3, 1), date(2026, 3, 8)),
        ("LAST_MONTH", date(2026, 2, 1), date(2026, 3, 1)),
        ("THIS_QUARTER", date(2026, 1, 1), date(2026, 4, 1)),
        ("LAST_YEAR", date(2025, 1, 1), date(2026, 1, 1)),
        ("NEXT_N_MONTHS:2", date(2026, 4, 1), date(2026, 6, 1)),
    ],
)
def test_a_date_literal_covers_salesforces_range(literal: str, start: date, end: date) -> None:
    # 2026-03-04 is a Wednesday; weeks start on Sunday in a new org.
    assert date_literal(literal, date(2026, 3, 4)) == (start, end)


def test_fields_standard_selects_every_standard_field_and_all_needs_a_limit(
    sf: Salesforce,
) -> None:
    standard = sf.query("SELECT FIELDS(STANDARD) FROM Account LIMIT 1")["records"][0]
    everything = sf.query("SELECT FIELDS(ALL) FROM Account LIMIT 200")["records"]
    described = [f["name"] for f in sf.Account.describe()["fields"]]

    assert list(standard)[1:] == [n for n in described if not n.endswith("__c")]
    assert list(everything[0])[1:] == described
    assert len(everything) == 50


def test_a_compound_address_comes_back_as_an_object(sf: Salesforce) -> None:
    rows = _rows(sf, "SELECT BillingCity, BillingCountry, BillingAddress FROM Account")

    for row in rows:
        address = row["BillingAddress"]
        assert address["city"] == row["BillingCity"]
        assert address["country"] == row["BillingCountry"]
        assert set(address) == {
            "city", "country", "geocodeAccuracy", "latitude", "longitude", "postalCode",
            "state", "street",
        }  # fmt: skip


def test_order_by_a_parent_field_with_nulls_last(sf: Salesforce) -> None:
    sf.Contact.create({"LastName": "Nobody's"})

    rows = _rows(sf, "SELECT LastName, Account.Name FROM Contact ORDER BY Account.Name NULLS LAST")

    names = [r["Account"]["Name"] if r["Account"] else None for r in rows]
    assert names[-1] is None
    assert names[:-1] == sorted(names[:-1], key=lambda n: (n or "").lower())


def test_query_all_includes_deleted_children_in_subqueries(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    account_id = sf.query("SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    sf.Account.delete(account_id)
    soql = f"SELECT Id, (SELECT Id FROM Contacts) FROM Account WHERE Id = '{account_id}'"

    live = sf.query(soql)
    everything = sf.query_all(soql, include_deleted=True)

    assert live["totalSize"] == 0
    assert everything["records"][0]["Contacts"]["totalSize"] == 3
    deleted = sf.query(
        f"SELECT COUNT() FROM Contact WHERE AccountId = '{account_id}' AND IsDeleted = true",
        include_deleted=True,
    )
    assert deleted["totalSize"] == 3


def test_a_semi_join_selects_accounts_by_their_children(sf: Salesforce) -> None:
    won = {
        r["AccountId"] for r in _rows(sf, "SELECT AccountId FROM Opportunity WHERE IsWon = true")
    }

    with_wins = _rows(
        sf,
        "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Opportunity WHERE IsWon = true)",
    )
    without = sf.query(
        "SELECT COUNT() FROM Account WHERE Id NOT IN "
        "(SELECT AccountId FROM Opportunity WHERE IsWon = true)"
    )

    assert {r["Id"] for r in with_wins} == won
    assert without["totalSize"] == 50 - len(won)


def test_having_keeps_the_groups_its_condition_holds_for(sf: Salesforce) -> None:
    expected = Counter(r["Industry"] for r in _rows(sf, "SELECT Industry FROM Account"))

    rows = sf.query(
        "SELECT Industry, COUNT(Id) n FROM Account GROUP BY Industry "
        "HAVING COUNT(Id) > 2 ORDER BY Industry"
    )["records"]

    assert [(r["Industry"], r["n"]) for r in rows] == sorted(
        ((industry, n) for industry, n in expected.items() if n > 2), key=lambda p: p[0].lower()
    )
