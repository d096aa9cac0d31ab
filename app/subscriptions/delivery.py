"""Sending events: the address guard, Standard Webhooks signatures, the retry schedule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import orjson
from standardwebhooks import Webhook

from app.core import addresses
from app.core.addresses import AddressKind
from app.core.config import get_settings
from app.core.security import secrets_cipher
from app.subscriptions.repository import AttemptResult, DueDelivery

Clock = Callable[[], datetime]

# After failed attempt n, attempt n + 1 waits RETRY_DELAYS[n - 1]; after the last, give up.
RETRY_DELAYS = (
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
DISABLE_AFTER = timedelta(days=5)
SEND_TIMEOUT = httpx.Timeout(10.0)


class UnsafeTarget(Exception):
    """The URL is not one webhooks may be sent to (scheme, or a non-public address)."""


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


def private_targets_allowed() -> bool:
    """Whether the settings let webhooks reach private, loopback and link-local addresses."""
    return get_settings().webhook_allow_private_targets


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (tests replace this to simulate DNS)."""
    return addresses.resolve_host(host, port)


async def check_target(url: str, *, allow_private: bool) -> None:
    """Raise UnsafeTarget unless ``url`` is http(s) and (unless ``allow_private``) every
    address its host resolves to is public: no SSRF into our own network."""
    problem = await addresses.url_problem(
        url,
        allowed=set(AddressKind) if allow_private else {AddressKind.PUBLIC},
        # Looked up at call time, so a test's stand-in DNS applies.
        resolve=lambda host, port: resolve_host(host, port),
    )
    if problem:
        raise UnsafeTarget(f"{problem}; webhook_allow_private_targets permits private ones")


def message_body(delivery: DueDelivery) -> bytes:
    """The JSON sent: Standard Webhooks' ``{type, timestamp, data}`` envelope."""
    return orjson.dumps(
        {
            "type": delivery.event_type,
            "timestamp": delivery.event_created_at.astimezone(UTC).isoformat(),
            "data": delivery.payload,
        }
    )


def signed_headers(
    *, secret: str, message_id: str, sent_at: datetime, body: bytes
) -> dict[str, str]:
    """The ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` headers."""
    sent_at = sent_at.astimezone(UTC)
    signature = Webhook(secret).sign(message_id, sent_at, body.decode())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
    }


def retry_at(attempt: int, failed_at: datetime) -> datetime | None:
    """When the attempt after failed ``attempt`` is due, or None once retries are spent."""
    if attempt >= MAX_ATTEMPTS:
        return None
    return failed_at + RETRY_DELAYS[attempt - 1]


async def send_once(
    client: httpx.AsyncClient, delivery: DueDelivery, *, allow_private: bool, now: Clock
) -> AttemptResult:
    """One attempt: re-check the address (DNS may have changed since the endpoint was
    registered), sign, POST; a 2xx is a success, anything else a failure."""
    attempted_at = now()
    try:
        await check_target(delivery.url, allow_private=allow_private)
    except UnsafeTarget as exc:
        return AttemptResult(delivery, attempted_at, succeeded=False, error=f"refused: {exc}")
    body = message_body(delivery)
    headers = signed_headers(
        secret=secrets_cipher().decrypt(delivery.secret).decode(),
        message_id=f"msg_{delivery.event_id}",
        sent_at=attempted_at,
        body=body,
    )
    headers |= {"content-type": "application/json", "user-agent": "icp-sync-webhooks/1"}
    try:
        response = await client.post(delivery.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return AttemptResult(
            delivery, attempted_at, succeeded=False, error=f"{type(exc).__name__}: {exc}"
        )
    ok = response.is_success
    return AttemptResult(
        delivery,
        attempted_at,
        succeeded=ok,
        response_status=response.status_code,
        error=None if ok else response.text[:500] or f"HTTP {response.status_code}",
    )
