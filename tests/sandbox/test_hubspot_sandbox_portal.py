"""What a HubSpot portal has besides records: standard object types and their aliases, default
properties, a pristine reset, owners, pipelines, schemas and the legacy v2 properties."""

from __future__ import annotations

from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.properties import PropertyCreate, PropertyGroupCreate

from connectors.hubspot import HubSpotConnector
from connectors.sandbox.common.admin_client import SandboxAdmin

AUTH = {"Authorization": "Bearer sandbox-token"}
EMPTY_OBJECTS = (
    "tickets",
    "products",
    "line_items",
    "calls",
    "emails",
    "meetings",
    "notes",
    "tasks",
    "leads",
    "communications",
    "postal_mail",
    "goal_targets",
    "quotes",
    "feedback_submissions",
)
DEMO_PROPERTIES = {"funding_stage", "has_inhouse_seo", "is_competitor", "nps_score"}


@pytest.fixture
def hubspot_reset() -> dict[str, Any]:
    """Twenty companies with three contacts and two deals each."""
    return {"seed": 7, "companies": 20, "contacts_per_company": 3, "deals_per_company": 2}


def _names(client: HubSpot, object_type: str) -> set[str]:
    return {p.name for p in client.crm.properties.core_api.get_all(object_type).results}


def test_a_reset_with_no_companies_leaves_a_pristine_portal(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot
) -> None:
    hubspot_admin.reset(companies=0)
    groups = hubspot.crm.properties.groups_api

    assert not _names(hubspot, "companies") & DEMO_PROPERTIES
    assert hubspot.crm.companies.basic_api.get_page().results == []
    assert hubspot.crm.contacts.basic_api.get_page().results == []
    groups.create("companies", PropertyGroupCreate(name="demo_enrichment", label="Demo"))
    created = hubspot.crm.properties.core_api.create(
        "companies",
        PropertyCreate(
            name="funding_stage",
            label="Funding stage",
            type="string",
            field_type="text",
            group_name="demo_enrichment",
        ),
    )
    assert created.name == "funding_stage"


def test_icp_syncs_own_connector_creates_its_write_back_properties_on_a_pristine_portal(
    hubspot_admin: SandboxAdmin,
) -> None:
    hubspot_admin.reset(companies=0)
    connector = HubSpotConnector(
        access_token="sandbox-token",
        base_url=hubspot_admin.url,
        settings={"write_ideal_customer_profile": True},
    )

    first = connector.ensure_schema()
    second = connector.ensure_schema()

    assert first.ok and first.present == ["hs_ideal_customer_profile"]  # native: there already
    assert {"icp_tier", "icp_fit_score", "icp_scored_at"} <= set(first.created)
    assert second.ok and not second.created
    assert set(second.present) == {*first.created, "hs_ideal_customer_profile"}


def test_seeding_demo_data_creates_the_demo_custom_properties(hubspot: HubSpot) -> None:
    properties = {p.name: p for p in hubspot.crm.properties.core_api.get_all("companies").results}

    assert properties.keys() >= DEMO_PROPERTIES
    assert not any(properties[name].hubspot_defined for name in DEMO_PROPERTIES)


def test_companies_contacts_and_deals_have_a_real_portals_default_properties(
    hubspot: HubSpot,
) -> None:
    companies = {p.name: p for p in hubspot.crm.properties.core_api.get_all("companies").results}
    industry = [o.value for o in companies["industry"].options]

    assert len(companies) >= 150
    assert {
        "description",
        "phone",
        "website",
        "type",
        "hubspot_owner_id",
        "hs_lead_status",
        "num_associated_contacts",
        "num_associated_deals",
    } <= companies.keys()
    assert len(industry) >= 145
    assert {"COMPUTER_SOFTWARE", "ONLINE_MEDIA", "NON_PROFIT_ORGANIZATION_MANAGEMENT"} <= set(
        industry
    )
    assert len(_names(hubspot, "contacts")) >= 150
    assert {"email", "firstname", "jobtitle", "hs_buying_role", "lastmodifieddate"} <= _names(
        hubspot, "contacts"
    )
    assert {"dealstage", "pipeline", "hubspot_owner_id", "hs_is_closed_won"} <= _names(
        hubspot, "deals"
    )


@pytest.mark.parametrize("object_type", EMPTY_OBJECTS)
def test_the_other_standard_objects_are_present_valid_and_empty(
    hubspot_admin: SandboxAdmin, object_type: str
) -> None:
    properties = hubspot_admin.http.get(f"/crm/v3/properties/{object_type}", headers=AUTH)
    groups = hubspot_admin.http.get(f"/crm/v3/properties/{object_type}/groups", headers=AUTH)
    records = hubspot_admin.http.get(f"/crm/v3/objects/{object_type}", headers=AUTH)
    search = hubspot_admin.http.post(f"/crm/v3/objects/{object_type}/search", json={}, headers=AUTH)

    assert properties.status_code == 200
    names = {p["name"] for p in properties.json()["results"]}
    assert {"hs_object_id", "hs_lastmodifieddate", "hubspot_owner_id"} <= names
    assert groups.status_code == 200 and groups.json()["results"]
    assert records.status_code == 200 and records.json() == {"results": []}
    assert search.json() == {"total": 0, "results": []}


def test_type_ids_and_singular_aliases_reach_the_same_records_and_count_as_one_endpoint(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot
) -> None:
    company = hubspot.crm.companies.basic_api.get_page(limit=1).results[0]

    by_alias = [
        hubspot_admin.http.get(f"/crm/v3/objects/{alias}/{company.id}", headers=AUTH).json()
        for alias in ("companies", "company", "0-2", "COMPANY")
    ]
    contact_properties = hubspot_admin.http.get("/crm/v3/properties/0-1", headers=AUTH)

    assert {r["id"] for r in by_alias} == {company.id}
    assert "email" in {p["name"] for p in contact_properties.json()["results"]}
    calls = hubspot_admin.stats()["calls"]
    assert calls["GET /crm/v3/objects/companies/{companyId}"] == 4
    assert calls["GET /crm/v3/properties/contacts"] == 1


def test_the_legacy_v2_properties_api_lists_definitions_as_a_bare_array(
    hubspot_admin: SandboxAdmin,
) -> None:
    response = hubspot_admin.http.get("/properties/v2/companies/properties", headers=AUTH)

    definitions = {d["name"]: d for d in response.json()}
    assert response.status_code == 200
    assert definitions["industry"]["type"] == "enumeration"
    assert definitions["hs_lastmodifieddate"]["readOnlyValue"] is True
    assert isinstance(definitions["name"]["createdAt"], int)
    deals = hubspot_admin.http.get("/properties/v2/deals/properties", headers=AUTH).json()
    assert "dealstage" in {d["name"] for d in deals}


def test_schemas_list_no_custom_objects(hubspot_admin: SandboxAdmin, hubspot: HubSpot) -> None:
    assert hubspot.crm.schemas.core_api.get_all().results == []
    assert hubspot_admin.http.get("/crm/v3/schemas", headers=AUTH).json() == {"results": []}


def test_owners_page_and_own_the_seeded_records(hubspot: HubSpot) -> None:
    owners_api = hubspot.crm.owners.owners_api
    first = owners_api.get_page(limit=5)
    rest = owners_api.get_page(limit=100, after=first.paging.next.after)
    owners = {o.id: o for o in [*first.results, *rest.results]}
    company = hubspot.crm.companies.basic_api.get_page(properties=["hubspot_owner_id"]).results[0]
    contact = hubspot.crm.contacts.basic_api.get_page(properties=["hubspot_owner_id"]).results[0]
    deal = hubspot.crm.deals.basic_api.get_page(properties=["hubspot_owner_id"]).results[0]

    assert len(first.results) == 5 and rest.paging is None
    assert len(owners) == 12
    for record in (company, contact, deal):
        assert record.properties["hubspot_owner_id"] in owners
    one = next(iter(owners.values()))
    assert owners_api.get_by_id(one.id).email == one.email
    assert owners_api.get_page(email=one.email).results[0].id == one.id


def test_deal_pipelines_carry_hubspots_stage_metadata_and_a_custom_numeric_pipeline(
    hubspot: HubSpot,
) -> None:
    pipelines = {p.label: p for p in hubspot.crm.pipelines.pipelines_api.get_all("deals").results}
    sales, enterprise = pipelines["Sales Pipeline"], pipelines["Enterprise"]
    deals = hubspot.crm.deals.basic_api.get_page(limit=40, properties=["pipeline", "dealstage"])

    assert sales.id == "default"
    assert [s.id for s in sales.stages] == [
        "appointmentscheduled",
        "qualifiedtobuy",
        "presentationscheduled",
        "decisionmakerboughtin",
        "contractsent",
        "closedwon",
        "closedlost",
    ]
    assert sales.stages[0].metadata == {"isClosed": "false", "probability": "0.2"}
    assert sales.stages[5].metadata == {"isClosed": "true", "probability": "1.0"}
    assert enterprise.id.isdigit() and all(s.id.isdigit() for s in enterprise.stages)
    stages = hubspot.crm.pipelines.pipeline_stages_api.get_all("deals", enterprise.id).results
    assert [s.id for s in stages] == [s.id for s in enterprise.stages]
    in_pipeline = {p.id: {s.id for s in p.stages} for p in pipelines.values()}
    used = {d.properties["pipeline"] for d in deals.results}
    assert used == {"default", enterprise.id}
    for deal in deals.results:
        assert deal.properties["dealstage"] in in_pipeline[deal.properties["pipeline"]]
    assert hubspot.crm.pipelines.pipelines_api.get_by_id("tickets", "0").label == "Support Pipeline"


def test_users_are_the_owners_and_the_portal_has_no_teams(hubspot: HubSpot) -> None:
    users = hubspot.settings.users.users_api.get_page(limit=100).results
    owners = hubspot.crm.owners.owners_api.get_page(limit=100).results

    assert {u.email for u in users} == {o.email for o in owners}
    assert {u.id for u in users} == {str(o.user_id) for o in owners}
    assert hubspot.settings.users.teams_api.get_all().results == []


def test_legacy_v1_pipelines_and_email_subscription_types_are_served(
    hubspot_admin: SandboxAdmin,
) -> None:
    v1 = hubspot_admin.http.get("/crm-pipelines/v1/pipelines/deals", headers=AUTH).json()
    subscriptions = hubspot_admin.http.get("/email/public/v1/subscriptions", headers=AUTH).json()

    default = v1["results"][0]
    assert (default["pipelineId"], default["objectType"], default["default"]) == (
        "default",
        "DEAL",
        True,
    )
    assert default["stages"][0] == {
        "stageId": "appointmentscheduled",
        "label": "Appointment Scheduled",
        "displayOrder": 0,
        "metadata": {"isClosed": "false", "probability": "0.2"},
        "active": True,
        "createdAt": default["createdAt"],
        "updatedAt": default["updatedAt"],
    }
    assert isinstance(default["createdAt"], int)
    assert [s["internalName"] for s in subscriptions["subscriptionDefinitions"]] == [
        "MARKETING_INFORMATION",
        "ONE_TO_ONE",
    ]


def test_reset_seeds_exactly_the_contacts_and_deals_asked_for_titles_but_no_ground_truth(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot
) -> None:
    counts = hubspot_admin.reset(seed=3, companies=7, contacts_per_company=4, deals_per_company=3)
    contacts = hubspot.crm.contacts.basic_api.get_page(
        limit=100,
        properties=["jobtitle", "hs_seniority", "job_function", "hs_role", "associatedcompanyid"],
    ).results

    assert (counts["companies"], counts["contacts"], counts["deals"]) == (7, 28, 21)
    assert len(contacts) == 28
    assert sum(1 for c in contacts if c.properties["jobtitle"]) >= 20
    for contact in contacts:
        assert contact.properties["hs_seniority"] is None
        assert contact.properties["job_function"] is None
        assert contact.properties["hs_role"] is None
        assert contact.properties["associatedcompanyid"]
