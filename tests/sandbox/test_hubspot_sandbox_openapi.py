"""Every endpoint the HubSpot sandbox serves answers in the shape HubSpot's published OpenAPI
specs give (the response schemas are vendored in ``specs/hubspot/``, see its README)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from connectors.sandbox.common.admin_client import SandboxAdmin

SPECS = Path(__file__).parent / "specs" / "hubspot" / "response-schemas.json"
AUTH = {"Authorization": "Bearer sandbox-token"}


@pytest.fixture
def hubspot_reset() -> dict[str, Any]:
    """Five companies with two contacts and two deals each."""
    return {"seed": 7, "companies": 5, "contacts_per_company": 2, "deals_per_company": 2}


def _nullable_property_maps(schemas: dict[str, Any]) -> dict[str, Any]:
    # HubSpot sends null for a requested property a record has no value for (its clients read
    # it as None); the specs type the map's values as plain strings.
    for schema in schemas.values():
        values = schema.get("properties", {}).get("properties", {}).get("additionalProperties")
        if values == {"type": "string"}:
            values["type"] = ["string", "null"]
    return schemas


@cache
def _validator(spec: str, component: str) -> Draft7Validator:
    schemas = json.loads(SPECS.read_text())["specs"][spec]["schemas"]
    return Draft7Validator(
        {"$ref": f"#/definitions/{component}", "definitions": _nullable_property_maps(schemas)}
    )


def _ids(admin: SandboxAdmin) -> dict[str, str]:
    company = admin.http.get(
        "/crm/v3/objects/companies", params={"limit": 1, "associations": "contacts"}, headers=AUTH
    ).json()["results"][0]
    return {
        "company": company["id"],
        "other": admin.http.get(
            "/crm/v3/objects/companies", params={"limit": 2}, headers=AUTH
        ).json()["results"][1]["id"],
        "contact": company["associations"]["contacts"]["results"][0]["id"],
    }


# (method, path, JSON body, expected status, spec, component); {company}, {other}, {contact}
# are seeded ids.
CASES = [
    (
        "GET",
        "/crm/v3/objects/companies?limit=2&associations=contacts,deals"
        "&propertiesWithHistory=lifecyclestage&properties=name,industry",
        None,
        200,
        "objects",
        "CollectionResponseSimplePublicObjectWithAssociationsForwardPaging",
    ),
    (
        "GET",
        "/crm/v3/objects/contacts/{contact}?associations=companies&propertiesWithHistory=email",
        None,
        200,
        "objects",
        "SimplePublicObjectWithAssociations",
    ),
    (
        "POST",
        "/crm/v3/objects/deals/search",
        {
            "filterGroups": [
                {
                    "filters": [
                        {
                            "propertyName": "associations.company",
                            "operator": "EQ",
                            "value": "{company}",
                        }
                    ]
                }
            ]
        },
        200,
        "objects",
        "CollectionResponseWithTotalSimplePublicObject",
    ),
    (
        "POST",
        "/crm/v3/objects/contacts/batch/read",
        {
            "inputs": [{"id": "{contact}"}],
            "properties": ["email"],
            "propertiesWithHistory": ["email"],
        },
        200,
        "objects",
        "BatchResponseSimplePublicObject",
    ),
    (
        "POST",
        "/crm/v3/objects/contacts/batch/read",
        {"inputs": [{"id": "{contact}"}, {"id": "1"}], "properties": ["email"]},
        207,
        "objects",
        "BatchResponseSimplePublicObjectWithErrors",
    ),
    (
        "POST",
        "/crm/v3/objects/contacts/batch/upsert",
        {
            "inputs": [
                {
                    "id": "spec@example.com",
                    "idProperty": "email",
                    "properties": {"firstname": "Spec"},
                }
            ]
        },
        200,
        "objects",
        "BatchResponseSimplePublicUpsertObject",
    ),
    (
        "POST",
        "/crm/v3/objects/companies/merge",
        {"primaryObjectId": "{company}", "objectIdToMerge": "{other}"},
        200,
        "objects",
        "SimplePublicObject",
    ),
    (
        "POST",
        "/crm/v3/objects/tickets",
        {"properties": {"subject": "Printer on fire"}},
        201,
        "objects",
        "SimplePublicObject",
    ),
    (
        "GET",
        "/crm/v3/objects/calls",
        None,
        200,
        "objects",
        "CollectionResponseSimplePublicObjectWithAssociationsForwardPaging",
    ),
    ("GET", "/crm/v3/objects/companies/1", None, 404, "objects", "Error"),
    (
        "GET",
        "/crm/v3/properties/companies",
        None,
        200,
        "properties",
        "CollectionResponsePropertyNoPaging",
    ),
    (
        "GET",
        "/crm/v3/properties/calls",
        None,
        200,
        "properties",
        "CollectionResponsePropertyNoPaging",
    ),
    ("GET", "/crm/v3/properties/deals/dealstage", None, 200, "properties", "Property"),
    (
        "GET",
        "/crm/v3/properties/contacts/groups",
        None,
        200,
        "properties",
        "CollectionResponsePropertyGroupNoPaging",
    ),
    (
        "POST",
        "/crm/v3/associations/contacts/companies/batch/read",
        {"inputs": [{"id": "{contact}"}]},
        200,
        "associations_v3",
        "BatchResponsePublicAssociationMulti",
    ),
    (
        "POST",
        "/crm/v3/associations/contacts/companies/batch/read",
        {"inputs": [{"id": "{contact}"}, {"id": "1"}]},
        207,
        "associations_v3",
        "BatchResponsePublicAssociationMultiWithErrors",
    ),
    (
        "POST",
        "/crm/v4/associations/companies/contacts/batch/read",
        {"inputs": [{"id": "{company}"}]},
        200,
        "associations_v4",
        "BatchResponsePublicAssociationMultiWithLabel",
    ),
    (
        "POST",
        "/crm/v4/associations/company/deal/batch/read",
        {"inputs": [{"id": "{company}"}, {"id": "1"}]},
        207,
        "associations_v4",
        "BatchResponsePublicAssociationMultiWithLabelWithErrors",
    ),
    (
        "GET",
        "/crm/v4/objects/companies/{company}/associations/contacts?limit=1",
        None,
        200,
        "associations_v4",
        "CollectionResponseMultiAssociatedObjectWithLabelForwardPaging",
    ),
    (
        "GET",
        "/crm/v4/associations/deals/companies/labels",
        None,
        200,
        "association_labels",
        "CollectionResponseAssociationSpecWithLabelNoPaging",
    ),
    (
        "GET",
        "/crm/v3/owners?limit=3",
        None,
        200,
        "owners",
        "CollectionResponsePublicOwnerForwardPaging",
    ),
    ("GET", "/crm/v3/owners/70000001", None, 200, "owners", "PublicOwner"),
    (
        "GET",
        "/crm/v3/pipelines/deals",
        None,
        200,
        "pipelines",
        "CollectionResponsePipelineNoPaging",
    ),
    ("GET", "/crm/v3/pipelines/tickets/0", None, 200, "pipelines", "Pipeline"),
    (
        "GET",
        "/crm/v3/pipelines/deals/default/stages",
        None,
        200,
        "pipelines",
        "CollectionResponsePipelineStageNoPaging",
    ),
    (
        "GET",
        "/crm/v3/pipelines/deals/default/stages/closedwon",
        None,
        200,
        "pipelines",
        "PipelineStage",
    ),
    (
        "GET",
        "/crm-object-schemas/v3/schemas",
        None,
        200,
        "schemas",
        "CollectionResponseObjectSchemaNoPaging",
    ),
]


def _fill(value: Any, ids: dict[str, str]) -> Any:
    text = json.dumps(value)
    for name, object_id in ids.items():
        text = text.replace(f"{{{name}}}", object_id)
    return json.loads(text)


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "spec", "component"),
    CASES,
    ids=[f"{c[0]} {c[1].split('?')[0]} {c[3]}" for c in CASES],
)
def test_responses_validate_against_hubspots_published_schemas(
    hubspot_admin: SandboxAdmin,
    method: str,
    path: str,
    body: Any,
    status: int,
    spec: str,
    component: str,
) -> None:
    ids = _ids(hubspot_admin)

    response = hubspot_admin.http.request(
        method, _fill(path, ids), json=_fill(body, ids) if body is not None else None, headers=AUTH
    )

    assert response.status_code == status, response.text
    errors = sorted(_validator(spec, component).iter_errors(response.json()), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
