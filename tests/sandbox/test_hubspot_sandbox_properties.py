"""The HubSpot sandbox's properties API, through the official client."""

from __future__ import annotations

import json

import pytest
from hubspot import HubSpot
from hubspot.crm.companies import SimplePublicObjectInput
from hubspot.crm.companies.exceptions import ApiException as CompaniesApiException
from hubspot.crm.properties import OptionInput, PropertyCreate, PropertyGroupCreate, PropertyUpdate
from hubspot.crm.properties.exceptions import ApiException, NotFoundException


def _tier_property() -> PropertyCreate:
    return PropertyCreate(
        name="icp_tier",
        label="ICP tier",
        type="enumeration",
        field_type="select",
        group_name="icp_sync",
        options=[
            OptionInput(label=t, value=t, display_order=n, hidden=False)
            for n, t in enumerate("ABCD")
        ],
    )


def test_default_company_properties_are_listed_with_their_types(hubspot: HubSpot) -> None:
    properties = {
        p.name: p for p in hubspot.crm.properties.core_api.get_all(object_type="companies").results
    }

    expected_types = {
        "name": "string",
        "domain": "string",
        "industry": "enumeration",
        "numberofemployees": "number",
        "annualrevenue": "number",
        "country": "string",
        "state": "string",
        "city": "string",
        "total_money_raised": "number",
        "founded_year": "string",
        "web_technologies": "enumeration",
        "lifecyclestage": "enumeration",
        "hs_num_open_deals": "number",
        "total_revenue": "number",
        "hs_lastmodifieddate": "datetime",
        "createdate": "datetime",
        "hs_object_id": "number",
        "hs_ideal_customer_profile": "enumeration",
        "funding_stage": "string",
        "has_inhouse_seo": "bool",
        "is_competitor": "bool",
        "nps_score": "number",
    }
    assert {name: properties[name].type for name in expected_types} == expected_types
    assert [o.value for o in properties["hs_ideal_customer_profile"].options] == [
        "tier_1",
        "tier_2",
        "tier_3",
    ]
    assert properties["hs_lastmodifieddate"].modification_metadata.read_only_value is True
    assert (
        properties["name"].hubspot_defined is True
        and properties["nps_score"].hubspot_defined is False
    )


def test_a_group_and_property_can_be_created_once_and_then_conflict(hubspot: HubSpot) -> None:
    core, groups = hubspot.crm.properties.core_api, hubspot.crm.properties.groups_api

    group = groups.create("companies", PropertyGroupCreate(name="icp_sync", label="ICP sync"))
    created = core.create("companies", _tier_property())
    with pytest.raises(ApiException) as group_again:
        groups.create("companies", PropertyGroupCreate(name="icp_sync", label="ICP sync"))
    with pytest.raises(ApiException) as property_again:
        core.create("companies", _tier_property())

    assert group.name == "icp_sync"
    assert (
        created.name == "icp_tier"
        and created.group_name == "icp_sync"
        and created.hubspot_defined is False
    )
    assert core.get_by_name("companies", "icp_tier").label == "ICP tier"
    assert group_again.value.status == 409
    assert property_again.value.status == 409
    assert json.loads(property_again.value.body)["category"] == "OBJECT_ALREADY_EXISTS"


def test_a_created_property_can_be_written_within_its_options_only(hubspot: HubSpot) -> None:
    hubspot.crm.properties.groups_api.create(
        "companies", PropertyGroupCreate(name="icp_sync", label="ICP sync")
    )
    hubspot.crm.properties.core_api.create("companies", _tier_property())
    company_id = hubspot.crm.companies.basic_api.get_page(limit=1).results[0].id

    written = hubspot.crm.companies.basic_api.update(
        company_id, SimplePublicObjectInput(properties={"icp_tier": "A"})
    )
    with pytest.raises(CompaniesApiException) as refused:
        hubspot.crm.companies.basic_api.update(
            company_id, SimplePublicObjectInput(properties={"icp_tier": "E"})
        )

    assert written.properties["icp_tier"] == "A"
    assert refused.value.status == 400 and "INVALID_OPTION" in refused.value.body


def test_a_property_in_an_unknown_group_is_refused(hubspot: HubSpot) -> None:
    with pytest.raises(ApiException) as refused:
        hubspot.crm.properties.core_api.create("companies", _tier_property())

    assert refused.value.status == 400


def test_a_property_can_be_relabelled_and_given_new_options(hubspot: HubSpot) -> None:
    hubspot.crm.properties.groups_api.create(
        "companies", PropertyGroupCreate(name="icp_sync", label="ICP sync")
    )
    hubspot.crm.properties.core_api.create("companies", _tier_property())

    updated = hubspot.crm.properties.core_api.update(
        "companies",
        "icp_tier",
        PropertyUpdate(
            label="Fit tier",
            options=[
                OptionInput(label=t, value=t, display_order=n, hidden=False)
                for n, t in enumerate("ABCDE")
            ],
        ),
    )

    assert updated.label == "Fit tier"
    assert [o.value for o in updated.options] == list("ABCDE")


def test_unknown_properties_are_404(hubspot: HubSpot) -> None:
    with pytest.raises(NotFoundException):
        hubspot.crm.properties.core_api.get_by_name("companies", "icp_fit_score")


def test_hubspot_defined_properties_cannot_be_archived_but_custom_ones_can(
    hubspot: HubSpot,
) -> None:
    core = hubspot.crm.properties.core_api
    with pytest.raises(ApiException) as refused:
        core.archive("companies", "name")

    core.archive("companies", "nps_score")

    assert refused.value.status == 400
    assert "nps_score" not in {p.name for p in core.get_all("companies").results}
    assert "nps_score" in {p.name for p in core.get_all("companies", archived=True).results}


def test_deal_properties_exist_too(hubspot: HubSpot) -> None:
    names = {p.name for p in hubspot.crm.properties.core_api.get_all(object_type="deals").results}

    assert {
        "dealname",
        "amount",
        "dealstage",
        "closedate",
        "pipeline",
        "hs_lastmodifieddate",
    } <= names
