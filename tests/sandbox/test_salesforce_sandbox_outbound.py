"""Outbound Messages from the Salesforce sandbox: SOAP notifications of saved accounts, batched
by up to 100, and sent again until the listener acknowledges them."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from simple_salesforce import Salesforce, SFType
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.sandbox.common.admin_client import SandboxAdmin
from connectors.sandbox.common.server import start_server
from connectors.sandbox.salesforce.outbound import ACK_ENVELOPE

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
SOBJECT = "urn:sobject.enterprise.soap.sforce.com"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS = {"soapenv": SOAP, "om": OUTBOUND, "sf": SOBJECT}


@dataclass
class Message:
    """One delivery attempt as the listener received it."""

    headers: dict[str, str]
    body: bytes
    acknowledged: bool

    @property
    def notifications(self) -> list[ET.Element]:
        root = ET.fromstring(self.body)
        return root.findall("soapenv:Body/om:notifications/om:Notification", NS)

    def header_fields(self) -> dict[str, ET.Element]:
        notifications = ET.fromstring(self.body).find("soapenv:Body/om:notifications", NS)
        assert notifications is not None
        return {
            child.tag.split("}")[1]: child
            for child in notifications
            if child.tag != f"{{{OUTBOUND}}}Notification"
        }


@dataclass
class Listener:
    """An outbound message endpoint that records what it is sent and can fail on purpose."""

    url: str = ""
    messages: list[Message] = field(default_factory=list)
    fail_next: list[str] = field(default_factory=list)  # "500" or "no-ack", one per attempt

    def acknowledged(self) -> list[Message]:
        return [m for m in self.messages if m.acknowledged]

    def wait_for(self, notifications: int, timeout: float = 10.0) -> list[Message]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(len(m.notifications) for m in self.acknowledged()) >= notifications:
                break
            time.sleep(0.02)
        return self.acknowledged()


@pytest.fixture
def listener() -> Iterator[Listener]:
    sink = Listener()

    async def receive(request: Request) -> Response:
        body = await request.body()
        failure = sink.fail_next.pop(0) if sink.fail_next else None
        sink.messages.append(Message(dict(request.headers), body, acknowledged=failure is None))
        if failure == "500":
            return Response("boom", status_code=500)
        if failure == "no-ack":
            return Response("<ok/>", media_type="text/xml")
        return Response(ACK_ENVELOPE, media_type="text/xml")

    app = Starlette(routes=[Route("/hooks/salesforce", receive, methods=["POST"])])
    with start_server(app) as server:
        sink.url = f"{server.url}/hooks/salesforce"
        yield sink


def _account(sf: Salesforce) -> SFType:
    """``sf.Account``, typed (simple-salesforce types it as a union with the bulk handlers)."""
    return cast(SFType, sf.Account)


def _ids(sf: Salesforce, count: int) -> list[str]:
    rows = sf.query(f"SELECT Id FROM Account ORDER BY Id LIMIT {count}")["records"]
    return [row["Id"] for row in rows]


def _sobject(notification: ET.Element) -> dict[str, Any]:
    sobject = notification.find("om:sObject", NS)
    assert sobject is not None
    return {
        "type": sobject.get(f"{{{XSI}}}type"),
        "fields": {child.tag.split("}")[1]: child.text for child in sobject},
    }


def test_an_api_update_is_sent_as_a_soap_notification_with_the_current_record(
    sf_admin: SandboxAdmin, sf: Salesforce, listener: Listener
) -> None:
    sf_admin.post("outbound", {"target_url": listener.url})
    account_id = _ids(sf, 1)[0]

    _account(sf).update(account_id, {"ICP_Tier__c": "A", "ICP_Is_MQL__c": True})

    [message] = listener.wait_for(1)
    header = message.header_fields()
    assert message.headers["content-type"].startswith("text/xml")
    assert message.headers["soapaction"] == '""'
    assert header["OrganizationId"].text and header["OrganizationId"].text.startswith("00D")
    assert header["ActionId"].text and header["ActionId"].text.startswith("04k")
    assert header["SessionId"].get(f"{{{XSI}}}nil") == "true"
    assert header["PartnerUrl"].text and "/services/Soap/u/62.0/00D" in header["PartnerUrl"].text
    assert (
        header["EnterpriseUrl"].text and "/services/Soap/c/62.0/00D" in header["EnterpriseUrl"].text
    )
    [notification] = message.notifications
    notification_id = notification.find("om:Id", NS)
    assert notification_id is not None and (notification_id.text or "").startswith("04l")
    sobject = _sobject(notification)
    assert sobject["type"] == "sf:Account"
    assert sobject["fields"]["Id"] == account_id
    assert sobject["fields"]["ICP_Tier__c"] == "A"
    assert sobject["fields"]["ICP_Is_MQL__c"] == "true"
    assert sobject["fields"]["Name"] == _account(sf).get(account_id)["Name"]
    assert sobject["fields"]["SystemModstamp"].endswith("Z")


def test_a_collection_update_is_delivered_in_messages_of_at_most_100_notifications(
    sf_admin: SandboxAdmin, sf: Salesforce, listener: Listener
) -> None:
    sf_admin.post("reset", {"seed": 7, "accounts": 150})
    sf_admin.post("outbound", {"target_url": listener.url})
    ids = _ids(sf, 150)

    sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={
            "records": [
                {"attributes": {"type": "Account"}, "id": i, "ICP_Tier__c": "B"} for i in ids
            ]
        },
    )

    messages = listener.wait_for(150)
    notified = [_sobject(n)["fields"]["Id"] for m in messages for n in m.notifications]
    assert sorted(notified) == sorted(ids)
    assert [len(m.notifications) for m in messages] == [100, 50]
    assert sf_admin.wait_until_sent()["delivered_notifications"] == 150


def test_a_message_is_sent_again_until_the_listener_acknowledges_it(
    sf_admin: SandboxAdmin, sf: Salesforce, listener: Listener
) -> None:
    listener.fail_next = ["500", "no-ack"]
    sf_admin.post("outbound", {"target_url": listener.url, "retry_delay_seconds": 0.05})
    account_id = _ids(sf, 1)[0]

    _account(sf).update(account_id, {"ICP_Version__c": "v7"})

    listener.wait_for(1)
    attempts = listener.messages
    assert [m.acknowledged for m in attempts] == [False, False, True]
    ids = {n.findtext("om:Id", namespaces=NS) for m in attempts for n in m.notifications}
    assert len(ids) == 1, "a retry resends the same notification"
    # The sandbox counts a delivery once it has read the Ack, a moment after we received it.
    state = sf_admin.wait_until_sent()
    assert (state["failed_attempts"], state["delivered_messages"]) == (2, 1)


def test_creations_and_rep_edits_are_notified_and_read_back_by_id(
    sf_admin: SandboxAdmin, sf: Salesforce, listener: Listener
) -> None:
    sf_admin.post("outbound", {"target_url": listener.url, "fields": ["Name", "NPS__c"]})

    created = _account(sf).create({"Name": "Delta Media"})["id"]
    edited = sf_admin.edits(count=2)["edited"]

    messages = listener.wait_for(3)
    sobjects = {
        s["fields"]["Id"]: s["fields"]
        for s in (_sobject(n) for m in messages for n in m.notifications)
    }
    assert set(sobjects) == {created, *(e["id"] for e in edited)}
    assert sobjects[created] == {"Id": created, "Name": "Delta Media"}
    assert all(set(fields) <= {"Id", "Name", "NPS__c"} for fields in sobjects.values())


def test_nothing_is_sent_without_a_target(sf_admin: SandboxAdmin, sf: Salesforce) -> None:
    _account(sf).update(_ids(sf, 1)[0], {"ICP_Tier__c": "C"})

    state = sf_admin.get("outbound")

    assert state["target_url"] is None
    assert state["pending_notifications"] == 0


def test_opportunities_and_contacts_are_sent_when_configured_one_object_per_message(
    sf_admin: SandboxAdmin, sf: Salesforce, listener: Listener
) -> None:
    sf_admin.reset(seed=2, accounts=3, opportunities_per_account=1, contacts_per_account=1)
    every_field = {"fields": None}  # an earlier test's field list stays until replaced
    sf_admin.post(
        "outbound",
        {"target_url": listener.url, "objects": ["Opportunity", "Contact"], **every_field},
    )
    opportunity = sf.query("SELECT Id FROM Opportunity LIMIT 1")["records"][0]["Id"]
    contact = sf.query("SELECT Id FROM Contact LIMIT 1")["records"][0]["Id"]

    _account(sf).update(_ids(sf, 1)[0], {"ICP_Tier__c": "B"})  # Account: not configured
    cast(SFType, sf.Opportunity).update(opportunity, {"StageName": "Closed Won"})
    cast(SFType, sf.Contact).update(contact, {"Title": "Head of SEO"})

    messages = listener.wait_for(2)
    assert len(messages) == 2
    sent = [[_sobject(n) for n in m.notifications] for m in messages]
    by_type = {objects[0]["type"]: objects for objects in sent}
    assert by_type.keys() == {"sf:Opportunity", "sf:Contact"}
    assert all(len(objects) == 1 for objects in sent)
    [won] = by_type["sf:Opportunity"]
    assert (won["fields"]["Id"], won["fields"]["IsWon"]) == (opportunity, "true")
    assert by_type["sf:Contact"][0]["fields"]["Title"] == "Head of SEO"
    assert sf_admin.get("outbound")["objects"] == ["Opportunity", "Contact"]
