"""Endpoint rules: public http(s) targets only, known event types, a secret shown once."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound, ValidationFailed, problem
from app.core.security import secrets_cipher
from app.models import WebhookEndpoint
from app.subscriptions import delivery
from app.subscriptions.repository import EndpointRepository
from app.subscriptions.schemas import EndpointCreate

SECRET_PREFIX = "whsec_"


@dataclass(slots=True, frozen=True)
class CreatedEndpoint:
    """A new endpoint and its signing secret in clear (the only time it is)."""

    endpoint: WebhookEndpoint
    secret: str


def new_signing_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


async def create_endpoint(session: AsyncSession, *, body: EndpointCreate) -> CreatedEndpoint:
    """Subscribe a URL to account events."""
    try:
        await delivery.check_target(body.url, allow_private=delivery.private_targets_allowed())
    except delivery.UnsafeTarget as exc:
        raise ValidationFailed([problem("url", str(exc))]) from exc
    secret = new_signing_secret()
    endpoint = await EndpointRepository(session).add(
        WebhookEndpoint(
            url=body.url,
            events=sorted(set(body.events)),
            description=body.description,
            secret=secrets_cipher().encrypt(secret.encode()),
        )
    )
    return CreatedEndpoint(endpoint, secret)


async def reseal_endpoint_secrets(session: AsyncSession) -> int:
    """Re-encrypt every endpoint's signing secret with the newest key (key rotation, beside
    the connections' credentials); how many there were."""
    endpoints = await EndpointRepository(session).all()
    for endpoint in endpoints:
        endpoint.secret = secrets_cipher().rotate(endpoint.secret)
    await session.flush()
    return len(endpoints)


async def list_endpoints(session: AsyncSession) -> Sequence[WebhookEndpoint]:
    """Every endpoint."""
    return await EndpointRepository(session).all()


async def delete_endpoint(session: AsyncSession, *, endpoint_id: uuid.UUID) -> None:
    """Unsubscribe an endpoint; its pending deliveries go with it."""
    repository = EndpointRepository(session)
    endpoint = await repository.get(endpoint_id)
    if endpoint is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    await repository.delete(endpoint)


async def list_deliveries(
    session: AsyncSession, *, endpoint_id: uuid.UUID, limit: int
) -> list[dict[str, Any]]:
    """An endpoint's delivery attempts, newest first."""
    repository = EndpointRepository(session)
    if await repository.get(endpoint_id) is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    return await repository.deliveries(endpoint_id, limit=limit)
