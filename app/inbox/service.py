"""Webhooks in: verify, store in the inbox with the job that processes it, answer fast
(processing is app.inbox.pipeline)."""

from __future__ import annotations

import hmac
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.connections.service import get_connection, open_credentials
from app.core.db import Database
from app.core.errors import NotFound, PayloadTooLarge, Unauthorized
from app.inbox.events import (
    InboxEvent,
    hubspot_events,
    salesforce_flow_events,
    salesforce_outbound,
)
from app.inbox.signatures import flow_valid, hubspot_v2_valid, hubspot_v3_valid
from app.inbox.writer import InboxWriter


def check_size(body: bytes, *, limit: int) -> None:
    """413 for bodies over the webhook limit."""
    if len(body) > limit:
        raise PayloadTooLarge(f"webhook bodies are limited to {limit:,} bytes")


async def _store(inbox: InboxWriter, connection_id: uuid.UUID, events: list[InboxEvent]) -> int:
    try:
        return await inbox.store(connection_id, events)
    except NotFound:
        # Deleted since its verifier was cached (here or on another replica).
        _verifiers.pop(connection_id, None)
        raise


@dataclass(slots=True, frozen=True)
class _Verifier:
    kind: str
    credentials: dict[str, Any]
    settings: dict[str, Any]
    loaded_at: float


# Connection id → what verifying its webhooks needs, for a few seconds: saves a query and a
# decryption per request on the hottest endpoint. Changed credentials apply within VERIFIER_TTL.
VERIFIER_TTL = 10.0
_verifiers: dict[uuid.UUID, _Verifier] = {}


async def _verifier(
    database: Database, connection_id: uuid.UUID, *, kind: str, secret: str
) -> tuple[_Verifier, str]:
    """The connection's verifier, if it is a ``kind`` connection, and its signing secret
    ``credentials[secret]``."""
    verifier = await _cached_verifier(database, connection_id)
    if verifier.kind != kind:
        raise NotFound(f"connection {connection_id} is not a {kind} connection")
    value = verifier.credentials.get(secret)
    if not value:
        raise Unauthorized(f"this connection has no credentials.{secret} to verify webhooks with")
    return verifier, str(value)


async def _cached_verifier(database: Database, connection_id: uuid.UUID) -> _Verifier:
    cached = _verifiers.get(connection_id)
    if cached is not None and time.monotonic() - cached.loaded_at < VERIFIER_TTL:
        return cached
    async with database.transaction() as session:
        connection = await get_connection(session, connection_id=connection_id)
    verifier = _Verifier(
        connection.kind,
        open_credentials(connection),
        dict(connection.settings),
        time.monotonic(),
    )
    if len(_verifiers) > 10_000:
        _verifiers.clear()
    _verifiers[connection_id] = verifier
    return verifier


async def accept_hubspot(
    inbox: InboxWriter,
    *,
    connection_id: uuid.UUID,
    method: str,
    uri: str,
    body: bytes,
    headers: Mapping[str, str],
) -> int:
    """Verify a HubSpot delivery (v3, or v2 when the connection allows it) and store its
    events; returns how many were new. No CRM call is made here."""
    connection, secret = await _verifier(
        inbox.database, connection_id, kind="hubspot", secret="client_secret"
    )
    problem = hubspot_v3_valid(
        client_secret=secret,
        method=method,
        uri=uri,
        body=body,
        timestamp=headers.get("x-hubspot-request-timestamp"),
        signature=headers.get("x-hubspot-signature-v3"),
        now_ms=int(time.time() * 1000),
    )
    if (
        problem
        and connection.settings.get("accept_v2_signatures")
        and "x-hubspot-signature" in headers
    ):
        problem = hubspot_v2_valid(
            client_secret=secret,
            method=method,
            uri=uri,
            body=body,
            signature=headers.get("x-hubspot-signature"),
        )
    if problem:
        raise Unauthorized(problem)
    return await _store(inbox, connection_id, hubspot_events(body))


def _check_organization(connection: _Verifier, organization_id: str) -> None:
    expected = connection.settings.get("salesforce_organization_id")
    if expected and organization_id[:15] != str(expected)[:15]:
        raise Unauthorized(f"OrganizationId {organization_id} is not this connection's")


async def accept_salesforce(
    inbox: InboxWriter, *, connection_id: uuid.UUID, body: bytes, secret: str | None
) -> int:
    """Check an Outbound Message's URL secret and organisation, store its notifications."""
    connection, expected = await _verifier(
        inbox.database, connection_id, kind="salesforce", secret="webhook_secret"
    )
    if not secret or not hmac.compare_digest(expected, secret):
        raise Unauthorized("wrong or missing ?secret= (credentials.webhook_secret)")
    message = salesforce_outbound(body)
    _check_organization(connection, message.organization_id)
    return await _store(inbox, connection_id, message.events)


async def accept_salesforce_flow(
    inbox: InboxWriter, *, connection_id: uuid.UUID, body: bytes, headers: Mapping[str, str]
) -> int:
    """A Flow HTTP callout (JSON) signed with the webhook secret; store its events."""
    connection, secret = await _verifier(
        inbox.database, connection_id, kind="salesforce", secret="webhook_secret"
    )
    problem = flow_valid(
        secret=secret,
        body=body,
        timestamp=headers.get("x-icp-sync-timestamp"),
        signature=headers.get("x-icp-sync-signature"),
        now_s=int(time.time()),
    )
    if problem:
        raise Unauthorized(problem)
    organization_id, events = salesforce_flow_events(body)
    _check_organization(connection, organization_id)
    return await _store(inbox, connection_id, events)
