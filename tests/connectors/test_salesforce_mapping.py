"""The pure parts of the Salesforce connector, on Salesforce's documented JSON shapes: SOQL rows
to canonical fields, write-back payloads, SaveResults, describe checks and error bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.base import CanonicalAccount, FatalError, WriteResult
from connectors.salesforce.mapping import (
    ICP_FIELDS,
    FieldDefinitions,
    FieldInfo,
    FieldMapping,
    parse_salesforce_datetime,
    save_results,
    schema_problem,
    soql_datetime,
    update_records,
    writeback_fields,
)
from connectors.salesforce.retry import backoff_delay, error_details

DEMO_SETTINGS: dict[str, Any] = {
    "field_map": {
        "funding_stage": "Funding_Stage__c",
        "total_funding": "Total_Funding__c",
        "nps": "NPS__c",
        "tech_stack": "Tech_Stack__c",
    },
    "extra_properties": ["Has_Inhouse_SEO__c", "Is_Competitor__c"],
}

# A queryAll row as the REST API returns it (SOQL result, JSON-typed values).
ROW: dict[str, Any] = {
    "attributes": {
        "type": "Account",
        "url": "/services/data/v59.0/sobjects/Account/001Dn00000A1b2cIAB",
    },
    "Id": "001Dn00000A1b2cIAB",
    "IsDeleted": False,
    "SystemModstamp": "2024-05-06T07:08:09.000+0000",
    "Name": "  Northwind Media ",
    "Website": "https://www.Northwind-Media.com/about",
    "Industry": "Online Media",
    "NumberOfEmployees": 120,
    "AnnualRevenue": 12500000.0,
    "BillingCountry": "United States",
    "BillingState": "CA",
    "BillingCity": "San Francisco",
    "Type": "Customer - Direct",
    "Funding_Stage__c": "series_b",
    "Total_Funding__c": 8000000.0,
    "NPS__c": 42.0,
    "Tech_Stack__c": "Contentful;React; ",
    "Has_Inhouse_SEO__c": True,
    "Is_Competitor__c": False,
}

DESCRIBE: dict[str, Any] = {
    "name": "Account",
    "fields": [
        {"name": "Has_Inhouse_SEO__c", "type": "boolean", "updateable": True},
        {"name": "Is_Competitor__c", "type": "boolean", "updateable": True},
        {"name": "Segments__c", "type": "multipicklist", "updateable": True},
        {"name": "Seats__c", "type": "double", "precision": 18, "scale": 0},
    ],
}


def _mapping(**settings: Any) -> FieldMapping:
    return FieldMapping.from_settings({**DEMO_SETTINGS, **settings})


def test_a_soql_row_maps_to_typed_canonical_fields() -> None:
    record = _mapping().to_record(ROW, definitions=FieldDefinitions.from_describe(DESCRIBE))

    assert record.external_id == "001Dn00000A1b2cIAB"
    assert record.archived is False
    assert record.crm_updated_at == datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert record.fields == {
        "name": "Northwind Media",
        "domain": "northwind-media.com",
        "industry": "Online Media",
        "employees": 120,
        "annual_revenue": 12500000.0,
        "country": "US",
        "region": "CA",
        "city": "San Francisco",
        "lifecycle_stage": "Customer - Direct",
        "is_customer": True,
        "funding_stage": "series_b",
        "total_funding": 8000000.0,
        "nps": 42,
        "tech_stack": ["Contentful", "React"],
        "attributes": {"Has_Inhouse_SEO__c": True, "Is_Competitor__c": False},
    }
    CanonicalAccount(external_id=record.external_id, **record.fields)


def test_a_deleted_row_is_archived() -> None:
    record = _mapping().to_record({**ROW, "IsDeleted": True})

    assert record.archived is True


@pytest.mark.parametrize(
    ("account_type", "is_customer"),
    [
        ("Customer - Channel", True),
        ("customer", True),
        ("Prospect", False),
        ("Channel Partner / Reseller", False),
        (None, None),
        ("", None),
    ],
)
def test_is_customer_means_a_type_starting_with_customer_and_no_type_is_unknown(
    account_type: str | None, is_customer: bool | None
) -> None:
    record = _mapping().to_record({**ROW, "Type": account_type})

    assert record.fields["is_customer"] is is_customer


def test_unparseable_values_become_none_instead_of_failing_the_record() -> None:
    row = {**ROW, "NumberOfEmployees": "lots", "NPS__c": 7.5, "SystemModstamp": "soon"}

    record = _mapping().to_record(row)

    assert record.fields["employees"] is None
    assert record.fields["nps"] is None
    assert record.crm_updated_at is None
    assert record.fields["name"] == "Northwind Media"


def test_extra_fields_are_typed_by_their_describe_and_empty_ones_left_out() -> None:
    mapping = _mapping(extra_properties=["Segments__c", "Seats__c", "Has_Inhouse_SEO__c"])
    row = {**ROW, "Segments__c": "Media;Publishing", "Seats__c": 25.0, "Has_Inhouse_SEO__c": None}

    record = mapping.to_record(row, definitions=FieldDefinitions.from_describe(DESCRIBE))

    assert record.fields["attributes"] == {"Segments__c": ["Media", "Publishing"], "Seats__c": 25}


def test_extra_fields_given_as_a_dict_are_renamed_so_one_icp_reads_every_crm() -> None:
    mapping = _mapping(
        extra_properties={
            "has_inhouse_seo": "Has_Inhouse_SEO__c",
            "is_competitor": "Is_Competitor__c",
        }
    )

    record = mapping.to_record(ROW, definitions=FieldDefinitions.from_describe(DESCRIBE))

    assert record.fields["attributes"] == {"has_inhouse_seo": True, "is_competitor": False}
    assert "Has_Inhouse_SEO__c" in mapping.fields_to_read()


def test_the_select_list_has_the_envelope_and_only_fields_the_org_has() -> None:
    definitions = FieldDefinitions.from_describe(
        {"fields": [{"name": n, "type": "string"} for n in ("Name", "Website", "NPS__c")]}
    )

    assert _mapping().fields_to_read(definitions) == [
        "Id",
        "IsDeleted",
        "SystemModstamp",
        "NPS__c",
        "Name",
        "Website",
    ]
    assert "Funding_Stage__c" in _mapping().fields_to_read()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"field_map": {"score": "Score__c"}}, "not a mappable canonical field"),
        ({"field_map": {"external_id": "Id"}}, "not a mappable canonical field"),
        ({"field_map": {"nps": "NPS__c FROM Account --"}}, "API names"),
        ({"extra_properties": ["ICP_Tier__c"]}, "written by icp-sync"),
        ({"extra_properties": {"tier": "ICP_Tier__c"}}, "written by icp-sync"),
        ({"field_map": {"lifecycle_stage": "icp_tier__c"}}, "written by icp-sync"),
    ],
)
def test_settings_that_would_read_our_own_fields_or_inject_soql_are_refused(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(FatalError, match=message):
        FieldMapping.from_settings(settings)


def test_a_none_source_unmaps_a_default_field() -> None:
    mapping = FieldMapping.from_settings({"field_map": {"domain": None}})

    assert "domain" not in mapping.to_record(ROW).fields


def test_salesforce_datetimes_parse_and_soql_literals_floor_to_seconds() -> None:
    moment = datetime(2024, 5, 6, 7, 8, 9, 999000, tzinfo=UTC)

    assert parse_salesforce_datetime("2024-05-06T07:08:09.999+0000") == moment
    assert parse_salesforce_datetime("2024-05-06T09:08:09.999+02:00") == moment
    assert parse_salesforce_datetime("") is None
    assert soql_datetime(moment) == "2024-05-06T07:08:09Z"


def test_writeback_values_become_json_typed_icp_fields() -> None:
    fields = writeback_fields(
        {
            "score": 85.0,
            "tier": "a",
            "is_mql": True,
            "is_sql": "false",
            "reasons": "A 85 · +25 New media",
            "version": "US new media v3",
            "scored_at": "2025-01-02T03:04:05.678+02:00",
            "lifecycle_stage": "salesqualifiedlead",
        }
    )

    assert fields == {
        "ICP_Fit_Score__c": 85,
        "ICP_Tier__c": "A",
        "ICP_Is_MQL__c": True,
        "ICP_Is_SQL__c": False,
        "ICP_Fit_Reasons__c": "A 85 · +25 New media",
        "ICP_Version__c": "US new media v3",
        "ICP_Scored_At__c": "2025-01-02T01:04:05.678Z",
    }


def test_only_the_values_given_are_written_none_clears_and_long_text_is_cut() -> None:
    fields = writeback_fields({"reasons": None, "version": "v" * 300})

    assert fields == {"ICP_Fit_Reasons__c": None, "ICP_Version__c": "v" * 255}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"tier": "E"}, "ICP_Tier__c"),
        ({"score": 101}, "ICP_Fit_Score__c"),
        ({"is_sql": "perhaps"}, "ICP_Is_SQL__c"),
        ({"scored_at": "last tuesday"}, "ICP_Scored_At__c"),
    ],
)
def test_values_salesforce_would_refuse_are_refused_before_sending(
    values: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        writeback_fields(values)


def test_the_update_body_is_an_sobject_collection_that_is_not_all_or_none() -> None:
    body = update_records({"001A": {"ICP_Tier__c": "A"}, "001B": {"ICP_Fit_Score__c": 40}})

    assert body == {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "Account"}, "id": "001A", "ICP_Tier__c": "A"},
            {"attributes": {"type": "Account"}, "id": "001B", "ICP_Fit_Score__c": 40},
        ],
    }


def test_save_results_are_matched_to_records_by_position_with_their_errors() -> None:
    response = [
        {"id": "001A", "success": True, "errors": []},
        {
            "success": False,
            "errors": [
                {
                    "statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                    "message": "Tier is locked",
                    "fields": ["ICP_Tier__c"],
                }
            ],
        },
        {
            "id": "001C",
            "success": False,
            "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain lock"}],
        },
    ]

    outcomes = save_results(["001A", "001B", "001C", "001D"], response)

    assert outcomes == {
        "001A": WriteResult("001A", ok=True),
        "001B": WriteResult(
            "001B",
            ok=False,
            error="FIELD_CUSTOM_VALIDATION_EXCEPTION: Tier is locked (fields: ICP_Tier__c)",
            retriable=False,
        ),
        "001C": WriteResult(
            "001C", ok=False, error="UNABLE_TO_LOCK_ROW: unable to obtain lock", retriable=True
        ),
        "001D": WriteResult(
            "001D", ok=False, error="Salesforce returned no result", retriable=True
        ),
    }


def _field(**info: Any) -> FieldInfo:
    return FieldInfo.from_describe({"name": "x", **info})


def test_schema_checks_say_how_to_create_a_missing_field_in_setup() -> None:
    problem = schema_problem(ICP_FIELDS["tier"], None)

    assert problem is not None
    assert "Object Manager → Account → Fields & Relationships → New" in problem
    assert "Picklist" in problem
    assert "A, B, C, D" in problem
    assert "field-level security" in problem
    assert "ICP_Tier__c" in problem


@pytest.mark.parametrize(
    ("key", "existing", "complaint"),
    [
        ("score", {"type": "string", "length": 3}, "exists as a string field"),
        ("reasons", {"type": "textarea", "length": 255}, "holds only 255 characters"),
        (
            "tier",
            {"type": "picklist", "picklistValues": [{"value": "A", "active": True}]},
            "lacks the picklist values B, C, D",
        ),
        ("is_mql", {"type": "boolean", "updateable": False}, "cannot edit it"),
    ],
)
def test_schema_checks_find_fields_that_cannot_take_our_values(
    key: str, existing: dict[str, Any], complaint: str
) -> None:
    problem = schema_problem(ICP_FIELDS[key], _field(**existing))

    assert problem is not None
    assert complaint in problem


def test_fields_created_as_instructed_pass_the_schema_check() -> None:
    tiers = [{"value": t, "active": True} for t in "ABCD"]
    created = {
        "score": _field(type="double", precision=3, scale=0),
        "tier": _field(type="picklist", picklistValues=tiers),
        "is_mql": _field(type="boolean"),
        "is_sql": _field(type="boolean"),
        "reasons": _field(type="textarea", length=32768),
        "version": _field(type="string", length=255),
        "scored_at": _field(type="datetime"),
    }

    assert {
        key: schema_problem(ICP_FIELDS[key], info) for key, info in created.items()
    } == dict.fromkeys(created)


def test_error_bodies_give_salesforce_s_code_and_message() -> None:
    error = SalesforceMalformedRequest(
        "https://x/query",
        400,
        "query",
        [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}],
    )
    oauth = SalesforceMalformedRequest(
        "https://x/token", 400, "token", {"error": "invalid_grant", "error_description": "expired"}
    )

    assert error_details(error) == ("INVALID_QUERY_LOCATOR", "invalid query locator")
    assert error_details(oauth) == ("invalid_grant", "expired")


def test_backoff_is_full_jitter_under_an_exponential_ceiling_capped_at_30s() -> None:
    assert backoff_delay(0, rng=lambda: 1.0) == 0.5
    assert backoff_delay(3, rng=lambda: 0.5) == 2.0
    assert backoff_delay(20, rng=lambda: 1.0) == 30.0
    assert backoff_delay(5, rng=lambda: 0.0) == 0.0


def test_nul_characters_in_crm_values_are_stripped_at_the_edge() -> None:
    row = {**ROW, "Name": "North\x00wind Media", "Tech_Stack__c": "Contentful;Re\x00act"}
    record = _mapping().to_record(row, definitions=FieldDefinitions.from_describe(DESCRIBE))

    assert record.fields["name"] == "Northwind Media"
    assert record.fields["tech_stack"] == ["Contentful", "React"]
