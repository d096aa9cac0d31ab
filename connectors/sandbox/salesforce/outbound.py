"""Salesforce Outbound Messages: SOAP ``notifications`` sent when accounts (and, when configured,
opportunities or contacts) are saved.

Like a workflow rule "created, and every time it's edited", every saved record of a configured
object (API writes included, so our own write-backs come back too) becomes a notification. An
outbound message belongs to one object, so a message never mixes objects. A background task on
the server's event loop POSTs them in messages of up to 100, with the record's data as it is at
sending time, and sends a message again (same notification ids) until the listener answers with
the ``notificationsResponse`` / ``<Ack>true</Ack>`` envelope.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from xml.sax.saxutils import escape

import httpx

from connectors.sandbox.common.delivery import BatchQueue
from connectors.sandbox.salesforce.ids import ORGANIZATION_ID, IdFactory, make_id
from connectors.sandbox.salesforce.store import ObjectStore

__all__ = ["ACK_ENVELOPE", "OUTBOUND_NS", "OutboundDispatcher", "acknowledged"]

logger = logging.getLogger(__name__)

OUTBOUND_NS: Final = "http://soap.sforce.com/2005/09/outbound"
SOBJECT_NS: Final = "urn:sobject.enterprise.soap.sforce.com"
MAX_NOTIFICATIONS: Final = 100
DEFAULT_OBJECTS: Final = ("Account",)
ACTION_ID: Final = make_id("04k", 62**5 * 30 + 12)
ACK_ENVELOPE: Final = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    f'<soapenv:Body><notificationsResponse xmlns="{OUTBOUND_NS}"><Ack>true</Ack>'
    "</notificationsResponse></soapenv:Body></soapenv:Envelope>"
)


def acknowledged(status: int, body: bytes) -> bool:
    """Whether a listener's answer is the acknowledgement Salesforce waits for."""
    if status != 200:
        return False
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return False
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == "Ack":
            return (element.text or "").strip().lower() == "true"
    return False


def _xml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str) and len(value) == 28 and value.endswith("+0000") and value[10] == "T":
        return value[:23] + "Z"  # xsd:dateTime
    return escape(str(value))


@dataclass
class OutboundStats:
    """What the dispatcher has done since the last reset."""

    delivered_messages: int = 0
    delivered_notifications: int = 0
    failed_attempts: int = 0
    dropped_notifications: int = 0


@dataclass(frozen=True)
class _Notification:
    id: str
    record_id: str
    object_name: str = "Account"


class OutboundDispatcher:
    """Queues notifications of saved records and delivers them to the configured listener."""

    def __init__(
        self, stores: Callable[[str], ObjectStore | None], session_id: Callable[[], str]
    ) -> None:
        self._stores = stores
        self.objects: tuple[str, ...] = DEFAULT_OBJECTS
        self._session_id = session_id
        self.target_url: str | None = None
        self.base_url = "https://127.0.0.1"
        self.version = "59.0"
        self.organization_id = ORGANIZATION_ID
        self.fields: list[str] | None = None
        self.send_session_id = False
        self.max_attempts = 10
        self.retry_delay_seconds = 0.5
        self.max_retry_delay_seconds = 30.0
        self.stats = OutboundStats()
        self._queue: BatchQueue[_Notification] = BatchQueue(
            self._deliver, max_batch=MAX_NOTIFICATIONS, name="salesforce-outbound"
        )
        self._ids = IdFactory("04l")

    def configure(self, target_url: str | None, **settings: Any) -> None:
        """Send future notifications to ``target_url`` (None stops and drops pending ones).

        Settings: organization_id, objects (whose saves are sent: one outbound message per
        object, as one workflow rule per object sends them; Account alone unless given),
        fields (which fields each sObject carries; default every field with a value),
        session_id (send a session id), max_attempts, retry_delay_seconds, base_url and
        version (for the Enterprise/Partner URLs).
        """
        self.target_url = target_url or None
        self.objects = tuple(str(o) for o in settings.get("objects") or DEFAULT_OBJECTS)
        if settings.get("organization_id"):
            self.organization_id = str(settings["organization_id"])
        if "fields" in settings:
            fields = settings["fields"]
            self.fields = [str(f) for f in fields] if fields else None
        if settings.get("session_id") is not None:
            self.send_session_id = bool(settings["session_id"])
        if settings.get("max_attempts") is not None:
            self.max_attempts = max(1, int(settings["max_attempts"]))
        if settings.get("retry_delay_seconds") is not None:
            self.retry_delay_seconds = max(0.0, float(settings["retry_delay_seconds"]))
        if settings.get("base_url"):
            self.base_url = str(settings["base_url"]).rstrip("/")
        if settings.get("version"):
            self.version = str(settings["version"])
        if self.target_url is None:
            self._queue.clear()

    def reset(self) -> None:
        """Drop pending notifications and forget the counts (the target stays)."""
        self._queue.clear()
        self.stats = OutboundStats()

    def snapshot(self) -> dict[str, Any]:
        """The settings and counts, for ``GET /_sandbox/outbound``."""
        return {
            "target_url": self.target_url,
            "objects": list(self.objects),
            "organization_id": self.organization_id,
            "action_id": ACTION_ID,
            "fields": self.fields,
            "session_id": self.send_session_id,
            "max_attempts": self.max_attempts,
            "retry_delay_seconds": self.retry_delay_seconds,
            "pending_notifications": self._queue.pending,
            "delivered_messages": self.stats.delivered_messages,
            "delivered_notifications": self.stats.delivered_notifications,
            "failed_attempts": self.stats.failed_attempts,
            "dropped_notifications": self.stats.dropped_notifications,
        }

    # -- emitting --------------------------------------------------------------------------------

    def saved(self, object_name: str, ids: list[str]) -> None:
        """Queue one notification per saved record of a configured object (an org listener)."""
        if self.target_url is None or object_name not in self.objects:
            return
        self._queue.extend(
            _Notification(self._ids.next(), record_id, object_name) for record_id in ids
        )

    def envelope(self, batch: list[_Notification]) -> bytes:
        """The SOAP message for a batch of one object's notifications, with each record's
        current data."""
        object_name = batch[0].object_name if batch else "Account"
        store = self._stores(object_name)
        assert store is not None, object_name
        records = store.records
        names = [n for n in (self.fields or store.schema.fields) if n in store.schema.fields]
        session = (
            f"<SessionId>{escape(self._session_id())}</SessionId>"
            if self.send_session_id
            else '<SessionId xsi:nil="true"/>'
        )
        org15 = self.organization_id[:15]
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<soapenv:Body><notifications xmlns="{OUTBOUND_NS}">'
            f"<OrganizationId>{self.organization_id}</OrganizationId>"
            f"<ActionId>{ACTION_ID}</ActionId>{session}"
            f"<EnterpriseUrl>{escape(self.base_url)}/services/Soap/c/{self.version}/{org15}"
            "</EnterpriseUrl>"
            f"<PartnerUrl>{escape(self.base_url)}/services/Soap/u/{self.version}/{org15}"
            "</PartnerUrl>"
        ]
        for notification in batch:
            record = records.get(notification.record_id)
            if record is None:
                continue
            parts.append(
                f"<Notification><Id>{notification.id}</Id>"
                f'<sObject xsi:type="sf:{object_name}" xmlns:sf="{SOBJECT_NS}">'
            )
            parts.append(f"<sf:Id>{record['Id']}</sf:Id>")
            for name in names:
                value = record.get(name)
                if name != "Id" and value is not None:
                    parts.append(f"<sf:{name}>{_xml_value(value)}</sf:{name}>")
            parts.append("</sObject></Notification>")
        parts.append("</notifications></soapenv:Body></soapenv:Envelope>")
        return "".join(parts).encode()

    # -- delivering ------------------------------------------------------------------------------

    async def _deliver(self, client: httpx.AsyncClient, batch: list[_Notification]) -> None:
        by_object: dict[str, list[_Notification]] = {}
        for notification in batch:
            by_object.setdefault(notification.object_name, []).append(notification)
        for notifications in by_object.values():
            await self._deliver_message(client, notifications)

    async def _deliver_message(self, client: httpx.AsyncClient, batch: list[_Notification]) -> None:
        for attempt in range(self.max_attempts):
            target = self.target_url
            if target is None:
                self.stats.dropped_notifications += len(batch)
                return
            headers = {
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": '""',
                "User-Agent": "Salesforce Outbound Messaging (icp-sync sandbox)",
            }
            with contextlib.suppress(httpx.HTTPError):
                response = await client.post(target, content=self.envelope(batch), headers=headers)
                if acknowledged(response.status_code, response.content):
                    self.stats.delivered_messages += 1
                    self.stats.delivered_notifications += len(batch)
                    return
            self.stats.failed_attempts += 1
            if attempt + 1 < self.max_attempts:
                delay = min(self.max_retry_delay_seconds, self.retry_delay_seconds * 2**attempt)
                await asyncio.sleep(delay)
        self.stats.dropped_notifications += len(batch)
        logger.warning(
            "dropped %d outbound notifications after %d attempts", len(batch), self.max_attempts
        )
