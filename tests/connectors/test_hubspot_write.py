"""Writing verdicts to HubSpot: the icp_* schema, batch updates and per-record results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.properties import OptionInput, PropertyCreate

from connectors.base import WRITEBACK_FIELDS, WriteBack, WriteResult
from connectors.hubspot import HubSpotConnector
from connectors.sandbox.common.admin_client import SandboxAdmin

ICP_PROPERTY_NAMES = [
    "icp_fit_score",
    "icp_tier",
    "icp_is_mql",
    "icp_is_sql",
    "icp_fit_reasons",
    "icp_version",
    "icp_scored_at",
]


def _verdict(**overrides: Any) -> dict[str, Any]:
    return {
        "score": 85,
        "tier": "A",
        "is_mql": True,
        "is_sql": False,
        "reasons": "A 85 · +25 New media · +20 Based in the US",
        "version": "US new media v3",
        "scored_at": "2025-03-04T05:06:07+00:00",
        **overrides,
    }


def _ids(client: HubSpot, count: int) -> list[str]:
    return [r.id for r in client.crm.companies.basic_api.get_page(limit=count).results]


def _stored(admin: SandboxAdmin, company_id: str) -> dict[str, Any]:
    properties: dict[str, Any] = admin.get(f"companies/{company_id}")["properties"]
    return properties


def test_ensure_schema_creates_the_group_and_every_icp_property(
    connector: HubSpotConnector, hubspot: HubSpot
) -> None:
    report = connector.ensure_schema()

    assert report.ok
    assert report.created == ICP_PROPERTY_NAMES
    assert report.present == []
    properties = hubspot.crm.properties.core_api
    tier = properties.get_by_name("companies", "icp_tier")
    assert (tier.type, tier.field_type, tier.group_name) == ("enumeration", "select", "icp_sync")
    assert [o.value for o in tier.options] == ["A", "B", "C", "D"]
    kinds = {
        name: (p.type, p.field_type)
        for name in ICP_PROPERTY_NAMES
        for p in [properties.get_by_name("companies", name)]
    }
    assert kinds == {
        "icp_fit_score": ("number", "number"),
        "icp_tier": ("enumeration", "select"),
        "icp_is_mql": ("bool", "booleancheckbox"),
        "icp_is_sql": ("bool", "booleancheckbox"),
        "icp_fit_reasons": ("string", "textarea"),
        "icp_version": ("string", "text"),
        "icp_scored_at": ("datetime", "date"),
    }
    group = hubspot.crm.properties.groups_api.get_by_name("companies", "icp_sync")
    assert group.label == "ICP Sync"


def test_ensure_schema_twice_creates_nothing_the_second_time(
    connector: HubSpotConnector, hubspot_admin: SandboxAdmin
) -> None:
    connector.ensure_schema()
    calls_before = hubspot_admin.stats()["total"]

    again = connector.ensure_schema()

    assert again.created == []
    assert again.present == ICP_PROPERTY_NAMES
    assert again.ok
    assert hubspot_admin.stats()["total"] - calls_before == 1  # one read of the definitions


def test_ensure_schema_reports_an_existing_property_it_cannot_write_with_the_fix(
    connector: HubSpotConnector, hubspot: HubSpot
) -> None:
    hubspot.crm.properties.core_api.create(
        "companies",
        PropertyCreate(
            name="icp_tier",
            label="Tier (hand-made)",
            type="enumeration",
            field_type="select",
            group_name="companyinformation",
            options=[OptionInput(label="Gold", value="gold", display_order=0, hidden=False)],
        ),
    )

    report = connector.ensure_schema()

    assert not report.ok
    assert "icp_tier" not in report.created
    assert "lacks the options A, B, C, D" in report.missing["icp_tier"]
    assert len(report.created) == len(ICP_PROPERTY_NAMES) - 1


def test_ensure_schema_checks_the_native_properties_the_settings_write(
    make_connector: Callable[..., HubSpotConnector],
) -> None:
    connector = make_connector(
        settings={"write_ideal_customer_profile": True, "promote_lifecycle": True}
    )

    report = connector.ensure_schema()

    assert {"hs_ideal_customer_profile", "lifecyclestage"} <= set(report.present)


def test_write_batch_writes_values_hubspot_reads_back(
    connector: HubSpotConnector, hubspot: HubSpot, hubspot_admin: SandboxAdmin
) -> None:
    connector.ensure_schema()
    first, second = _ids(hubspot, 2)

    results = connector.write_batch(
        [
            WriteBack(first, _verdict()),
            WriteBack(second, _verdict(score=42, tier="C", is_mql=False, is_sql=False)),
        ]
    )

    assert results == [WriteResult(first, ok=True), WriteResult(second, ok=True)]
    stored = _stored(hubspot_admin, first)
    assert {name: stored[name] for name in ICP_PROPERTY_NAMES} == {
        "icp_fit_score": "85",
        "icp_tier": "A",
        "icp_is_mql": "true",
        "icp_is_sql": "false",
        "icp_fit_reasons": "A 85 · +25 New media · +20 Based in the US",
        "icp_version": "US new media v3",
        "icp_scored_at": "2025-03-04T05:06:07.000Z",
    }
    assert (
        _stored(hubspot_admin, second)["icp_fit_score"],
        _stored(hubspot_admin, second)["icp_tier"],
    ) == (
        "42",
        "C",
    )
    assert "hs_ideal_customer_profile" not in stored
    assert set(WRITEBACK_FIELDS) == set(_verdict())


def test_write_batch_sends_one_call_for_a_hundred_updates(
    connector: HubSpotConnector, hubspot: HubSpot, hubspot_admin: SandboxAdmin
) -> None:
    hubspot_admin.reset(seed=2, companies=100, deals_per_company=0)
    connector.ensure_schema()
    ids = [r.id for r in hubspot.crm.companies.basic_api.get_page(limit=100).results]
    calls_before = connector.api_calls

    results = connector.write_batch([WriteBack(i, _verdict(score=n)) for n, i in enumerate(ids)])

    assert all(r.ok for r in results)
    assert [r.external_id for r in results] == ids
    assert connector.api_calls - calls_before == 1
    assert _stored(hubspot_admin, ids[57])["icp_fit_score"] == "57"
    with pytest.raises(ValueError, match="at most 100"):
        connector.write_batch([WriteBack(ids[0], _verdict())] * 101)


def test_a_partial_failure_gives_each_record_its_own_result(
    connector: HubSpotConnector, hubspot: HubSpot, hubspot_admin: SandboxAdmin
) -> None:
    connector.ensure_schema()
    first, second = _ids(hubspot, 2)

    results = connector.write_batch(
        [
            WriteBack(first, _verdict()),
            WriteBack("424242", _verdict()),
            WriteBack(second, _verdict()),
        ]
    )

    assert [r.ok for r in results] == [True, False, True]
    assert results[1].external_id == "424242"
    assert results[1].retriable is False
    assert "Could not update" in (results[1].error or "")
    assert _stored(hubspot_admin, second)["icp_tier"] == "A"


def test_a_batch_hubspot_refuses_as_a_whole_fails_every_record_for_good(
    connector: HubSpotConnector, hubspot: HubSpot
) -> None:
    # No ensure_schema: the icp_* properties do not exist, so HubSpot answers 400.
    ids = _ids(hubspot, 3)

    results = connector.write_batch([WriteBack(i, _verdict()) for i in ids])

    assert [r.external_id for r in results] == ids
    assert all(not r.ok and not r.retriable for r in results)
    assert all("icp_fit_score" in (r.error or "") and "(400)" in (r.error or "") for r in results)


def test_a_value_hubspot_would_refuse_fails_only_its_record_without_being_sent(
    connector: HubSpotConnector, hubspot: HubSpot, hubspot_admin: SandboxAdmin
) -> None:
    connector.ensure_schema()
    first, second = _ids(hubspot, 2)

    results = connector.write_batch(
        [
            WriteBack(first, _verdict(tier="E")),
            WriteBack(second, _verdict(score=101)),
            WriteBack(first, _verdict(tier="B")),
        ]
    )

    assert [r.ok for r in results] == [False, False, True]
    assert "icp_tier" in (results[0].error or "")
    assert "icp_fit_score" in (results[1].error or "")
    assert _stored(hubspot_admin, first)["icp_tier"] == "B"
    assert "icp_tier" not in _stored(hubspot_admin, second)


def test_updates_of_one_company_in_a_batch_are_merged_not_refused(
    connector: HubSpotConnector, hubspot: HubSpot, hubspot_admin: SandboxAdmin
) -> None:
    connector.ensure_schema()
    [company] = _ids(hubspot, 1)

    results = connector.write_batch(
        [WriteBack(company, _verdict(tier="C")), WriteBack(company, {"tier": "B"})]
    )

    assert [r.ok for r in results] == [True, True]
    assert _stored(hubspot_admin, company)["icp_tier"] == "B"
    assert _stored(hubspot_admin, company)["icp_fit_score"] == "85"


def test_the_native_ideal_customer_profile_tier_follows_the_icp_tier_when_asked(
    make_connector: Callable[..., HubSpotConnector], hubspot: HubSpot, hubspot_admin: SandboxAdmin
) -> None:
    connector = make_connector(settings={"write_ideal_customer_profile": True})
    connector.ensure_schema()
    a, c, d = _ids(hubspot, 3)
    connector.write_batch(
        [
            WriteBack(a, _verdict(tier="A")),
            WriteBack(c, _verdict(tier="C")),
            WriteBack(d, _verdict(tier="A")),
        ]
    )

    connector.write_batch([WriteBack(d, _verdict(tier="D"))])

    assert _stored(hubspot_admin, a)["hs_ideal_customer_profile"] == "tier_1"
    assert _stored(hubspot_admin, c)["hs_ideal_customer_profile"] == "tier_3"
    assert "hs_ideal_customer_profile" not in _stored(hubspot_admin, d)


def test_lifecycle_promotion_moves_stages_forward_only(
    make_connector: Callable[..., HubSpotConnector], hubspot: HubSpot, hubspot_admin: SandboxAdmin
) -> None:
    connector = make_connector(settings={"promote_lifecycle": True})
    connector.ensure_schema()
    lead, customer, unknown, mql = _ids(hubspot, 4)
    hubspot_admin.edits(ids=[lead, unknown], properties={"lifecyclestage": "lead"})
    hubspot_admin.edits(ids=[customer], properties={"lifecyclestage": "customer"})
    hubspot_admin.edits(ids=[mql], properties={"lifecyclestage": "marketingqualifiedlead"})

    results = connector.write_batch(
        [
            WriteBack(lead, _verdict(is_mql=True, current_lifecycle_stage="Lead")),
            WriteBack(customer, _verdict(is_sql=True, current_lifecycle_stage="customer")),
            WriteBack(unknown, _verdict(is_sql=True)),  # current stage not known: left alone
            WriteBack(mql, _verdict(is_sql=True, current_lifecycle_stage="marketingqualifiedlead")),
        ]
    )

    assert all(r.ok for r in results)
    assert _stored(hubspot_admin, lead)["lifecyclestage"] == "marketingqualifiedlead"
    assert _stored(hubspot_admin, customer)["lifecyclestage"] == "customer"
    assert _stored(hubspot_admin, unknown)["lifecyclestage"] == "lead"
    assert _stored(hubspot_admin, mql)["lifecyclestage"] == "salesqualifiedlead"


def test_written_icp_properties_never_come_back_as_account_data(
    connector: HubSpotConnector, hubspot: HubSpot
) -> None:
    connector.ensure_schema()
    [company] = _ids(hubspot, 1)
    connector.write_batch([WriteBack(company, _verdict())])

    [record] = connector.read_by_ids([company])

    assert not any("icp" in key for key in record.fields)
    assert not any(key.startswith("icp_") for key in record.fields["attributes"])
