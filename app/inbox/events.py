"""Parsing what CRMs send into inbox events (pure: bytes in, events or a BadRequest out)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

import orjson

from app.core.errors import BadRequest
from connectors.normalize import without_nul

# Changes to these are our own write-backs echoing: processing them would loop.
OWN_PROPERTY_PREFIX = "icp_"
HUBSPOT_TYPES = {
    "company.creation",
    "company.propertyChange",
    "company.deletion",
    "company.merge",
    "company.restore",
}
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOBJECT_NS = "urn:sobject.enterprise.soap.sforce.com"


# How JSON spells a NUL character (a raw NUL byte is not valid JSON, and orjson refuses it).
_JSON_NUL = b"\\u0000"


def _json_without_nul(body: bytes) -> Any:
    """The parsed JSON body with NUL characters stripped from its strings (the database
    cannot store them); the body is searched first, so a clean one costs one scan."""
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the body is not JSON: {exc}") from None
    return without_nul(raw) if _JSON_NUL in body else raw


@dataclass(slots=True, frozen=True)
class InboxEvent:
    """One change notification, as stored in the inbox."""

    dedupe_key: str
    event_type: str
    object_id: str
    payload: dict[str, Any]


def hubspot_events(body: bytes) -> list[InboxEvent]:
    """HubSpot's JSON array of events; our own ``icp_*`` property changes are left out.

    The dedupe key is ``subscriptionId:eventId:objectId:occurredAt``: HubSpot documents that
    ``eventId`` alone is not guaranteed unique, while a redelivery repeats all four.
    """
    raw = _json_without_nul(body)
    if not isinstance(raw, list):
        raise BadRequest("HubSpot sends a JSON array of events")
    events = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise BadRequest(f"event [{index}] is not an object")
        missing = [k for k in ("eventId", "subscriptionType", "objectId") if k not in item]
        if missing:
            raise BadRequest(f"event [{index}] lacks {', '.join(missing)}")
        kind = str(item["subscriptionType"])
        if kind not in HUBSPOT_TYPES:
            continue  # other objects' events: not ours to handle
        if kind == "company.propertyChange" and str(item.get("propertyName", "")).startswith(
            OWN_PROPERTY_PREFIX
        ):
            continue
        key = ":".join(
            str(item.get(k, "")) for k in ("subscriptionId", "eventId", "objectId", "occurredAt")
        )
        events.append(InboxEvent(key, kind, str(item["objectId"]), item))
    return events


@dataclass(slots=True, frozen=True)
class OutboundMessage:
    """A Salesforce Outbound Message: the sending org and its notifications."""

    organization_id: str
    events: list[InboxEvent]


def salesforce_outbound(body: bytes) -> OutboundMessage:
    """Salesforce's SOAP ``notifications`` (outbound messaging WSDL); each Notification ``Id``
    is its dedupe key."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise BadRequest(f"the body is not XML: {exc}") from None
    notifications = root.find(f".//{{{OUTBOUND_NS}}}notifications")
    if notifications is None:
        raise BadRequest("no <notifications> element: not a Salesforce outbound message")
    organization = notifications.findtext(f"{{{OUTBOUND_NS}}}OrganizationId") or ""
    events = []
    for notification in notifications.findall(f"{{{OUTBOUND_NS}}}Notification"):
        notification_id = notification.findtext(f"{{{OUTBOUND_NS}}}Id")
        sobject = notification.find(f"{{{OUTBOUND_NS}}}sObject")
        record_id = sobject.findtext(f"{{{SOBJECT_NS}}}Id") if sobject is not None else None
        if not notification_id or not record_id:
            raise BadRequest("a Notification lacks its Id or its sObject Id")
        fields = {
            child.tag.rsplit("}", 1)[-1]: child.text
            for child in (sobject if sobject is not None else [])
        }
        events.append(
            InboxEvent(notification_id, "account.changed", record_id, {"sObject": fields})
        )
    return OutboundMessage(organization, events)


def salesforce_flow_events(body: bytes) -> tuple[str, list[InboxEvent]]:
    """A Flow callout's JSON: ``{"organizationId", "events": [{"id", "recordId",
    "deleted"?}]}``; each event ``id`` (unique per change, e.g. the record id + its
    SystemModstamp) is its dedupe key. Returns (organization id, events)."""
    raw = _json_without_nul(body)
    if not isinstance(raw, dict) or not isinstance(raw.get("events"), list):
        raise BadRequest('send {"organizationId": "...", "events": [{"id", "recordId"}]}')
    events = []
    for index, item in enumerate(raw["events"]):
        if not isinstance(item, dict) or not item.get("id") or not item.get("recordId"):
            raise BadRequest(f"events[{index}] needs an id and a recordId")
        kind = "account.deleted" if item.get("deleted") is True else "account.changed"
        events.append(InboxEvent(f"flow:{item['id']}", kind, str(item["recordId"]), item))
    return str(raw.get("organizationId") or ""), events


SALESFORCE_ACK = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    b"<soapenv:Body>"
    b'<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">'
    b"<Ack>true</Ack></notificationsResponse>"
    b"</soapenv:Body></soapenv:Envelope>"
)
