"""What CRMs send, parsed into inbox events: companies, deals and contacts alike."""

from __future__ import annotations

import orjson

from app.inbox.events import (
    DELETIONS,
    hubspot_events,
    object_of,
    salesforce_flow_events,
    salesforce_outbound,
)


def _hubspot(*events: dict) -> bytes:
    return orjson.dumps([{"subscriptionId": 1, "occurredAt": 5, **e} for e in events])


def test_hubspot_deal_and_contact_events_are_kept_with_the_object_they_are_about() -> None:
    events = hubspot_events(
        _hubspot(
            {
                "eventId": 1,
                "subscriptionType": "deal.propertyChange",
                "objectId": 11,
                "propertyName": "dealstage",
                "propertyValue": "closedwon",
            },
            {"eventId": 2, "subscriptionType": "contact.creation", "objectId": 22},
            {"eventId": 3, "subscriptionType": "deal.deletion", "objectId": 33},
            {
                "eventId": 4,
                "subscriptionType": "contact.associationChange",
                "fromObjectId": 44,
                "toObjectId": 9,
                "associationType": "CONTACT_TO_COMPANY",
            },
            {"eventId": 5, "subscriptionType": "ticket.creation", "objectId": 55},
        )
    )

    kinds = [(e.event_type, e.object_id, object_of(e.event_type)) for e in events]
    assert kinds == [
        ("deal.propertyChange", "11", "deal"),
        ("contact.creation", "22", "contact"),
        ("deal.deletion", "33", "deal"),
        ("contact.associationChange", "44", "contact"),
    ]
    assert "deal.deletion" in DELETIONS
    assert events[3].dedupe_key == "1:4:44:5"


def test_an_association_change_without_its_from_object_is_refused() -> None:
    import pytest

    from app.core.errors import BadRequest

    with pytest.raises(BadRequest, match="fromObjectId"):
        hubspot_events(_hubspot({"eventId": 1, "subscriptionType": "deal.associationChange"}))


def test_salesforce_records_are_told_apart_by_their_id_prefix() -> None:
    outbound = salesforce_outbound(
        b"""<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
        <soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">
        <OrganizationId>00D000000000001</OrganizationId>
        <Notification><Id>04l1</Id><sObject xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
          <sf:Id>006000000000001AAA</sf:Id></sObject></Notification>
        <Notification><Id>04l2</Id><sObject xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
          <sf:Id>003000000000001AAA</sf:Id></sObject></Notification>
        <Notification><Id>04l3</Id><sObject xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
          <sf:Id>001000000000001AAA</sf:Id></sObject></Notification>
        </notifications></soapenv:Body></soapenv:Envelope>"""
    )
    _, flow = salesforce_flow_events(
        orjson.dumps(
            {"organizationId": "00D", "events": [{"id": "x", "recordId": "003A", "deleted": True}]}
        )
    )

    assert [e.event_type for e in outbound.events] == [
        "deal.changed",
        "contact.changed",
        "account.changed",
    ]
    assert [object_of(e.event_type) for e in outbound.events] == ["deal", "contact", "company"]
    assert flow[0].event_type == "contact.deleted" and "contact.deleted" in DELETIONS
