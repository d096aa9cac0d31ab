"""Links between companies, contacts and deals: inline ``?associations=``, v3 and v4 batch
reads, a record's v4 associations, labels, association search filters, links made on create."""

from __future__ import annotations

from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.associations import BatchInputPublicObjectId
from hubspot.crm.associations.v4 import BatchInputPublicFetchAssociationsBatchRequest
from hubspot.crm.contacts import (
    AssociationSpec,
    PublicAssociationsForObject,
    PublicObjectId,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.contacts import PublicObjectSearchRequest as ContactSearch
from hubspot.crm.deals import PublicObjectSearchRequest as DealSearch

from connectors.sandbox.common.admin_client import SandboxAdmin

AUTH = {"Authorization": "Bearer sandbox-token"}


@pytest.fixture
def hubspot_reset() -> dict[str, Any]:
    """Ten companies with three contacts and two deals each."""
    return {"seed": 7, "companies": 10, "contacts_per_company": 3, "deals_per_company": 2}


def _company(hubspot: HubSpot) -> Any:
    return hubspot.crm.companies.basic_api.get_page(
        limit=1, associations=["contacts", "deals"]
    ).results[0]


def test_seeded_records_list_their_links_inline_both_ways(hubspot: HubSpot) -> None:
    company = _company(hubspot)
    contact_ids = {a.id for a in company.associations["contacts"].results}
    deal_ids = {a.id for a in company.associations["deals"].results}
    contact = hubspot.crm.contacts.basic_api.get_by_id(
        next(iter(contact_ids)), associations=["companies", "deals"]
    )
    deal = hubspot.crm.deals.basic_api.get_by_id(
        next(iter(deal_ids)), associations=["company", "contact"]
    )

    assert len(contact_ids) == 3 and len(deal_ids) == 2
    assert {a.type for a in company.associations["contacts"].results} == {
        "company_to_contact",
        "company_to_contact_unlabeled",
    }
    assert {a.id for a in contact.associations["companies"].results} == {company.id}
    assert {a.id for a in deal.associations["companies"].results} == {company.id}
    assert {a.id for a in deal.associations["contacts"].results} <= contact_ids
    assert {a.type for a in deal.associations["contacts"].results} == {"deal_to_contact"}


def test_v3_batch_read_lists_each_inputs_links_and_207s_the_unlinked(hubspot: HubSpot) -> None:
    company = _company(hubspot)
    deal_ids = [a.id for a in company.associations["deals"].results]

    answer = hubspot.crm.associations.batch_api.read(
        "deals", "companies", BatchInputPublicObjectId(inputs=[{"id": i} for i in deal_ids])
    )
    missing = hubspot.crm.associations.batch_api.read(
        "deals", "companies", BatchInputPublicObjectId(inputs=[{"id": "1"}])
    )

    assert {r._from.id for r in answer.results} == set(deal_ids)
    assert all(
        [(t.id, t.type) for t in r.to] == [(company.id, "deal_to_company")] for r in answer.results
    )
    assert missing.results == []
    assert missing.errors[0].category == "OBJECT_NOT_FOUND"
    assert missing.errors[0].context == {"fromObjectId": ["1"], "toObjectType": ["company"]}


def test_v4_batch_read_carries_hubspots_default_type_ids(hubspot: HubSpot) -> None:
    company = _company(hubspot)
    batch = hubspot.crm.associations.v4.batch_api

    to_contacts = batch.get_page(
        "companies",
        "contacts",
        BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": company.id}]),
    )
    to_deals = batch.get_page(
        "0-2", "0-3", BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": company.id}])
    )

    contacts = to_contacts.results[0].to
    assert {str(c.to_object_id) for c in contacts} == {
        a.id for a in company.associations["contacts"].results
    }
    assert {(t.type_id, t.category) for t in contacts[0].association_types} == {
        (2, "HUBSPOT_DEFINED"),
        (280, "HUBSPOT_DEFINED"),
    }
    assert {t.type_id for t in to_deals.results[0].to[0].association_types} == {6, 342}


def test_a_records_v4_associations_page_and_labels_name_the_default_types(
    hubspot: HubSpot,
) -> None:
    company = _company(hubspot)
    basic = hubspot.crm.associations.v4.basic_api

    first = basic.get_page("companies", company.id, "contacts", limit=2)
    rest = basic.get_page("companies", company.id, "contacts", after=first.paging.next.after)
    labels = hubspot.crm.associations.v4.schema.definitions_api.get_all("deals", "companies")
    contact_labels = hubspot.crm.associations.v4.schema.definitions_api.get_all("contacts", "deals")

    assert len(first.results) == 2 and len(rest.results) == 1
    assert {(t.type_id, t.label) for t in labels.results} == {
        (5, "Deal with Primary Company"),
        (341, None),
    }
    assert [t.type_id for t in contact_labels.results] == [4]


def test_search_filters_on_associations_find_a_companys_deals_and_contacts(
    hubspot: HubSpot,
) -> None:
    company = _company(hubspot)

    deals = hubspot.crm.deals.search_api.do_search(
        DealSearch(
            filter_groups=[
                {
                    "filters": [
                        {
                            "propertyName": "associations.company",
                            "operator": "EQ",
                            "value": company.id,
                        }
                    ]
                }
            ],
            limit=100,
        )
    )
    contacts = hubspot.crm.contacts.search_api.do_search(
        ContactSearch(
            filter_groups=[
                {
                    "filters": [
                        {
                            "propertyName": "associations.company",
                            "operator": "EQ",
                            "value": company.id,
                        },
                        {"propertyName": "email", "operator": "HAS_PROPERTY"},
                    ]
                }
            ],
            limit=100,
        )
    )

    assert {d.id for d in deals.results} == {a.id for a in company.associations["deals"].results}
    assert deals.total == 2
    assert {c.id for c in contacts.results} == {
        a.id for a in company.associations["contacts"].results
    }


def test_a_contact_created_with_an_association_is_linked_both_ways(hubspot: HubSpot) -> None:
    company = _company(hubspot)

    contact = hubspot.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"email": "new.person@example.com", "firstname": "New"},
            associations=[
                PublicAssociationsForObject(
                    to=PublicObjectId(id=company.id),
                    types=[
                        AssociationSpec(
                            association_category="HUBSPOT_DEFINED", association_type_id=279
                        )
                    ],
                )
            ],
        )
    )

    linked = hubspot.crm.companies.basic_api.get_by_id(company.id, associations=["contacts"])
    assert contact.id in {a.id for a in linked.associations["contacts"].results}


def test_an_association_to_a_record_that_does_not_exist_is_refused(
    hubspot_admin: SandboxAdmin,
) -> None:
    response = hubspot_admin.http.post(
        "/crm/v3/objects/contacts",
        json={
            "properties": {"email": "x@example.com"},
            "associations": [
                {
                    "to": {"id": "42"},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}],
                }
            ],
        },
        headers=AUTH,
    )

    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"
