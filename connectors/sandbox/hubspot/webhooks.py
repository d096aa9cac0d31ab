"""Outgoing webhooks in HubSpot's v3 format: event arrays, signed, batched, retried.

Every creation, property change (API writes included, so our own write-backs come back as
events, as they do from HubSpot) and deletion is queued; a background task on the server's event
loop POSTs them to the target URL in batches of up to 100, signed with ``X-HubSpot-Signature-v3``
(base64 HMAC-SHA256 of method + URI + body + timestamp, keyed by the app's client secret) and the
older ``X-HubSpot-Signature`` v1, and retries failed deliveries with a growing delay.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import httpx
import orjson

from connectors.sandbox.common.delivery import BatchQueue
from connectors.sandbox.hubspot.store import SINGULAR, PropertyChange

__all__ = ["APP_ID", "PORTAL_ID", "SOURCE_API", "SOURCE_REP", "WebhookDispatcher", "sign_v3"]

logger = logging.getLogger(__name__)

PORTAL_ID: Final = 62515  # the sandbox's fake HubSpot account
APP_ID: Final = 54321
MAX_EVENTS_PER_REQUEST: Final = 100
_SUBSCRIPTION_IDS: Final = {
    "company.creation": 1001,
    "company.propertyChange": 1002,
    "company.deletion": 1003,
    "deal.creation": 2001,
    "deal.propertyChange": 2002,
    "deal.deletion": 2003,
    "contact.creation": 3001,
    "contact.propertyChange": 3002,
    "contact.deletion": 3003,
    "company.associationChange": 1004,
    "deal.associationChange": 2004,
    "contact.associationChange": 3004,
}
# The object types the app subscribes to; changes to others send nothing.
_SUBSCRIBED: Final = frozenset(kind.split(".")[0] for kind in _SUBSCRIPTION_IDS)
# Where a change came from, as HubSpot's changeSource names it.
SOURCE_API: Final = "INTEGRATION"
SOURCE_REP: Final = "CRM_UI"


def sign_v3(client_secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """``X-HubSpot-Signature-v3``: base64(HMAC-SHA256(secret, method + uri + body + timestamp))."""
    message = method.encode() + uri.encode() + body + timestamp.encode()
    digest = hmac.new(client_secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass
class DeliveryStats:
    """What the dispatcher has done since the last reset."""

    delivered_requests: int = 0
    delivered_events: int = 0
    failed_attempts: int = 0
    dropped_events: int = 0
    redelivered_requests: int = 0


class WebhookDispatcher:
    """Queues change events and delivers them to the configured target URL."""

    def __init__(self, client_secret: str) -> None:
        self.client_secret = client_secret
        self.target_url: str | None = None
        self.max_attempts = 5
        self.retry_delay_seconds = 0.5
        self.redeliver = False
        self.stats = DeliveryStats()
        self._queue: BatchQueue[dict[str, Any]] = BatchQueue(
            self._deliver, max_batch=MAX_EVENTS_PER_REQUEST, name="sandbox-hubspot-webhooks"
        )
        self._event_ids = itertools.count(1)

    def configure(
        self,
        target_url: str | None,
        *,
        max_attempts: int | None = None,
        retry_delay_seconds: float | None = None,
        redeliver: bool | None = None,
    ) -> None:
        """Send future events to ``target_url`` (None stops webhooks and drops pending events).

        ``redeliver``: send every accepted request a second time, as HubSpot's at-least-once
        delivery does when it misses the answer (its retry repeats the events with
        ``attemptNumber`` one higher), so listeners can show they process an event once."""
        self.target_url = target_url or None
        if redeliver is not None:
            self.redeliver = redeliver
        if max_attempts is not None:
            self.max_attempts = max(1, max_attempts)
        if retry_delay_seconds is not None:
            self.retry_delay_seconds = max(0.0, retry_delay_seconds)
        if self.target_url is None:
            self._queue.clear()

    def reset(self) -> None:
        """Drop pending events and forget the counts (the target URL stays)."""
        self._queue.clear()
        self.stats = DeliveryStats()

    def snapshot(self) -> dict[str, Any]:
        """The settings and counts, for ``GET /_sandbox/webhooks``."""
        return {
            "target_url": self.target_url,
            "max_attempts": self.max_attempts,
            "retry_delay_seconds": self.retry_delay_seconds,
            "pending_events": self._queue.pending,
            "delivered_requests": self.stats.delivered_requests,
            "delivered_events": self.stats.delivered_events,
            "failed_attempts": self.stats.failed_attempts,
            "dropped_events": self.stats.dropped_events,
            "redeliver": self.redeliver,
            "redelivered_requests": self.stats.redelivered_requests,
        }

    @property
    def enabled(self) -> bool:
        """Whether events are being collected at all (a target URL is set)."""
        return self.target_url is not None

    def _subscribed(self, object_type: str) -> bool:
        return self.target_url is not None and SINGULAR[object_type] in _SUBSCRIBED

    # -- emitting -------------------------------------------------------------------------------

    def _event(
        self, object_type: str, kind: str, object_id: int, source: str, **extra: Any
    ) -> dict[str, Any]:
        subscription_type = f"{SINGULAR[object_type]}.{kind}"
        event = {
            "eventId": next(self._event_ids),
            "subscriptionId": _SUBSCRIPTION_IDS[subscription_type],
            "portalId": PORTAL_ID,
            "appId": APP_ID,
            "occurredAt": int(time.time() * 1000),
            "subscriptionType": subscription_type,
            "attemptNumber": 0,
            "objectId": object_id,
            "changeSource": source,
            "sourceId": f"{APP_ID}" if source == SOURCE_API else "userId:1000001",
        }
        event.update(extra)
        return event

    def _enqueue(self, events: Iterable[dict[str, Any]]) -> None:
        self._queue.extend(events)

    def created(self, object_type: str, object_id: int, source: str) -> None:
        """Queue a ``<object>.creation`` event."""
        if self._subscribed(object_type):
            self._enqueue([self._event(object_type, "creation", object_id, source)])

    def deleted(self, object_type: str, object_id: int, source: str) -> None:
        """Queue a ``<object>.deletion`` event."""
        if self._subscribed(object_type):
            self._enqueue([self._event(object_type, "deletion", object_id, source)])

    def associated(
        self, source_type: str, from_id: int, target_type: str, to_id: int, source: str
    ) -> None:
        """Queue a ``<object>.associationChange`` event for a new link from one record to
        another (HubSpot sends one per direction; the caller asks for each)."""
        if self._subscribed(source_type):
            event = self._event(
                source_type,
                "associationChange",
                from_id,
                source,
                associationType=f"{SINGULAR[source_type]}_TO_{SINGULAR[target_type]}".upper(),
                fromObjectId=from_id,
                toObjectId=to_id,
                associationRemoved=False,
                isPrimaryAssociation=False,
            )
            # Association events name their records fromObjectId → toObjectId only.
            del event["objectId"]
            self._enqueue([event])

    def changed(self, object_type: str, changes: Iterable[PropertyChange], source: str) -> None:
        """Queue one ``<object>.propertyChange`` event per changed value."""
        if self._subscribed(object_type):
            self._enqueue(
                self._event(
                    object_type,
                    "propertyChange",
                    change.object_id,
                    source,
                    propertyName=change.name,
                    propertyValue=change.value if change.value is not None else "",
                )
                for change in changes
            )

    # -- delivering -----------------------------------------------------------------------------

    async def _deliver(self, client: httpx.AsyncClient, batch: list[dict[str, Any]]) -> None:
        delivered_at = await self._deliver_once(client, batch, first_attempt=0)
        if delivered_at is None or not self.redeliver:
            return
        if await self._deliver_once(client, batch, first_attempt=delivered_at + 1) is not None:
            self.stats.redelivered_requests += 1

    async def _deliver_once(
        self, client: httpx.AsyncClient, batch: list[dict[str, Any]], *, first_attempt: int
    ) -> int | None:
        """POST the batch until the target takes it; the attempt that succeeded, or None."""
        for attempt in range(first_attempt, first_attempt + self.max_attempts):
            target = self.target_url
            if target is None:
                self.stats.dropped_events += len(batch)
                return None
            for event in batch:
                event["attemptNumber"] = attempt
            body = orjson.dumps(batch)
            timestamp = str(int(time.time() * 1000))
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/) (sandbox)",
                "X-HubSpot-Signature-v3": sign_v3(
                    self.client_secret, "POST", target, body, timestamp
                ),
                "X-HubSpot-Request-Timestamp": timestamp,
                "X-HubSpot-Signature": hashlib.sha256(
                    self.client_secret.encode() + body
                ).hexdigest(),
                "X-HubSpot-Signature-Version": "v1",
            }
            with contextlib.suppress(httpx.HTTPError):
                response = await client.post(target, content=body, headers=headers)
                if 200 <= response.status_code < 300:
                    if first_attempt == 0:
                        self.stats.delivered_requests += 1
                        self.stats.delivered_events += len(batch)
                    return attempt
            self.stats.failed_attempts += 1
            if attempt + 1 < first_attempt + self.max_attempts:
                await asyncio.sleep(self.retry_delay_seconds * 2 ** (attempt - first_attempt))
        if first_attempt == 0:
            self.stats.dropped_events += len(batch)
            logger.warning(
                "dropped %d webhook events after %d attempts", len(batch), self.max_attempts
            )
        return None
