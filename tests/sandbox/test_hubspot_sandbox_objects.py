"""CRM v3 objects and batch endpoints of the HubSpot sandbox, through the official client."""

from __future__ import annotations

import json
import time

import pytest
from hubspot import HubSpot
from hubspot.crm.companies import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.companies.exceptions import ApiException, NotFoundException

from connectors.sandbox.common.admin_client import SandboxAdmin

ICP_TIER = "hs_ideal_customer_profile"


def _all_ids(client: HubSpot, **kwargs: object) -> list[str]:
    ids: list[str] = []
    after = None
    while True:
        page = client.crm.companies.basic_api.get_page(limit=100, after=after, **kwargs)
        ids.extend(r.id for r in page.results)
        if page.paging is None:
            return ids
        after = page.paging.next.after


def test_list_pages_through_every_company_once_in_id_order(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot
) -> None:
    hubspot_admin.reset(companies=250)

    ids = _all_ids(hubspot)

    assert len(ids) == 250
    assert len(set(ids)) == 250
    assert ids == sorted(ids, key=int)


def test_list_page_carries_next_cursor_and_link(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot
) -> None:
    page = hubspot.crm.companies.basic_api.get_page(limit=20)

    assert len(page.results) == 20
    assert page.paging.next.after == str(int(page.results[-1].id) + 1)
    assert page.paging.next.link.startswith(hubspot_admin.url + "/crm/v3/objects/companies?")
    assert f"after={page.paging.next.after}" in page.paging.next.link


def test_list_defaults_to_ten_and_refuses_more_than_100_per_page(hubspot: HubSpot) -> None:
    assert len(hubspot.crm.companies.basic_api.get_page().results) == 10
    with pytest.raises(ApiException) as refused:
        hubspot.crm.companies.basic_api.get_page(limit=101)
    assert refused.value.status == 400
    assert json.loads(refused.value.body)["category"] == "VALIDATION_ERROR"


def test_records_carry_string_properties_and_hubspot_timestamps(hubspot: HubSpot) -> None:
    company = hubspot.crm.companies.basic_api.get_page(
        limit=1,
        properties=["numberofemployees", "web_technologies", "industry", "no_such_property"],
    ).results[0]

    props = company.properties
    assert set(props) == {
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
        "numberofemployees",
        "web_technologies",
        "industry",
    }
    assert props["hs_object_id"] == company.id
    assert all(v is None or isinstance(v, str) for v in props.values())
    assert props["hs_lastmodifieddate"].endswith("Z") and len(props["hs_lastmodifieddate"]) == 24
    assert company.updated_at.isoformat(timespec="milliseconds").startswith(
        props["hs_lastmodifieddate"][:23]
    )
    assert company.archived is False


def test_properties_may_be_comma_separated(hubspot_admin: SandboxAdmin) -> None:
    response = hubspot_admin.http.get(
        "/crm/v3/objects/companies",
        params={"limit": 1, "properties": "name,industry"},
        headers={"Authorization": "Bearer sandbox-token"},
    )

    assert {"name", "industry"} <= set(response.json()["results"][0]["properties"])


def test_get_by_id_returns_the_company_and_404_for_an_unknown_id(hubspot: HubSpot) -> None:
    first = hubspot.crm.companies.basic_api.get_page(limit=1).results[0]

    fetched = hubspot.crm.companies.basic_api.get_by_id(first.id, properties=["name", "domain"])

    assert fetched.id == first.id
    assert fetched.properties["name"] == first.properties["name"]
    with pytest.raises(NotFoundException):
        hubspot.crm.companies.basic_api.get_by_id("123")


def test_archived_companies_leave_the_list_and_appear_with_archived_true(hubspot: HubSpot) -> None:
    victim = hubspot.crm.companies.basic_api.get_page(limit=1).results[0].id

    hubspot.crm.companies.basic_api.archive(victim)

    assert victim not in _all_ids(hubspot)
    archived = hubspot.crm.companies.basic_api.get_page(limit=100, archived=True).results
    assert [c.id for c in archived] == [victim]
    assert archived[0].archived is True and archived[0].archived_at is not None
    with pytest.raises(NotFoundException):
        hubspot.crm.companies.basic_api.get_by_id(victim)


def test_create_returns_201_with_system_properties(hubspot: HubSpot) -> None:
    created = hubspot.crm.companies.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"name": "Acme Media", "domain": "acme.example"}
        )
    )

    assert created.properties["name"] == "Acme Media"
    assert created.properties["hs_object_id"] == created.id
    assert created.properties["createdate"] == created.properties["hs_lastmodifieddate"]


def test_a_write_that_changes_a_value_bumps_hs_lastmodifieddate_and_a_no_op_does_not(
    hubspot: HubSpot,
) -> None:
    company = hubspot.crm.companies.basic_api.get_page(limit=1, properties=["name"]).results[0]
    before = company.properties["hs_lastmodifieddate"]

    changed = hubspot.crm.companies.basic_api.update(
        company.id, SimplePublicObjectInput(properties={ICP_TIER: "tier_2"})
    )
    time.sleep(0.005)
    unchanged = hubspot.crm.companies.basic_api.update(
        company.id, SimplePublicObjectInput(properties={ICP_TIER: "tier_2"})
    )

    assert changed.properties[ICP_TIER] == "tier_2"
    assert changed.properties["hs_lastmodifieddate"] > before
    assert unchanged.properties["hs_lastmodifieddate"] == changed.properties["hs_lastmodifieddate"]


def test_values_are_normalised_to_hubspot_strings(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot
) -> None:
    company_id = hubspot.crm.companies.basic_api.get_page(limit=1).results[0].id
    response = hubspot_admin.http.patch(
        f"/crm/v3/objects/companies/{company_id}",
        json={
            "properties": {
                "numberofemployees": 120,
                "has_inhouse_seo": True,
                "nps_score": 7.0,
                "city": "",
            }
        },
        headers={"Authorization": "Bearer sandbox-token"},
    )

    assert response.status_code == 200
    stored = hubspot_admin.get(f"companies/{company_id}")["properties"]
    assert stored["numberofemployees"] == "120"
    assert stored["has_inhouse_seo"] == "true"
    assert stored["nps_score"] == "7"
    assert "city" not in stored


def test_writing_an_unknown_property_is_refused_with_property_doesnt_exist(
    hubspot: HubSpot,
) -> None:
    company_id = hubspot.crm.companies.basic_api.get_page(limit=1).results[0].id

    with pytest.raises(ApiException) as refused:
        hubspot.crm.companies.basic_api.update(
            company_id, SimplePublicObjectInput(properties={"icp_fit_score": "80"})
        )

    body = json.loads(refused.value.body)
    assert refused.value.status == 400
    assert body["status"] == "error" and body["category"] == "VALIDATION_ERROR"
    assert body["correlationId"]
    problems = json.loads(body["message"].removeprefix("Property values were not valid: "))
    assert (
        problems[0]["error"] == "PROPERTY_DOESNT_EXIST" and problems[0]["name"] == "icp_fit_score"
    )


def test_an_option_outside_the_enumeration_is_refused(hubspot: HubSpot) -> None:
    company_id = hubspot.crm.companies.basic_api.get_page(limit=1).results[0].id

    with pytest.raises(ApiException) as refused:
        hubspot.crm.companies.basic_api.update(
            company_id, SimplePublicObjectInput(properties={ICP_TIER: "tier_9"})
        )

    assert refused.value.status == 400
    assert '\\"error\\":\\"INVALID_OPTION\\"' in refused.value.body


def test_read_only_properties_cannot_be_written(hubspot: HubSpot) -> None:
    company_id = hubspot.crm.companies.basic_api.get_page(limit=1).results[0].id

    with pytest.raises(ApiException) as refused:
        hubspot.crm.companies.basic_api.update(
            company_id,
            SimplePublicObjectInput(properties={"hs_lastmodifieddate": "2020-01-01T00:00:00Z"}),
        )

    assert refused.value.status == 400 and "READ_ONLY_VALUE" in refused.value.body


def test_batch_read_returns_found_companies_and_a_207_for_unknown_ids(hubspot: HubSpot) -> None:
    ids = _all_ids(hubspot)[:3]

    result = hubspot.crm.companies.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[{"id": i} for i in [*ids, "42"]],
            properties=["name"],
            properties_with_history=[],
        )
    )

    assert sorted(r.id for r in result.results) == sorted(ids)
    assert result.status == "COMPLETE"
    assert result.num_errors == 1
    assert result.errors[0].category == "OBJECT_NOT_FOUND"
    assert result.errors[0].context == {"ids": ["42"]}


def test_batch_update_writes_every_found_company_and_reports_unknown_ids(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot
) -> None:
    ids = _all_ids(hubspot)[:5]

    result = hubspot.crm.companies.batch_api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[{"id": i, "properties": {ICP_TIER: "tier_1"}} for i in [*ids, "999"]]
        )
    )

    assert len(result.results) == 5 and result.num_errors == 1
    assert result.errors[0].category == "OBJECT_NOT_FOUND"
    assert all(hubspot_admin.get(f"companies/{i}")["properties"][ICP_TIER] == "tier_1" for i in ids)


def test_batch_update_without_failures_is_a_plain_200(hubspot: HubSpot) -> None:
    ids = _all_ids(hubspot)[:2]

    result = hubspot.crm.companies.batch_api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[{"id": i, "properties": {"nps_score": "9"}} for i in ids]
        )
    )

    assert type(result).__name__ == "BatchResponseSimplePublicObject"
    assert {r.properties["nps_score"] for r in result.results} == {"9"}


def test_a_batch_with_one_invalid_value_is_refused_whole(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot
) -> None:
    ids = _all_ids(hubspot)[:2]
    before = hubspot_admin.get(f"companies/{ids[0]}")["properties"]

    with pytest.raises(ApiException) as refused:
        hubspot.crm.companies.batch_api.update(
            BatchInputSimplePublicObjectBatchInput(
                inputs=[
                    {"id": ids[0], "properties": {"nps_score": "11"}},
                    {"id": ids[1], "properties": {"bogus": "x"}},
                ]
            )
        )

    assert refused.value.status == 400 and "bogus" in refused.value.body
    assert hubspot_admin.get(f"companies/{ids[0]}")["properties"] == before


def test_batches_over_100_inputs_are_refused(hubspot: HubSpot) -> None:
    with pytest.raises(ApiException) as refused:
        hubspot.crm.companies.batch_api.read(
            BatchReadInputSimplePublicObjectId(
                inputs=[{"id": str(i)} for i in range(101)],
                properties=[],
                properties_with_history=[],
            )
        )

    assert refused.value.status == 400


def test_batch_update_with_duplicate_ids_is_refused(hubspot: HubSpot) -> None:
    company_id = _all_ids(hubspot)[0]

    with pytest.raises(ApiException) as refused:
        hubspot.crm.companies.batch_api.update(
            BatchInputSimplePublicObjectBatchInput(
                inputs=[{"id": company_id, "properties": {"nps_score": "1"}}] * 2
            )
        )

    assert refused.value.status == 400 and "Duplicate IDs" in refused.value.body


def test_batch_create_and_archive(hubspot: HubSpot) -> None:
    created = hubspot.crm.companies.batch_api.create(
        BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[{"properties": {"name": f"New {n}"}, "associations": []} for n in range(3)]
        )
    )
    new_ids = [r.id for r in created.results]

    hubspot.crm.companies.batch_api.archive(
        BatchInputSimplePublicObjectId(inputs=[{"id": i} for i in new_ids])
    )

    assert len(new_ids) == 3
    assert not set(new_ids) & set(_all_ids(hubspot))


def test_deals_list_their_companies_in_hubspots_association_shape(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot
) -> None:
    hubspot_admin.reset(companies=5, deals_per_company=3)

    deals = hubspot.crm.deals.basic_api.get_page(
        limit=100,
        associations=["companies"],
        properties=["dealstage", "pipeline", "amount", "closedate"],
    ).results
    stages = {
        pipeline.id: {stage.id for stage in pipeline.stages}
        for pipeline in hubspot.crm.pipelines.pipelines_api.get_all("deals").results
    }

    assert len(deals) == 15
    for deal in deals:
        linked = deal.associations["companies"].results
        assert {a.type for a in linked} == {"deal_to_company", "deal_to_company_unlabeled"}
        assert deal.properties["dealstage"] in stages[deal.properties["pipeline"]]
        float(deal.properties["amount"])
    company = hubspot.crm.companies.basic_api.get_by_id(
        deals[0].associations["companies"].results[0].id, associations=["deals"]
    )
    assert {a.id for a in company.associations["deals"].results} == {d.id for d in deals[:3]}


def test_unknown_routes_answer_in_hubspots_error_shape_and_count_as_unmatched(
    hubspot_admin: SandboxAdmin,
) -> None:
    auth = {"Authorization": "Bearer sandbox-token"}
    missing = hubspot_admin.http.get("/crm/v3/imports", headers=auth)
    unknown_type = hubspot_admin.http.get("/crm/v3/objects/spaceships", headers=auth)

    assert missing.status_code == 404
    assert missing.json()["status"] == "error"
    assert unknown_type.status_code == 400
    assert unknown_type.json()["message"] == "Unable to infer object type from: spaceships"
    stats = hubspot_admin.stats()
    assert stats["unmatched"] == {
        "GET /crm/v3/imports": 1,
        "GET /crm/v3/objects/spaceships": 1,
    }
    assert stats["total"] == 2
