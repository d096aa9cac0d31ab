"""Records through simple-salesforce: sObject CRUD, sObject Collections, describe, replication."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from simple_salesforce import Salesforce, SFType
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)

from connectors.sandbox.common.admin_client import SandboxAdmin

Row = dict[str, Any]
WRITEBACK = {
    "ICP_Fit_Score__c": "double",
    "ICP_Tier__c": "picklist",
    "ICP_Is_MQL__c": "boolean",
    "ICP_Is_SQL__c": "boolean",
    "ICP_Fit_Reasons__c": "textarea",
    "ICP_Version__c": "string",
    "ICP_Scored_At__c": "datetime",
}
DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000")


def _errors(raised: pytest.ExceptionInfo[SalesforceError]) -> list[Row]:
    """The parsed error list an exception carries (typed as bytes by simple-salesforce)."""
    return cast(list[Row], raised.value.content)


def _sobject(sf: Salesforce, name: str) -> SFType:
    """``sf.<name>``, typed (simple-salesforce types it as a union with the bulk handlers)."""
    return cast(SFType, getattr(sf, name))


def _ids(sf: Salesforce, count: int) -> list[str]:
    rows = sf.query(f"SELECT Id FROM Account ORDER BY Id LIMIT {count}")["records"]
    return [row["Id"] for row in rows]


def _update(sf: Salesforce, records: list[Row], *, all_or_none: bool) -> list[Row]:
    body = {
        "allOrNone": all_or_none,
        "records": [{"attributes": {"type": "Account"}, **record} for record in records],
    }
    return cast(list[Row], sf.restful("composite/sobjects", method="PATCH", json=body))


def _raw(sf_admin: SandboxAdmin, account_id: str) -> Row:
    return sf_admin.get(f"accounts/{account_id}")


def _codes(result: Row) -> list[str]:
    return [error["statusCode"] for error in result["errors"]]


def test_a_collection_update_without_all_or_none_saves_the_valid_records_and_reports_the_rest(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    good, bad_tier, gone, other = _ids(sf, 4)
    sf_admin.post("delete", {"ids": [gone]})
    unknown = "0015g0000ZZZZZZ"  # well formed (15 characters), never issued

    results = _update(
        sf,
        [
            {"id": good, "ICP_Tier__c": "A", "ICP_Fit_Score__c": 84.6, "ICP_Is_MQL__c": True},
            {"id": bad_tier, "ICP_Tier__c": "E"},
            {"id": gone, "ICP_Tier__c": "B"},
            {"id": unknown, "ICP_Tier__c": "B"},
            {"id": "not-an-id", "ICP_Tier__c": "B"},
            {"ICP_Tier__c": "B"},
            {"id": other, "SystemModstamp": "2020-01-01T00:00:00Z"},
        ],
        all_or_none=False,
    )

    assert results[0] == {"id": good, "success": True, "errors": []}
    assert [r["success"] for r in results] == [True] + [False] * 6
    assert results[1]["errors"] == [
        {
            "statusCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "message": "bad value for restricted picklist field: E",
            "fields": ["ICP_Tier__c"],
        }
    ]
    assert [_codes(r) for r in results[2:]] == [
        ["ENTITY_IS_DELETED"],
        ["INVALID_CROSS_REFERENCE_KEY"],
        ["MALFORMED_ID"],
        ["MISSING_ARGUMENT"],
        ["INVALID_FIELD_FOR_INSERT_UPDATE"],
    ]
    saved = _raw(sf_admin, good)
    assert (saved["ICP_Tier__c"], saved["ICP_Fit_Score__c"], saved["ICP_Is_MQL__c"]) == (
        "A",
        85.0,
        True,
    )
    assert _raw(sf_admin, bad_tier)["ICP_Tier__c"] is None


def test_a_collection_update_with_all_or_none_rolls_everything_back_when_one_record_fails(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    first, second, third = _ids(sf, 3)
    before = {i: _raw(sf_admin, i)["SystemModstamp"] for i in (first, second, third)}

    results = _update(
        sf,
        [
            {"id": first, "ICP_Tier__c": "A"},
            {"id": second, "ICP_Tier__c": "Z"},
            {"id": third, "ICP_Tier__c": "C"},
        ],
        all_or_none=True,
    )

    assert [r["success"] for r in results] == [False, False, False]
    assert _codes(results[1]) == ["INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"]
    assert _codes(results[0]) == _codes(results[2]) == ["ALL_OR_NONE_OPERATION_ROLLED_BACK"]
    assert results[0]["id"] == first
    for account_id, stamp in before.items():
        raw = _raw(sf_admin, account_id)
        assert (raw["ICP_Tier__c"], raw["SystemModstamp"]) == (None, stamp)


def test_a_valid_collection_update_with_all_or_none_saves_every_record(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    ids = _ids(sf, 3)

    results = _update(sf, [{"id": i, "ICP_Version__c": "ICP v2"} for i in ids], all_or_none=True)

    assert all(r["success"] for r in results)
    assert [_raw(sf_admin, i)["ICP_Version__c"] for i in ids] == ["ICP v2"] * 3


def test_a_collection_of_more_than_200_records_is_refused(sf: Salesforce) -> None:
    account_id = _ids(sf, 1)[0]

    with pytest.raises(SalesforceMalformedRequest) as refused:
        _update(sf, [{"id": account_id, "ICP_Tier__c": "A"}] * 201, all_or_none=False)

    assert _errors(refused)[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


@pytest.mark.parametrize(
    ("record", "error_code"),
    [
        ({"ICP_Tier__c": "A", "No_Such_Field__c": 1}, "INVALID_FIELD"),
        ({"ICP_Fit_Score__c": "high"}, "JSON_PARSER_ERROR"),
        ({"ICP_Scored_At__c": "yesterday"}, "JSON_PARSER_ERROR"),
    ],
)
def test_an_unknown_field_or_unreadable_value_refuses_the_whole_collection(
    sf_admin: SandboxAdmin, sf: Salesforce, record: Row, error_code: str
) -> None:
    first, second = _ids(sf, 2)

    with pytest.raises(SalesforceMalformedRequest) as refused:
        _update(
            sf, [{"id": first, "ICP_Tier__c": "B"}, {"id": second, **record}], all_or_none=False
        )

    assert _errors(refused)[0]["errorCode"] == error_code
    assert _raw(sf_admin, first)["ICP_Tier__c"] is None


def test_a_record_without_a_type_is_refused(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.restful("composite/sobjects", method="PATCH", json={"records": [{"id": _ids(sf, 1)[0]}]})

    assert _errors(refused)[0] == {
        "message": "Must send a concrete entity type.",
        "errorCode": "INVALID_TYPE",
        "fields": [],
    }


def test_values_are_written_and_read_back_json_typed(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    account_id = _ids(sf, 1)[0]
    _update(
        sf,
        [
            {
                "id": account_id,
                "ICP_Fit_Score__c": "72",
                "ICP_Is_SQL__c": "true",
                "ICP_Scored_At__c": "2026-11-23T10:00:00+01:00",
                "ICP_Fit_Reasons__c": "B 72 · +25 New media",
                "NumberOfEmployees": 120.0,
            }
        ],
        all_or_none=False,
    )

    row = _sobject(sf, "Account").get(account_id)

    assert row["ICP_Fit_Score__c"] == 72.0
    assert row["ICP_Is_SQL__c"] is True
    assert row["ICP_Is_MQL__c"] is False
    assert row["ICP_Scored_At__c"] == "2026-11-23T09:00:00.000+0000"
    assert row["ICP_Fit_Reasons__c"] == "B 72 · +25 New media"
    assert row["NumberOfEmployees"] == 120 and isinstance(row["NumberOfEmployees"], int)
    assert DATETIME.fullmatch(row["CreatedDate"]) and DATETIME.fullmatch(row["SystemModstamp"])
    assert row["attributes"]["type"] == "Account"


def test_every_save_bumps_system_modstamp_even_without_a_change(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    account_id = _ids(sf, 1)[0]
    name = _raw(sf_admin, account_id)["Name"]
    before = _raw(sf_admin, account_id)["SystemModstamp"]

    _update(sf, [{"id": account_id, "Name": name}], all_or_none=False)

    after = _raw(sf_admin, account_id)
    assert after["SystemModstamp"] > before
    assert after["LastModifiedDate"] == after["SystemModstamp"]


def test_a_collection_create_returns_new_ids_in_request_order(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    body = {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "Account"}, "Name": "Acme Media", "Industry": "Online Media"},
            {"attributes": {"type": "Account"}, "Industry": "Publishing"},
            {"attributes": {"type": "Account"}, "Name": "Beta Press"},
        ],
    }

    results = cast(list[Row], sf.restful("composite/sobjects", method="POST", json=body))

    assert [r["success"] for r in results] == [True, False, True]
    assert "id" not in results[1]
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert results[1]["errors"][0]["fields"] == ["Name"]
    assert results[0]["id"] < results[2]["id"]
    assert results[0]["id"].startswith("001") and len(results[0]["id"]) == 18
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 52


def test_a_single_account_is_created_read_updated_and_deleted(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    created = _sobject(sf, "Account").create({"Name": "Gamma Studios", "Website": "gamma.io"})
    account_id = created["id"]

    status = _sobject(sf, "Account").update(account_id, {"ICP_Tier__c": "C"})
    read = _sobject(sf, "Account").get(account_id)
    deleted = _sobject(sf, "Account").delete(account_id)

    assert created == {"id": account_id, "success": True, "errors": []}
    assert status == 204
    assert (read["Name"], read["ICP_Tier__c"], read["IsDeleted"]) == ("Gamma Studios", "C", False)
    assert deleted == 204
    with pytest.raises(SalesforceResourceNotFound) as gone:
        _sobject(sf, "Account").get(account_id)
    assert _errors(gone)[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_reading_an_unknown_account_is_not_found(sf: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound) as missing:
        _sobject(sf, "Account").get("0015g0000ZZZZZZ")

    assert _errors(missing) == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    ]


def test_a_bad_value_in_a_single_update_is_answered_400(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as refused:
        _sobject(sf, "Account").update(_ids(sf, 1)[0], {"ICP_Tier__c": "Q"})

    assert _errors(refused)[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


def test_deleting_an_account_deletes_its_opportunities(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    account_id = _ids(sf, 1)[0]
    query = f"SELECT Id, IsDeleted FROM Opportunity WHERE AccountId = '{account_id}'"

    _sobject(sf, "Account").delete(account_id)

    assert sf.query(query)["totalSize"] == 0
    assert [r["IsDeleted"] for r in sf.query_all(query, include_deleted=True)["records"]] == [
        True,
        True,
    ]


def test_an_opportunity_stage_decides_whether_it_is_closed_and_won(sf: Salesforce) -> None:
    account_id = _ids(sf, 1)[0]
    created = _sobject(sf, "Opportunity").create(
        {
            "AccountId": account_id,
            "Name": "Renewal",
            "StageName": "Closed Won",
            "CloseDate": "2026-10-01",
            "Amount": 12000,
        }
    )

    row = _sobject(sf, "Opportunity").get(created["id"])

    assert (row["IsClosed"], row["IsWon"], row["Probability"], row["Amount"]) == (
        True,
        True,
        100.0,
        12000.0,
    )


def test_describe_lists_the_icp_writeback_fields_with_their_types(sf: Salesforce) -> None:
    describe = _sobject(sf, "Account").describe()

    fields = {f["name"]: f for f in describe["fields"]}
    assert describe["name"] == "Account" and describe["keyPrefix"] == "001"
    assert {name: fields[name]["type"] for name in WRITEBACK} == WRITEBACK
    assert all(fields[name]["custom"] and fields[name]["updateable"] for name in WRITEBACK)
    assert [v["value"] for v in fields["ICP_Tier__c"]["picklistValues"]] == ["A", "B", "C", "D"]
    assert fields["ICP_Tier__c"]["restrictedPicklist"] is True
    assert fields["Name"]["custom"] is False and fields["Name"]["label"] == "Account Name"
    assert fields["SystemModstamp"]["updateable"] is False
    assert fields["Tech_Stack__c"]["type"] == "multipicklist"


def test_an_org_without_the_custom_fields_describes_none_and_refuses_writes_to_them(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    sf_admin.post("reset", {"seed": 7, "accounts": 5, "custom_fields": False})

    names = {f["name"] for f in _sobject(sf, "Account").describe()["fields"]}
    with pytest.raises(SalesforceMalformedRequest) as refused:
        _update(sf, [{"id": _ids(sf, 1)[0], "ICP_Tier__c": "A"}], all_or_none=False)

    assert not names & set(WRITEBACK)
    assert "Funding_Stage__c" in names
    assert _errors(refused)[0]["errorCode"] == "INVALID_FIELD"


def test_an_admin_can_remove_a_custom_field_and_add_it_back(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    sf_admin.post("fields", {"remove": ["ICP_Tier__c"]})

    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.query("SELECT ICP_Tier__c FROM Account")
    sf_admin.post("fields", {"add": ["ICP_Tier__c"]})

    assert _errors(refused)[0]["errorCode"] == "INVALID_FIELD"
    assert sf.query("SELECT ICP_Tier__c FROM Account LIMIT 1")["records"][0]["ICP_Tier__c"] is None


def test_describe_of_an_unknown_object_is_not_found(sf: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound):
        _sobject(sf, "Lead").describe()


def test_get_updated_lists_accounts_saved_within_whole_minutes(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    now = datetime.now(UTC)
    edited = _ids(sf, 2)
    an_hour_ago = (now - timedelta(hours=1)).isoformat()
    sf_admin.edits(ids=edited, fields={"NPS__c": 9}, at=an_hour_ago)

    window = _sobject(sf, "Account").updated(now - timedelta(hours=2), now + timedelta(hours=1))
    covered = window["latestDateCovered"]
    start = (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:00Z")
    in_window = sf.query_all(
        f"SELECT Id FROM Account WHERE SystemModstamp >= {start} "
        f"AND SystemModstamp < {covered[:19]}Z"
    )

    assert set(edited) <= set(window["ids"])
    assert set(window["ids"]) == {r["Id"] for r in in_window["records"]}
    # Only whole minutes are covered: up to the start of the current one.
    assert covered.endswith(":00.000+0000")
    assert (
        now.strftime("%Y-%m-%dT%H:%M")
        <= covered[:16]
        <= datetime.now(UTC).strftime("%Y-%m-%dT%H:%M")
    )


def test_get_deleted_lists_deleted_accounts_with_their_deletion_date(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    now = datetime.now(UTC)
    deleted = _ids(sf, 3)
    when = (now - timedelta(minutes=30)).replace(microsecond=0)
    sf_admin.post("delete", {"ids": deleted, "at": when.isoformat()})

    window = _sobject(sf, "Account").deleted(now - timedelta(hours=1), now)

    assert [r["id"] for r in window["deletedRecords"]] == deleted
    assert {r["deletedDate"] for r in window["deletedRecords"]} == {
        when.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    }
    assert window["earliestDateAvailable"] < window["latestDateCovered"]


def test_replication_windows_older_than_allowed_are_refused(sf: Salesforce) -> None:
    now = datetime.now(UTC)

    with pytest.raises(SalesforceMalformedRequest) as refused:
        _sobject(sf, "Account").deleted(now - timedelta(days=20), now)

    assert _errors(refused)[0]["errorCode"] == "INVALID_REPLICATION_DATE"


def test_records_can_be_retrieved_by_ids_in_one_call(
    sf_admin: SandboxAdmin, sf: Salesforce
) -> None:
    ids = _ids(sf, 2)
    sf_admin.post("delete", {"ids": [ids[1]]})

    rows = cast(
        list[Row | None],
        sf.restful(
            "composite/sobjects/Account", params={"ids": f"{ids[0]},{ids[1]}", "fields": "Id,Name"}
        ),
    )

    assert rows[0] is not None
    assert rows[0]["Id"] == ids[0] and list(rows[0]) == ["attributes", "Id", "Name"]
    assert rows[1] is None
