"""Signed v3 webhooks from the HubSpot sandbox: what changes, how it is signed, batched, retried."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hubspot import HubSpot
from hubspot.crm.companies import (
    BatchInputSimplePublicObjectBatchInput,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.sandbox.common.admin_client import SandboxAdmin
from connectors.sandbox.common.server import start_server

CLIENT_SECRET = "sandbox-secret"  # what the session's sandbox signs with (conftest)


@dataclass
class Receiver:
    """A webhook endpoint that records what it is sent and can fail on purpose."""

    url: str = ""
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0

    def events(self) -> list[dict[str, Any]]:
        return [event for delivery in self.deliveries for event in delivery["events"]]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.events()) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.events()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    sink = Receiver()

    async def hook(request: Request) -> Response:
        body = await request.body()
        if sink.fail_next:
            sink.fail_next -= 1
            return Response(status_code=500)
        sink.deliveries.append(
            {
                "url": str(request.url),
                "headers": dict(request.headers),
                "body": body,
                "events": json.loads(body),
            }
        )
        return Response(status_code=204)

    with start_server(
        Starlette(routes=[Route("/hooks/hubspot", hook, methods=["POST"])])
    ) as server:
        sink.url = f"{server.url}/hooks/hubspot"
        yield sink


def _signature_ok(delivery: dict[str, Any]) -> bool:
    headers = delivery["headers"]
    timestamp = headers["x-hubspot-request-timestamp"]
    source = b"POST" + delivery["url"].encode() + delivery["body"] + timestamp.encode()
    expected = base64.b64encode(
        hmac.new(CLIENT_SECRET.encode(), source, hashlib.sha256).digest()
    ).decode()
    return hmac.compare_digest(expected, headers["x-hubspot-signature-v3"])


def test_api_writes_come_back_as_signed_v3_property_change_events(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot, receiver: Receiver
) -> None:
    hubspot_admin.webhooks(receiver.url)
    ids = [c.id for c in hubspot.crm.companies.basic_api.get_page(limit=3).results]

    hubspot.crm.companies.batch_api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[{"id": i, "properties": {"hs_ideal_customer_profile": "tier_1"}} for i in ids]
        )
    )

    events = receiver.wait_for(3)
    assert len(events) == 3
    assert {e["objectId"] for e in events} == {int(i) for i in ids}
    for event in events:
        assert event["subscriptionType"] == "company.propertyChange"
        assert event["propertyName"] == "hs_ideal_customer_profile"
        assert event["propertyValue"] == "tier_1"
        assert event["changeSource"] == "INTEGRATION"
        assert event["attemptNumber"] == 0
        assert {"eventId", "subscriptionId", "portalId", "appId", "occurredAt"} <= set(event)
    assert len({e["eventId"] for e in events}) == 3
    assert all(_signature_ok(d) for d in receiver.deliveries)
    delivery = receiver.deliveries[0]
    assert (
        abs(int(delivery["headers"]["x-hubspot-request-timestamp"]) - time.time() * 1000) < 60_000
    )


def test_a_tampered_body_would_fail_the_signature_check(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot, receiver: Receiver
) -> None:
    hubspot_admin.webhooks(receiver.url)
    company_id = hubspot.crm.companies.basic_api.get_page(limit=1).results[0].id
    hubspot.crm.companies.basic_api.update(
        company_id, SimplePublicObjectInput(properties={"nps_score": "10"})
    )
    receiver.wait_for(1)

    tampered = {
        **receiver.deliveries[0],
        "body": receiver.deliveries[0]["body"].replace(b"10", b"11"),
    }

    assert _signature_ok(receiver.deliveries[0])
    assert not _signature_ok(tampered)


def test_writes_that_change_nothing_send_nothing(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot, receiver: Receiver
) -> None:
    company = hubspot.crm.companies.basic_api.get_page(limit=1, properties=["name"]).results[0]
    hubspot_admin.webhooks(receiver.url)

    hubspot.crm.companies.basic_api.update(
        company.id, SimplePublicObjectInput(properties={"name": company.properties["name"]})
    )
    hubspot.crm.companies.basic_api.update(
        company.id, SimplePublicObjectInput(properties={"nps_score": "4"})
    )

    events = receiver.wait_for(1)
    hubspot_admin.wait_until_sent()
    assert [e["propertyName"] for e in receiver.events()] == ["nps_score"]
    assert events


def test_creations_and_deletions_are_notified(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot, receiver: Receiver
) -> None:
    hubspot_admin.webhooks(receiver.url)

    created = hubspot.crm.companies.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"name": "Fresh Media"})
    )
    hubspot.crm.companies.basic_api.archive(created.id)

    events = receiver.wait_for(2)
    assert [(e["subscriptionType"], e["objectId"]) for e in events] == [
        ("company.creation", int(created.id)),
        ("company.deletion", int(created.id)),
    ]


def test_rep_edits_bump_the_modification_date_and_are_notified_as_crm_ui_changes(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot, receiver: Receiver
) -> None:
    hubspot_admin.webhooks(receiver.url)
    before = {
        c.id: c.properties["hs_lastmodifieddate"]
        for c in hubspot.crm.companies.basic_api.get_page(limit=100).results
    }

    edited = hubspot_admin.edits(count=4)["edited"]

    events = receiver.wait_for(4)
    assert len(edited) == 4
    assert {e["objectId"] for e in events} == {int(e["id"]) for e in edited}
    assert {e["changeSource"] for e in events} == {"CRM_UI"}
    for edit in edited:
        modified = hubspot_admin.get(f"companies/{edit['id']}")["properties"]["hs_lastmodifieddate"]
        assert modified > before[edit["id"]]


def test_events_are_batched_at_most_100_per_request(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot, receiver: Receiver
) -> None:
    hubspot_admin.reset(seed=7, companies=150)
    hubspot_admin.webhooks(receiver.url)
    ids = [c.id for c in hubspot.crm.companies.basic_api.get_page(limit=100).results]
    more = [
        c.id
        for c in hubspot.crm.companies.basic_api.get_page(
            limit=50, after=str(int(ids[-1]) + 1)
        ).results
    ]

    for chunk in (ids, more):
        hubspot.crm.companies.batch_api.update(
            BatchInputSimplePublicObjectBatchInput(
                inputs=[
                    {
                        "id": i,
                        "properties": {"nps_score": "0", "hs_ideal_customer_profile": "tier_3"},
                    }
                    for i in chunk
                ]
            )
        )

    events = receiver.wait_for(300)
    assert len(events) == 300
    assert len(receiver.deliveries) >= 3
    assert max(len(d["events"]) for d in receiver.deliveries) == 100


def test_failed_deliveries_are_retried_with_a_growing_attempt_number(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot, receiver: Receiver
) -> None:
    hubspot_admin.webhooks(receiver.url, retry_delay_seconds=0.05)
    receiver.fail_next = 2
    company_id = hubspot.crm.companies.basic_api.get_page(limit=1).results[0].id

    hubspot.crm.companies.basic_api.update(
        company_id, SimplePublicObjectInput(properties={"nps_score": "1"})
    )

    events = receiver.wait_for(1)
    assert [e["attemptNumber"] for e in events] == [2]
    assert _signature_ok(receiver.deliveries[0])
    assert hubspot_admin.get("webhooks")["failed_attempts"] == 2


def test_redelivery_sends_every_accepted_request_again_as_a_retry(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot, receiver: Receiver
) -> None:
    """At-least-once delivery: the same events again, with the next attempt number."""
    hubspot_admin.webhooks(receiver.url, redeliver=True)
    company_id = hubspot.crm.companies.basic_api.get_page(limit=1).results[0].id
    hubspot.crm.companies.basic_api.update(
        company_id, SimplePublicObjectInput(properties={"nps_score": "7"})
    )
    first, again = receiver.wait_for(2)

    assert {k: v for k, v in first.items() if k != "attemptNumber"} == {
        k: v for k, v in again.items() if k != "attemptNumber"
    }
    assert (first["attemptNumber"], again["attemptNumber"]) == (0, 1)
    assert all(_signature_ok(d) for d in receiver.deliveries)
    # Counted once the sandbox has read the answer, a moment after the receiver had the events.
    stats = hubspot_admin.wait_until_sent()
    assert (stats["delivered_requests"], stats["redelivered_requests"]) == (1, 1)


def test_a_contact_created_with_a_company_is_notified_with_both_sides_of_the_link(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot, receiver: Receiver
) -> None:
    hubspot_admin.webhooks(receiver.url)
    company = hubspot.crm.companies.basic_api.get_page(limit=1).results[0]

    response = hubspot_admin.http.post(
        "/crm/v3/objects/contacts",
        json={
            "properties": {"email": "linked@example.com"},
            "associations": [
                {
                    "to": {"id": company.id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}],
                }
            ],
        },
        headers={"Authorization": "Bearer sandbox-token"},
    )
    contact_id = int(response.json()["id"])

    events = receiver.wait_for(3)
    assert events[0]["subscriptionType"] == "contact.creation"
    assert events[0]["objectId"] == contact_id
    links = [
        (e["subscriptionType"], e["associationType"], e["fromObjectId"], e["toObjectId"])
        for e in events[1:]
    ]
    assert links == [
        ("contact.associationChange", "CONTACT_TO_COMPANY", contact_id, int(company.id)),
        ("company.associationChange", "COMPANY_TO_CONTACT", int(company.id), contact_id),
    ]
    assert all("objectId" not in e and e["associationRemoved"] is False for e in events[1:])


def test_rep_edits_reach_deals_and_contacts_too(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot, receiver: Receiver
) -> None:
    hubspot_admin.reset(companies=3, contacts_per_company=1)
    hubspot_admin.webhooks(receiver.url)
    deal = hubspot.crm.deals.basic_api.get_page(limit=1, properties=["dealstage"]).results[0]
    contact = hubspot.crm.contacts.basic_api.get_page(limit=1).results[0]

    stage = "contractsent" if deal.properties["dealstage"] == "qualifiedtobuy" else "qualifiedtobuy"

    hubspot_admin.edits(object_type="deal", ids=[deal.id], properties={"dealstage": stage})
    hubspot_admin.edits(object_type="0-1", ids=[contact.id], properties={"jobtitle": "CMO"})

    events = receiver.wait_for(2)
    assert [(e["subscriptionType"], e["objectId"], e["changeSource"]) for e in events] == [
        ("deal.propertyChange", int(deal.id), "CRM_UI"),
        ("contact.propertyChange", int(contact.id), "CRM_UI"),
    ]
    history = hubspot.crm.contacts.basic_api.get_by_id(
        contact.id, properties_with_history=["jobtitle"]
    ).properties_with_history["jobtitle"]
    assert (history[0].value, history[0].source_type) == ("CMO", "CRM_UI")
    with pytest.raises(httpx.HTTPStatusError, match="400"):
        hubspot_admin.edits(object_type="deals", count=3)
