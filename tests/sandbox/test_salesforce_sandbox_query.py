"""SOQL through simple-salesforce: paging, batch sizes, queryAll, the subset and its errors."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, cast

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.sandbox.common.admin_client import SandboxAdmin

Row = dict[str, Any]
FIELDS = (
    "Id, Name, Industry, Type, NumberOfEmployees, BillingCountry, Has_Inhouse_SEO__c, NPS__c, "
    "SystemModstamp"
)
BATCH = {"Sforce-Query-Options": "batchSize=200"}


def _all(sf: Salesforce, where: str = "", *, include_deleted: bool = False) -> list[Row]:
    soql = f"SELECT {FIELDS} FROM Account" + (f" WHERE {where}" if where else "")
    return list(sf.query_all_iter(soql, include_deleted=include_deleted))


def _error(raised: pytest.ExceptionInfo[SalesforceMalformedRequest]) -> Row:
    """The first parsed error an exception carries (typed as bytes by simple-salesforce)."""
    return cast(list[Row], raised.value.content)[0]


def test_a_query_answers_2000_rows_and_a_locator_for_the_rest(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    sf_admin.post("reset", {"seed": 7, "accounts": 4500})

    first = sf.query("SELECT Id, Name FROM Account")

    assert first["totalSize"] == 4500
    assert first["done"] is False
    assert len(first["records"]) == 2000
    assert re.fullmatch(r"/services/data/v59\.0/query/01g\w{15}-2000", first["nextRecordsUrl"])
    row = first["records"][0]
    assert list(row) == ["attributes", "Id", "Name"]
    assert row["attributes"] == {
        "type": "Account",
        "url": f"/services/data/v59.0/sobjects/Account/{row['Id']}",
    }


def test_following_next_records_url_reads_every_account_once_in_id_order(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    sf_admin.post("reset", {"seed": 7, "accounts": 4500})
    pages = []
    page = sf.query("SELECT Id FROM Account")
    while True:
        pages.append(page)
        if page["done"]:
            break
        page = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)

    ids = [row["Id"] for p in pages for row in p["records"]]
    assert [len(p["records"]) for p in pages] == [2000, 2000, 500]
    assert "nextRecordsUrl" not in pages[-1]
    assert len(set(ids)) == 4500
    assert ids == sorted(ids)


@pytest.mark.parametrize(("asked", "served"), [("500", 500), ("50", 200), ("5000", 2000)])
def test_the_batch_size_option_sets_the_page_size_between_200_and_2000(
    sf_admin: SandboxAdmin, sf: Salesforce, asked: str, served: int
) -> None:
    sf_admin.post("reset", {"seed": 7, "accounts": 2500})
    options = {"Sforce-Query-Options": f"batchSize={asked}"}

    page = sf.query("SELECT Id FROM Account", headers=options)
    following = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True, headers=options)

    assert len(page["records"]) == served
    assert page["nextRecordsUrl"].endswith(f"-{served}")
    assert len(following["records"]) == min(served, 2500 - served)


def test_query_all_iter_with_a_small_batch_size_reads_everything(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    sf_admin.post("reset", {"seed": 7, "accounts": 1000})

    rows = list(sf.query_all_iter("SELECT Id FROM Account", headers=BATCH))

    assert len({row["Id"] for row in rows}) == 1000
    assert sf_admin.stats()["calls"]["GET /services/data/v{version}/query/{locator}"] == 4


def test_query_leaves_deleted_accounts_out_and_query_all_brings_them_back(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    ids = [row["Id"] for row in _all(sf)[:3]]
    sf_admin.post("delete", {"ids": ids})

    live = _all(sf)
    everything = sf.query_all(f"SELECT {FIELDS}, IsDeleted FROM Account", include_deleted=True)

    assert len(live) == 47
    assert not {row["Id"] for row in live} & set(ids)
    assert everything["totalSize"] == 50
    deleted = {row["Id"] for row in everything["records"] if row["IsDeleted"]}
    assert deleted == set(ids)


def test_query_all_pages_carry_query_all_locators(sf_admin: SandboxAdmin, sf: Salesforce) -> None:
    sf_admin.post("reset", {"seed": 7, "accounts": 500})

    page = sf.query("SELECT Id FROM Account", include_deleted=True, headers=BATCH)

    assert "/queryAll/01g" in page["nextRecordsUrl"]


Predicate = Callable[[Row], bool]
WHERE_CASES: list[tuple[str, Predicate]] = [
    ("NumberOfEmployees > 100", lambda r: (r["NumberOfEmployees"] or 0) > 100),
    (
        "NumberOfEmployees <= 20",
        lambda r: r["NumberOfEmployees"] is not None and r["NumberOfEmployees"] <= 20,
    ),
    ("Industry = 'software'", lambda r: r["Industry"] == "Software"),
    ("Industry != 'Software'", lambda r: r["Industry"] != "Software"),
    ("Type != 'Prospect'", lambda r: r["Type"] != "Prospect"),
    ("Type = null", lambda r: r["Type"] is None),
    ("NPS__c != null", lambda r: r["NPS__c"] is not None),
    (
        "BillingCountry IN ('Germany', 'united states')",
        lambda r: r["BillingCountry"] in ("Germany", "United States"),
    ),
    ("BillingCountry NOT IN ('Germany')", lambda r: r["BillingCountry"] != "Germany"),
    ("Has_Inhouse_SEO__c = true", lambda r: r["Has_Inhouse_SEO__c"] is True),
    ("Name LIKE 'B%'", lambda r: r["Name"].lower().startswith("b")),
    ("NOT Industry = 'Software'", lambda r: r["Industry"] != "Software"),
    (
        "Has_Inhouse_SEO__c = true AND (Industry = 'Online Media' OR Industry = 'Publishing' OR NumberOfEmployees >= 50)",
        lambda r: (
            r["Has_Inhouse_SEO__c"]
            and (
                r["Industry"] in ("Online Media", "Publishing")
                or (r["NumberOfEmployees"] or 0) >= 50
            )
        ),
    ),
    (
        "(Type = 'Customer - Direct' OR Type = 'Customer - Channel') AND NPS__c >= 7",
        lambda r: (r["Type"] or "").startswith("Customer") and (r["NPS__c"] or 0) >= 7,
    ),
]


@pytest.mark.parametrize(("where", "expected"), WHERE_CASES, ids=[w for w, _ in WHERE_CASES])
def test_where_filters_rows_as_soql_does(
    sf_admin: SandboxAdmin, sf: Salesforce, where: str, expected: Predicate
) -> None:
    everything = _all(sf)

    matched = _all(sf, where)

    assert {r["Id"] for r in matched} == {r["Id"] for r in everything if expected(r)}
    assert 0 < len(matched) < len(everything), "the demo data should make this case meaningful"


def test_datetime_literals_filter_on_system_modstamp(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    everything = sorted(_all(sf), key=lambda r: r["SystemModstamp"])
    # A row from the middle with milliseconds (like 2026-05-01T10:00:00.123+0000): the seeded
    # stamps follow the clock, and one on a whole second would not be later than its literal.
    middle = next(
        r["SystemModstamp"]
        for r in everything[25:]
        if not r["SystemModstamp"].endswith(".000+0000")
    )
    literal = middle[:19] + "Z"  # 2026-05-01T10:00:00Z: the row itself is later

    later = _all(sf, f"SystemModstamp > {literal}")
    at_most = _all(sf, f"SystemModstamp <= {middle[:19]}+00:00")

    cut = middle[:19] + ".000+0000"
    assert {r["Id"] for r in later} == {r["Id"] for r in everything if r["SystemModstamp"] > cut}
    assert {r["Id"] for r in at_most} == {r["Id"] for r in everything if r["SystemModstamp"] <= cut}
    assert middle in {r["SystemModstamp"] for r in later}


def test_ids_compare_in_15_and_18_characters(sf_admin: SandboxAdmin, sf: Salesforce) -> None:
    ids = [row["Id"] for row in _all(sf)[:3]]

    rows = _all(sf, f"Id IN ('{ids[0]}', '{ids[1][:15]}') OR Id = '{ids[2]}'")
    after = _all(sf, f"Id > '{ids[1]}'")

    assert sorted(r["Id"] for r in rows) == sorted(ids)
    assert len(after) == 48


def test_order_by_puts_nulls_first_ascending_and_last_descending(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    ascending = sf.query("SELECT NPS__c, Name FROM Account ORDER BY NPS__c, Name")["records"]
    descending = sf.query("SELECT NPS__c FROM Account ORDER BY NPS__c DESC")["records"]
    nulls_last = sf.query("SELECT NPS__c FROM Account ORDER BY NPS__c ASC NULLS LAST")["records"]

    scores = [r["NPS__c"] for r in ascending]
    nulls = scores.count(None)
    assert 0 < nulls < len(scores)
    assert scores[:nulls] == [None] * nulls
    assert scores[nulls:] == sorted(scores[nulls:])
    tied = [r["Name"].lower() for r in ascending if r["NPS__c"] is None]
    assert tied == sorted(tied)
    assert [r["NPS__c"] for r in descending][: len(scores) - nulls] == sorted(
        scores[nulls:], reverse=True
    )
    assert [r["NPS__c"] for r in nulls_last][-nulls:] == [None] * nulls


def test_limit_offset_and_count(sf_admin: SandboxAdmin, sf: Salesforce) -> None:
    ordered = [r["Id"] for r in sf.query("SELECT Id FROM Account ORDER BY Name")["records"]]

    cut = sf.query("SELECT Id FROM Account ORDER BY Name LIMIT 5 OFFSET 10")
    counted = sf.query("SELECT COUNT() FROM Account WHERE NumberOfEmployees > 100")

    assert [r["Id"] for r in cut["records"]] == ordered[10:15]
    assert cut["totalSize"] == 5
    assert counted["records"] == []
    assert counted["totalSize"] == len(_all(sf, "NumberOfEmployees > 100"))


def test_field_and_object_names_are_case_insensitive_and_come_back_canonical(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    row = sf.query("select id, name, numberofemployees from account limit 1")["records"][0]

    assert list(row) == ["attributes", "Id", "Name", "NumberOfEmployees"]


def test_opportunities_are_queryable_with_their_outcome(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    won = sf.query_all(
        "SELECT AccountId, StageName, Amount, IsWon, IsClosed, CloseDate FROM Opportunity "
        "WHERE IsWon = true"
    )["records"]
    open_ = sf.query("SELECT COUNT() FROM Opportunity WHERE IsClosed = false")["totalSize"]
    total = sf.query("SELECT COUNT() FROM Opportunity")["totalSize"]

    assert total == 100  # 50 accounts, 2 opportunities each
    assert won and all(r["StageName"] == "Closed Won" and r["IsClosed"] for r in won)
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["CloseDate"]) for r in won)
    assert all(isinstance(r["Amount"], float) for r in won)
    assert 0 < open_ < total


@pytest.mark.parametrize(
    ("soql", "error_code", "says"),
    [
        ("SELECT FROM Account", "MALFORMED_QUERY", "unexpected token: FROM"),
        ("SELECT Name FROM Account WHERE", "MALFORMED_QUERY", "unexpected token: <EOF>"),
        (
            "SELECT Name FROM Account WHERE Industry = 'Retail' AND Type = 'Prospect' OR Name = 'x'",
            "MALFORMED_QUERY",
            "unexpected token: OR",
        ),
        (
            "SELECT Id FROM Account HAVING COUNT(Id) > 1",
            "MALFORMED_QUERY",
            "unexpected token: HAVING",
        ),
        (
            "SELECT Id FROM Account WITH SECURITY_ENFORCED",
            "MALFORMED_QUERY",
            "unexpected token: WITH",
        ),
        (
            "SELECT Name, COUNT(Id) FROM Account GROUP BY Industry",
            "MALFORMED_QUERY",
            "Field must be grouped or aggregated: Name",
        ),
        (
            "SELECT FIELDS(ALL) FROM Account",
            "MALFORMED_QUERY",
            "The SOQL FIELDS function must have a LIMIT of at most 200",
        ),
        (
            "SELECT Id FROM Account WHERE CreatedDate = LAST_N_WEEKDAYS:3",
            "MALFORMED_QUERY",
            "unexpected token: LAST_N_WEEKDAYS:3",
        ),
        ("SELECT Name, name FROM Account", "MALFORMED_QUERY", "duplicate field selected: Name"),
        ("SELECT Name FROM Account LIMIT ten", "MALFORMED_QUERY", "unexpected token: ten"),
        (
            "SELECT Name FROM Account WHERE Name = 'unclosed",
            "MALFORMED_QUERY",
            "no viable alternative",
        ),
        ("SELECT Nme FROM Account", "INVALID_FIELD", "No such column 'Nme' on entity 'Account'"),
        ("SELECT Campaign.Name FROM Opportunity", "INVALID_FIELD", "relationship 'Campaign'"),
        ("SELECT Account.Nme FROM Contact", "INVALID_FIELD", "No such column 'Nme' on entity"),
        ("SELECT Id FROM Acount", "INVALID_TYPE", "sObject type 'Acount' is not supported"),
        (
            "SELECT Id FROM Account WHERE NumberOfEmployees > '10'",
            "INVALID_FIELD",
            "must be of type integer and should not be enclosed in quotes",
        ),
        (
            "SELECT Id FROM Account WHERE SystemModstamp > '2026-01-01'",
            "INVALID_FIELD",
            "must be of type dateTime",
        ),
        (
            "SELECT Id FROM Account WHERE Name = 42",
            "INVALID_FIELD",
            "must be of type string and should be enclosed in quotes",
        ),
        (
            "SELECT Id FROM Account WHERE Id = 'nope'",
            "INVALID_QUERY_FILTER_OPERATOR",
            "invalid ID field: nope",
        ),
    ],
)
def test_queries_outside_the_subset_or_the_schema_are_refused(
    sf: Salesforce, soql: str, error_code: str, says: str
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.query(soql)

    error = _error(refused)
    assert refused.value.status == 400
    assert error["errorCode"] == error_code
    assert says in error["message"]


def test_a_malformed_query_points_at_the_offending_token(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.query("SELECT Name FROM Account ORDER Name")

    assert _error(refused)["message"] == (
        "\nSELECT Name FROM Account ORDER Name\n"
        "                               ^\n"
        "ERROR at Row:1:Column:32\nunexpected token: Name"
    )


def test_an_unknown_locator_is_an_invalid_query_locator(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.query_more("/services/data/v59.0/query/01g5g0000XXXXXXAAA-2000", identifier_is_url=True)

    assert _error(refused)["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_an_eleventh_open_locator_releases_the_oldest(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    sf_admin.post("reset", {"seed": 7, "accounts": 400})
    urls = [sf.query("SELECT Id FROM Account", headers=BATCH)["nextRecordsUrl"] for _ in range(11)]

    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.query_more(urls[0], identifier_is_url=True)

    assert _error(refused)["errorCode"] == "INVALID_QUERY_LOCATOR"
    assert len(sf.query_more(urls[1], identifier_is_url=True)["records"]) == 200


def test_a_locator_is_released_once_its_last_batch_is_read(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    sf_admin.post("reset", {"seed": 7, "accounts": 300})
    url = sf.query("SELECT Id FROM Account", headers=BATCH)["nextRecordsUrl"]
    last = sf.query_more(url, identifier_is_url=True)

    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.query_more(url, identifier_is_url=True)

    assert last["done"] is True
    assert _error(refused)["errorCode"] == "INVALID_QUERY_LOCATOR"
