"""How each CRM signs the webhooks it sends us (pure functions: no clock, no I/O)."""

from __future__ import annotations

import base64
import hashlib
import hmac

# HubSpot: "reject the request if the timestamp is older than 5 minutes".
HUBSPOT_MAX_AGE_MS = 5 * 60 * 1000


# More digits than any clock reading has, in seconds or milliseconds: bounds int()'s work on
# a header anyone can send (and stays under Python's 4,300-digit conversion limit).
MAX_TIMESTAMP_DIGITS = 20


def _timestamp(text: str) -> int | None:
    """A whole-number timestamp header, or None when it is not one."""
    # ASCII only: str.isdigit() also passes "²", which int() refuses.
    if len(text) > MAX_TIMESTAMP_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def hubspot_v3_signature(
    client_secret: str, method: str, uri: str, body: bytes, timestamp: str
) -> str:
    """``X-HubSpot-Signature-v3``: base64(HMAC-SHA256(secret, method + uri + body + timestamp)),
    with ``uri`` exactly as HubSpot called it (scheme, host, path and query)."""
    message = method.encode() + uri.encode() + body + timestamp.encode()
    digest = hmac.new(client_secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def hubspot_v2_signature(client_secret: str, method: str, uri: str, body: bytes) -> str:
    """``X-HubSpot-Signature`` v2 (workflow webhooks): hex SHA-256 of secret + method + uri +
    body."""
    return hashlib.sha256(
        client_secret.encode() + method.encode() + uri.encode() + body
    ).hexdigest()


def hubspot_v3_valid(
    *,
    client_secret: str,
    method: str,
    uri: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    now_ms: int,
) -> str | None:
    """None when the v3 signature is good and fresh, else why not."""
    if not timestamp or not signature:
        return "missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp"
    sent_ms = _timestamp(timestamp)
    if sent_ms is None:
        return "X-HubSpot-Request-Timestamp is not a millisecond timestamp"
    if abs(now_ms - sent_ms) > HUBSPOT_MAX_AGE_MS:
        return "stale request: the timestamp is more than 5 minutes away from now"
    expected = hubspot_v3_signature(client_secret, method, uri, body, timestamp)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return "bad X-HubSpot-Signature-v3"
    return None


def hubspot_v2_valid(
    *, client_secret: str, method: str, uri: str, body: bytes, signature: str | None
) -> str | None:
    """None when the v2 signature is good, else why not."""
    if not signature:
        return "missing X-HubSpot-Signature"
    expected = hubspot_v2_signature(client_secret, method, uri, body)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return "bad X-HubSpot-Signature"
    return None


# Flow callouts (signed by a small Apex action): HMAC-SHA256 over "<timestamp>.<body>".
FLOW_MAX_AGE_SECONDS = 5 * 60


def flow_signature(secret: str, timestamp: str, body: bytes) -> str:
    """``X-ICP-Sync-Signature`` of a Salesforce Flow callout: ``sha256=`` + hex HMAC-SHA256 of
    ``timestamp + "." + body`` keyed by the connection's webhook secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def flow_valid(
    *, secret: str, body: bytes, timestamp: str | None, signature: str | None, now_s: int
) -> str | None:
    """None when a Flow callout's signature is good and fresh, else why not."""
    if not timestamp or not signature:
        return "missing X-ICP-Sync-Signature or X-ICP-Sync-Timestamp"
    sent_s = _timestamp(timestamp)
    if sent_s is None or abs(now_s - sent_s) > FLOW_MAX_AGE_SECONDS:
        return "stale or malformed X-ICP-Sync-Timestamp (unix seconds, within 5 minutes)"
    expected = flow_signature(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return "bad X-ICP-Sync-Signature"
    return None
