"""The Salesforce fake's own ``/_sandbox/`` knobs, beside the shared ones
(``connectors.sandbox.common.admin_routes``): the daily allocation, token expiry, deletions,
custom fields, and ``outbound`` (the same as the shared ``webhooks``)."""

from __future__ import annotations

from typing import Any, Final

from starlette.requests import Request

from connectors.sandbox.common.admin_routes import AdminRoute, get_webhooks, set_webhooks
from connectors.sandbox.salesforce.ids import to_18
from connectors.sandbox.salesforce.state import RECORD_OBJECTS, SalesforceSandbox, admin_time

__all__ = ["ADMIN_ROUTES", "RECORD_TYPES"]

RECORD_TYPES: Final = tuple(RECORD_OBJECTS)


def _sandbox(request: Request) -> SalesforceSandbox:
    sandbox: SalesforceSandbox = request.app.state.sandbox
    return sandbox


def set_limits(payload: dict[str, Any], request: Request) -> dict[str, Any]:
    """``POST /_sandbox/limits`` ``{"used", "max"}``: the daily API allocation."""
    unknown = set(payload) - {"used", "max"}
    if unknown:
        raise ValueError(f"unknown limit settings: {', '.join(sorted(unknown))}")
    allocation = _sandbox(request).allocation
    used, maximum = payload.get("used"), payload.get("max")
    allocation.configure(
        used=None if used is None else int(used),
        maximum=None if maximum is None else int(maximum),
    )
    return allocation.snapshot()


def get_limits(payload: dict[str, Any], request: Request) -> dict[str, Any]:
    """``GET /_sandbox/limits``."""
    return _sandbox(request).allocation.snapshot()


def expire_tokens(payload: dict[str, Any], request: Request) -> dict[str, Any]:
    """``POST /_sandbox/expire-tokens``: issued sessions (and the configured one) expire."""
    sessions = _sandbox(request).sessions
    expired = sessions.expire(configured=bool(payload.get("configured", False)))
    return {"expired": expired, "configured_valid": not sessions.configured_expired}


def delete_accounts(payload: dict[str, Any], request: Request) -> dict[str, Any]:
    """``POST /_sandbox/delete`` ``{"ids", "at"}``: accounts deleted as a rep would."""
    org = _sandbox(request).org
    ids = payload.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids must be a list of account ids")
    now, deleted, errors = admin_time(payload), [], []
    for raw_id in ids:
        error = org.delete(org.accounts, str(raw_id), now=now)
        if error is None:
            deleted.append(to_18(str(raw_id)))
        else:
            errors.append({"id": raw_id, **error.as_dict()})
    return {"deleted": deleted, "errors": errors}


def set_fields(payload: dict[str, Any], request: Request) -> dict[str, Any]:
    """``POST /_sandbox/fields`` ``{"remove", "add"}``: Account's custom fields."""
    org = _sandbox(request).org
    removed = org.remove_fields(payload.get("remove") or [])
    added = org.add_fields(payload.get("add") or [])
    return {"removed": removed, "added": added, **get_fields({}, request)}


def get_fields(payload: dict[str, Any], request: Request) -> dict[str, Any]:
    """``GET /_sandbox/fields``: Account's custom fields."""
    schema = _sandbox(request).org.accounts.schema
    return {"custom_fields": [n for n, s in schema.fields.items() if s.custom]}


ADMIN_ROUTES: Final = (
    AdminRoute("POST", "/_sandbox/limits", set_limits),
    AdminRoute("GET", "/_sandbox/limits", get_limits),
    AdminRoute("POST", "/_sandbox/expire-tokens", expire_tokens),
    AdminRoute("POST", "/_sandbox/delete", delete_accounts),
    AdminRoute("POST", "/_sandbox/fields", set_fields),
    AdminRoute("GET", "/_sandbox/fields", get_fields),
    # Salesforce's name for what the shared routes call webhooks.
    AdminRoute("POST", "/_sandbox/outbound", set_webhooks),
    AdminRoute("GET", "/_sandbox/outbound", get_webhooks),
)
