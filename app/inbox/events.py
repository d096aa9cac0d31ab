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
# The objects whose changes we act on, and HubSpot's event kinds for each (associationChange:
# a deal or contact linked to, or unlinked from, a company).
HUBSPOT_OBJECTS = ("company", "deal", "contact")
HUBSPOT_KINDS = ("creation", "propertyChange", "deletion", "merge", "restore", "associationChange")
HUBSPOT_TYPES = {f"{obj}.{kind}" for obj in HUBSPOT_OBJECTS for kind in HUBSPOT_KINDS} - {
    "company.associationChange"  # a company's side of a link: the deal's or contact's says it
}
# Every stored event type whose object is gone from the CRM.
DELETIONS = frozenset(
    {"company.deletion", "deal.deletion", "contact.deletion", "account.deleted"}
    | {"deal.deleted", "contact.deleted"}
)
# Salesforce record ids start with their object's key prefix.
SALESFORCE_PREFIXES = {"001": "account", "006": "deal", "003": "contact"}


def object_of(event_type: str) -> str:
    """Which object an inbox event is about: ``company``, ``deal`` or ``contact``."""
    obj = event_type.split(".", 1)[0]
    return "company" if obj == "account" else obj


def _salesforce_type(record_id: str, *, deleted: bool) -> str:
    obj = SALESFORCE_PREFIXES.get(record_id[:3], "account")
    return f"{obj}.{'deleted' if deleted else 'changed'}"


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
        kind = str(item.get("subscriptionType", ""))
        # An association change names its objects fromObjectId → toObjectId, not objectId.
        id_key = "fromObjectId" if kind.endswith(".associationChange") else "objectId"
        missing = [k for k in ("eventId", "subscriptionType", id_key) if k not in item]
        if missing:
            raise BadRequest(f"event [{index}] lacks {', '.join(missing)}")
        if kind not in HUBSPOT_TYPES:
            continue  # other objects' events: not ours to handle
        if kind == "company.propertyChange" and str(item.get("propertyName", "")).startswith(
            OWN_PROPERTY_PREFIX
        ):
            continue
        key = ":".join(
            str(item.get(k, "")) for k in ("subscriptionId", "eventId", id_key, "occurredAt")
        )
        events.append(InboxEvent(key, kind, str(item[id_key]), item))
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
            InboxEvent(
                notification_id,
                _salesforce_type(record_id, deleted=False),
                record_id,
                {"sObject": fields},
            )
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
        record_id = str(item["recordId"])
        kind = _salesforce_type(record_id, deleted=item.get("deleted") is True)
        events.append(InboxEvent(f"flow:{item['id']}", kind, record_id, item))
    return str(raw.get("organizationId") or ""), events


SALESFORCE_ACK = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    b"<soapenv:Body>"
    b'<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">'
    b"<Ack>true</Ack></notificationsResponse>"
    b"</soapenv:Body></soapenv:Envelope>"
)
