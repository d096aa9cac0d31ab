"""Writing verdicts to the Salesforce sandbox through sObject Collections, and checking that the
ICP_*__c fields exist."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from simple_salesforce import Salesforce

from connectors.base import WRITEBACK_FIELDS, WriteBack
from connectors.salesforce import SalesforceConnector
from connectors.salesforce.mapping import ICP_FIELDS
from connectors.sandbox.common.admin_client import SandboxAdmin

ICP_FIELD_NAMES = [spec.name for spec in ICP_FIELDS.values()]
PATCH = "PATCH /services/data/v{version}/composite/sobjects"


def _verdict(score: int, tier: str, **extra: Any) -> dict[str, Any]:
    return {
        "score": score,
        "tier": tier,
        "is_mql": score >= 60,
        "is_sql": score >= 80,
        "reasons": f"{tier} {score} · +25 New media · ? In-house SEO (no data)",
        "version": "US new media v3",
        "scored_at": "2026-01-02T03:04:05.678Z",
        **extra,
    }


def _ids(client: Salesforce, count: int) -> list[str]:
    rows = client.query(f"SELECT Id FROM Account ORDER BY Id LIMIT {count}")["records"]
    return [row["Id"] for row in rows]


def _icp_values(client: Salesforce, ids: list[str]) -> dict[str, dict[str, Any]]:
    quoted = ", ".join(f"'{i}'" for i in ids)
    rows = client.query_all(
        f"SELECT Id, {', '.join(ICP_FIELD_NAMES)} FROM Account WHERE Id IN ({quoted})"
    )["records"]
    return {row["Id"]: {name: row[name] for name in ICP_FIELD_NAMES} for row in rows}


def test_a_batch_of_200_verdicts_is_one_call_and_reads_back_as_written(
    sf_admin: SandboxAdmin, sf_connector: SalesforceConnector, sf: Salesforce
) -> None:
    sf_admin.reset(seed=4, companies=250, deals_per_company=0)
    ids = _ids(sf, 200)
    updates = [WriteBack(i, _verdict(50 + n % 50, "ABCD"[n % 4])) for n, i in enumerate(ids)]

    results = sf_connector.write_batch(updates)

    assert [(r.external_id, r.ok) for r in results] == [(i, True) for i in ids]
    assert sf_admin.stats()["calls"][PATCH] == 1
    stored = _icp_values(sf, ids)
    for n, record_id in enumerate(ids):
        score = 50 + n % 50
        assert stored[record_id] == {
            "ICP_Fit_Score__c": score,
            "ICP_Tier__c": "ABCD"[n % 4],
            "ICP_Is_MQL__c": score >= 60,
            "ICP_Is_SQL__c": score >= 80,
            "ICP_Fit_Reasons__c": f"{'ABCD'[n % 4]} {score} · +25 New media · ? In-house SEO (no data)",
            "ICP_Version__c": "US new media v3",
            "ICP_Scored_At__c": "2026-01-02T03:04:05.678+0000",
        }


def test_the_written_verdicts_are_what_the_connector_reads_back_and_not_account_data(
    sf_connector: SalesforceConnector, sf: Salesforce
) -> None:
    record_id = _ids(sf, 1)[0]
    sf_connector.write_batch([WriteBack(record_id, _verdict(90, "A"))])

    (record,) = sf_connector.read_by_ids([record_id])

    assert not any(key.casefold().startswith("icp_") for key in record.fields["attributes"])
    assert record.crm_updated_at is not None
    assert record.crm_updated_at > datetime(2026, 1, 1, tzinfo=UTC)


def test_one_bad_record_fails_alone_with_salesforce_s_reason(
    sf_admin: SandboxAdmin, sf_connector: SalesforceConnector, sf: Salesforce
) -> None:
    first, deleted, third = _ids(sf, 3)
    sf_admin.post("delete", {"ids": [deleted]})
    unknown = "0015g0000AAAAAAAAA"

    results = sf_connector.write_batch(
        [
            WriteBack(first, _verdict(70, "B")),
            WriteBack(deleted, _verdict(70, "B")),
            WriteBack(unknown, _verdict(70, "B")),
            WriteBack(third, _verdict(20, "D")),
        ]
    )

    assert [r.ok for r in results] == [True, False, False, True]
    assert results[1].error is not None and "ENTITY_IS_DELETED" in results[1].error
    assert results[2].error is not None
    assert not results[1].retriable and not results[2].retriable
    stored = _icp_values(sf, [first, third])
    assert stored[first]["ICP_Tier__c"] == "B"
    assert stored[third]["ICP_Tier__c"] == "D"
    assert sf_admin.stats()["calls"][PATCH] == 1


def test_values_salesforce_would_refuse_fail_their_record_without_a_call(
    sf_admin: SandboxAdmin, sf_connector: SalesforceConnector, sf: Salesforce
) -> None:
    good, bad = _ids(sf, 2)

    results = sf_connector.write_batch(
        [
            WriteBack(bad, _verdict(70, "Z")),
            WriteBack("not-an-id", _verdict(70, "B")),
            WriteBack(good, _verdict(70, "B")),
        ]
    )

    assert [r.ok for r in results] == [False, False, True]
    assert results[0].error is not None and "ICP_Tier__c" in results[0].error
    assert _icp_values(sf, [bad])[bad]["ICP_Tier__c"] is None
    assert sf_admin.stats()["calls"][PATCH] == 1


def test_nothing_to_write_costs_no_call(
    sf_admin: SandboxAdmin, sf_connector: SalesforceConnector, sf: Salesforce
) -> None:
    (record_id,) = _ids(sf, 1)

    results = sf_connector.write_batch([WriteBack(record_id, {"lifecycle_stage": "customer"})])

    assert [r.ok for r in results] == [True]
    assert sf_connector.api_calls == 0
    assert PATCH not in sf_admin.stats()["calls"]


def test_repeated_updates_of_one_account_are_merged_later_values_winning(
    sf_connector: SalesforceConnector, sf: Salesforce
) -> None:
    (record_id,) = _ids(sf, 1)

    results = sf_connector.write_batch(
        [WriteBack(record_id, {"tier": "C", "score": 45}), WriteBack(record_id, {"tier": "A"})]
    )

    assert [r.ok for r in results] == [True, True]
    stored = _icp_values(sf, [record_id])[record_id]
    assert (stored["ICP_Tier__c"], stored["ICP_Fit_Score__c"]) == ("A", 45)


def test_more_than_200_updates_are_refused_before_any_call(
    sf_connector: SalesforceConnector,
) -> None:
    updates = [WriteBack(f"0015g0000M7{n:07d}", {"tier": "A"}) for n in range(201)]

    with pytest.raises(ValueError, match="at most 200"):
        sf_connector.write_batch(updates)
    assert sf_connector.api_calls == 0


def test_ensure_schema_finds_every_icp_field_on_a_prepared_org(
    sf_connector: SalesforceConnector,
) -> None:
    report = sf_connector.ensure_schema()

    assert report.ok
    assert report.present == ICP_FIELD_NAMES
    assert report.created == []
    assert len(ICP_FIELD_NAMES) == len(WRITEBACK_FIELDS)


def test_ensure_schema_names_every_missing_field_and_how_to_create_it(
    sf_admin: SandboxAdmin, sf_connector: SalesforceConnector
) -> None:
    sf_admin.reset(seed=7, companies=5, custom_fields=False)

    report = sf_connector.ensure_schema()

    assert not report.ok
    assert list(report.missing) == ICP_FIELD_NAMES
    assert report.present == [] and report.created == []
    for name, how in report.missing.items():
        assert name in how
        assert "Setup → Object Manager → Account → Fields & Relationships → New" in how
        assert "field-level security" in how
    assert "A, B, C, D" in report.missing["ICP_Tier__c"]
    assert "Checkbox" in report.missing["ICP_Is_MQL__c"]
    assert "Date/Time" in report.missing["ICP_Scored_At__c"]


def test_ensure_schema_reports_only_the_fields_an_admin_deleted(
    sf_admin: SandboxAdmin, sf_connector: SalesforceConnector
) -> None:
    sf_admin.post("fields", {"remove": ["ICP_Tier__c", "ICP_Scored_At__c"]})

    report = sf_connector.ensure_schema()

    assert sorted(report.missing) == ["ICP_Scored_At__c", "ICP_Tier__c"]
    assert len(report.present) == 5


def test_writing_to_an_org_without_the_fields_fails_every_record_without_raising(
    sf_admin: SandboxAdmin, make_sf_connector: Callable[..., SalesforceConnector]
) -> None:
    sf_admin.reset(seed=7, companies=5, custom_fields=False)
    connector = make_sf_connector()
    ids = [r.external_id for r in next(connector.read_pages(cursor=None, full=True)).records]

    results = connector.write_batch([WriteBack(i, _verdict(70, "B")) for i in ids[:3]])

    assert [r.ok for r in results] == [False, False, False]
    assert all(r.error and "INVALID_FIELD" in r.error for r in results)
    assert not any(r.retriable for r in results)
