"""Values over time and record identity: ``propertiesWithHistory`` on get, list and batch read,
``batch/upsert`` by a unique property, and merging two records."""

from __future__ import annotations

from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.companies import PublicMergeInput, SimplePublicObjectInput
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectBatchInputUpsert,
)
from hubspot.crm.deals import SimplePublicObjectInput as DealInput

from connectors.sandbox.common.admin_client import SandboxAdmin


@pytest.fixture
def hubspot_reset() -> dict[str, Any]:
    """Twenty companies with two contacts and three deals each."""
    return {"seed": 7, "companies": 20, "contacts_per_company": 2, "deals_per_company": 3}


def _closed_deal(hubspot: HubSpot) -> Any:
    deals = hubspot.crm.deals.basic_api.get_page(
        limit=50, properties=["hs_is_closed"], properties_with_history=["dealstage"]
    ).results
    return next(d for d in deals if d.properties["hs_is_closed"] == "true")


def test_a_seeded_deal_moved_through_stages_between_creation_and_close(hubspot: HubSpot) -> None:
    deal = _closed_deal(hubspot)
    history = deal.properties_with_history["dealstage"]
    current = hubspot.crm.deals.basic_api.get_by_id(
        deal.id, properties=["dealstage", "pipeline", "createdate", "closedate"]
    ).properties
    pipeline = hubspot.crm.pipelines.pipelines_api.get_by_id("deals", current["pipeline"])
    order = [s.id for s in pipeline.stages]

    assert len(history) >= 2
    assert history[0].value == current["dealstage"]  # newest first
    stamps = [v.timestamp for v in history]
    assert stamps == sorted(stamps, reverse=True)
    assert stamps[-1].isoformat()[:10] == current["createdate"][:10]
    assert stamps[0].isoformat()[:10] == current["closedate"][:10]
    values = [v.value for v in reversed(history)]
    assert [order.index(v) for v in values[:-1]] == sorted(order.index(v) for v in values[:-1])
    assert all(v.source_type == "CRM_UI" for v in history)


def test_every_update_appends_a_version_with_its_source(hubspot: HubSpot) -> None:
    deal = _closed_deal(hubspot)
    before = len(deal.properties_with_history["dealstage"])

    for stage in ("qualifiedtobuy", "contractsent"):
        hubspot.crm.deals.basic_api.update(deal.id, DealInput(properties={"dealstage": stage}))
    after = hubspot.crm.deals.basic_api.get_by_id(
        deal.id, properties_with_history=["dealstage", "amount"]
    ).properties_with_history

    assert len(after["dealstage"]) == before + 2
    assert [v.value for v in after["dealstage"][:2]] == ["contractsent", "qualifiedtobuy"]
    assert after["dealstage"][0].source_type == "INTEGRATION"
    assert len(after["amount"]) == 1  # never changed: its one value


def test_companies_lifecycle_stage_history_on_list_and_batch_read(hubspot: HubSpot) -> None:
    companies = hubspot.crm.companies.basic_api.get_page(
        limit=20, properties=["lifecyclestage"], properties_with_history=["lifecyclestage"]
    ).results
    customer = next(c for c in companies if c.properties["lifecyclestage"] == "customer")
    batch = hubspot.crm.contacts.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[{"id": "1"}], properties=[], properties_with_history=["email"]
        )
    )

    values = [v.value for v in reversed(customer.properties_with_history["lifecyclestage"])]
    assert values[0] == "lead" and values[-1] == "customer" and len(values) >= 3
    assert batch.results == []  # no contact 1; the call itself is valid
    contact_id = hubspot.crm.contacts.basic_api.get_page(limit=1).results[0].id
    read = hubspot.crm.contacts.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[{"id": contact_id}], properties=["email"], properties_with_history=["email"]
        )
    )
    assert (
        read.results[0].properties_with_history["email"][0].value
        == read.results[0].properties["email"]
    )


def test_upsert_by_email_updates_the_existing_contact_and_creates_the_new_one(
    hubspot: HubSpot,
) -> None:
    existing = hubspot.crm.contacts.basic_api.get_page(limit=1, properties=["email"]).results[0]
    email = existing.properties["email"]

    answer = hubspot.crm.contacts.batch_api.upsert(
        BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                SimplePublicObjectBatchInputUpsert(
                    id=email, id_property="email", properties={"jobtitle": "Chief Upserter"}
                ),
                SimplePublicObjectBatchInputUpsert(
                    id="brand.new@example.com",
                    id_property="email",
                    properties={"firstname": "Bran"},
                ),
            ]
        )
    )

    by_email = {r.properties["email"]: r for r in answer.results}
    assert by_email[email].id == existing.id and by_email[email].new is False
    assert by_email["brand.new@example.com"].new is True
    again = hubspot.crm.contacts.basic_api.get_by_id(existing.id, properties=["jobtitle"])
    assert again.properties["jobtitle"] == "Chief Upserter"


def test_upsert_refuses_a_property_whose_values_are_not_unique(
    hubspot_admin: SandboxAdmin,
) -> None:
    response = hubspot_admin.http.post(
        "/crm/v3/objects/contacts/batch/upsert",
        json={"inputs": [{"id": "Ada", "idProperty": "firstname", "properties": {}}]},
        headers={"Authorization": "Bearer sandbox-token"},
    )

    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"


def test_merging_moves_links_and_missing_values_to_the_primary_and_removes_the_other(
    hubspot: HubSpot,
) -> None:
    companies = hubspot.crm.companies.basic_api.get_page(limit=2, associations=["contacts"]).results
    primary, other = companies
    hubspot.crm.companies.basic_api.update(
        primary.id, SimplePublicObjectInput(properties={"description": None})
    )
    hubspot.crm.companies.basic_api.update(
        other.id, SimplePublicObjectInput(properties={"description": "From the other one"})
    )

    merged = hubspot.crm.companies.basic_api.merge(
        PublicMergeInput(primary_object_id=primary.id, object_id_to_merge=other.id)
    )
    after = hubspot.crm.companies.basic_api.get_by_id(
        primary.id,
        properties=["description", "hs_merged_object_ids", "name"],
        associations=["contacts"],
    )

    assert merged.id == primary.id
    assert after.properties["name"] == primary.properties["name"]
    assert after.properties["description"] == "From the other one"
    assert after.properties["hs_merged_object_ids"] == other.id
    contacts = {a.id for a in after.associations["contacts"].results}
    assert contacts == {a.id for c in (primary, other) for a in c.associations["contacts"].results}
    assert hubspot.crm.companies.basic_api.get_by_id(other.id, archived=True).archived
