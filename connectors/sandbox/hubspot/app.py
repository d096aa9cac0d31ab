"""The HubSpot sandbox as a Starlette app: CRM objects, search, batch, properties, owners,
pipelines, associations, and admin.

Every API call goes through one pipeline (:func:`serve_api_call`): count it, check the bearer
token, apply the rate limits, inject configured faults, run the endpoint, render HubSpot's JSON
(or its error shape) with orjson and the ``X-HubSpot-RateLimit-*`` headers.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any, Final

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.sandbox.common.admin_routes import AdminRoute, admin_routes
from connectors.sandbox.common.http import json_response
from connectors.sandbox.hubspot.api import (
    ID_PARAM,
    OBJECT_ROUTES,
    PROPERTY_ROUTES,
    ApiHandler,
    search,
)
from connectors.sandbox.hubspot.errors import HubSpotError, error_body
from connectors.sandbox.hubspot.limits import WINDOW_SECONDS, RateVerdict
from connectors.sandbox.hubspot.objects import resolve
from connectors.sandbox.hubspot.portal_api import PORTAL_ROUTES, TYPED_ROUTES
from connectors.sandbox.hubspot.state import JSON_MEDIA_TYPE, HubSpotSandbox

__all__ = ["HubSpotSandbox", "create_app", "serve_api_call"]

logger = logging.getLogger(__name__)

_UNAUTHENTICATED: Final = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and "
    "you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
_INJECTED: Final = {
    400: ("Injected fault: bad request", "VALIDATION_ERROR"),
    401: ("Injected fault: authentication failed", "INVALID_AUTHENTICATION"),
    403: ("Injected fault: missing scopes", "MISSING_SCOPES"),
    404: ("Injected fault: resource not found", "OBJECT_NOT_FOUND"),
    409: ("Injected fault: conflict", "CONFLICT"),
    500: ("Injected fault: internal error", "INTERNAL_ERROR"),
    502: ("Injected fault: bad gateway", "BAD_GATEWAY"),
    503: ("Injected fault: service unavailable", "SERVICE_UNAVAILABLE"),
    504: ("Injected fault: gateway timeout", "GATEWAY_TIMEOUT"),
}


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return json_response(status, body, headers, media_type=JSON_MEDIA_TYPE)


def _rate_headers(verdict: RateVerdict) -> dict[str, str]:
    return {
        "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(WINDOW_SECONDS * 1000)),
        "X-HubSpot-RateLimit-Max": str(verdict.maximum),
        "X-HubSpot-RateLimit-Remaining": str(verdict.remaining),
    }


def _rate_limit_response(policy: str, verdict: RateVerdict | None) -> Response:
    wording = "ten_secondly_rolling" if policy == "TEN_SECONDLY_ROLLING" else "secondly"
    body = error_body(f"You have reached your {wording} limit.", "RATE_LIMITS")
    body["errorType"] = "RATE_LIMIT"
    body["policyName"] = policy
    body["groupName"] = "publicapi:private-app:sandbox"
    headers = (
        _rate_headers(verdict) if verdict is not None and policy == "TEN_SECONDLY_ROLLING" else None
    )
    return _json_response(429, body, headers)


async def serve_api_call(
    request: Request, *, key: str, handler: ApiHandler, object_type: str, search: bool
) -> Response:
    """One API call through the pipeline; ``key`` is its ``"<METHOD> <path template>"``."""
    sandbox: HubSpotSandbox = request.app.state.sandbox
    calls, limiter, faults = sandbox.calls, sandbox.limiter, sandbox.faults
    calls.count(key)
    if request.headers.get("authorization", "").strip() != f"Bearer {sandbox.token}":
        return _json_response(401, error_body(_UNAUTHENTICATED, "INVALID_AUTHENTICATION"))
    verdict = limiter.check(sandbox.token, search=search)
    if not verdict.allowed:
        calls.count_rate_limited()
        return _rate_limit_response(verdict.policy or "TEN_SECONDLY_ROLLING", verdict)
    headers = None if search or not limiter.per_10s else _rate_headers(verdict)
    fault = faults.decide()
    if fault.latency_seconds:
        await asyncio.sleep(fault.latency_seconds)
    if fault.timeout_seconds is not None:
        await asyncio.sleep(fault.timeout_seconds)
        message, category = _INJECTED[504]
        return _json_response(504, error_body(message, category), headers)
    if fault.status_code is not None:
        if fault.status_code == 429:
            calls.count_rate_limited()
            return _rate_limit_response(
                "TEN_SECONDLY_ROLLING", RateVerdict(False, None, limiter.per_10s, 0)
            )
        message, category = _INJECTED.get(fault.status_code, ("Injected fault", "ERROR"))
        return _json_response(fault.status_code, error_body(message, category), headers)
    try:
        status, body = await handler(request, object_type)
    except HubSpotError as exc:
        return _json_response(exc.status_code, exc.body(), headers)
    except Exception:  # a sandbox bug: answer like HubSpot's 500, keep the trace in logs
        logger.exception("HubSpot sandbox failed on %s", key)
        return _json_response(500, error_body("internal error", "INTERNAL_ERROR"), headers)
    return _json_response(status, body, headers)


def _api_route(method: str, template: str, handler: ApiHandler) -> Route:
    """A route without an object type: its template is its call key."""
    endpoint = functools.partial(
        serve_api_call, key=f"{method} {template}", handler=handler, object_type="", search=False
    )
    return Route(template, endpoint, methods=[method])


_TYPE_PARAMS: Final = ("objectType", "fromObjectType", "toObjectType")


def _typed_route(method: str, template: str, handler: ApiHandler) -> Route:
    """A route whose object type parameters take any alias (``companies``, ``company``,
    ``0-2``); calls count under the plural names, e.g. ``GET /crm/v3/objects/companies/
    {companyId}``, whatever alias was used. An unknown type is a call no route serves."""
    params = [p for p in _TYPE_PARAMS if f"{{{p}}}" in template]
    keys: dict[tuple[str, ...], str] = {}
    is_search = handler is search

    async def endpoint(request: Request) -> Response:
        resolved = []
        for param in params:
            raw = request.path_params[param]
            object_type = resolve(raw)
            if object_type is None:
                return _unknown_object_type(request, raw)
            resolved.append(object_type)
        names = tuple(resolved)
        key = keys.get(names)
        if key is None:
            path = template.replace("{objectId}", f"{{{ID_PARAM[names[0]]}}}")
            for param, object_type in zip(params, names, strict=True):
                path = path.replace(f"{{{param}}}", object_type)
            key = keys[names] = f"{method} {path}"
        return await serve_api_call(
            request, key=key, handler=handler, object_type=names[0], search=is_search
        )

    return Route(template, endpoint, methods=[method])


def api_routes() -> list[Route]:
    """Every API route: objects and properties of any object type, then the rest."""
    routes = [
        _typed_route(
            method, "/crm/v3/objects/{objectType}" + path.replace("{id}", "{objectId}"), handler
        )
        for method, path, handler in OBJECT_ROUTES
    ]
    routes += [
        _typed_route(method, "/crm/v3/properties/{objectType}" + path, handler)
        for method, path, handler in PROPERTY_ROUTES
    ]
    routes += [_typed_route(method, path, handler) for method, path, handler in TYPED_ROUTES]
    routes += [_api_route(method, path, handler) for method, path, handler in PORTAL_ROUTES]
    return routes


def get_rate_limit(payload: dict[str, Any], request: Request) -> dict[str, Any]:
    """``GET /_sandbox/rate-limit``: the limits in force (Salesforce has none to show)."""
    sandbox: HubSpotSandbox = request.app.state.sandbox
    return sandbox.rate_limit_state()


def _unknown_object_type(request: Request, raw: str) -> Response:
    """HubSpot's 400 for an object type it does not know; counted as a call no route serves."""
    sandbox: HubSpotSandbox = request.app.state.sandbox
    sandbox.calls.count_unmatched(request.method, request.url.path)
    return _json_response(
        400, error_body(f"Unable to infer object type from: {raw}", "VALIDATION_ERROR")
    )


async def not_found(request: Request, exc: Exception) -> Response:
    """HubSpot's answer to a path it does not serve (404) or a method it refuses (405); the
    call is counted under ``unmatched``, so a harness sees every call a client made."""
    sandbox: HubSpotSandbox = request.app.state.sandbox
    sandbox.calls.count_unmatched(request.method, request.url.path)
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    category = "OBJECT_NOT_FOUND" if status == 404 else "VALIDATION_ERROR"
    return _json_response(
        status,
        error_body(
            f"{request.method} {request.url.path}: "
            + ("Not Found" if status == 404 else "Method Not Allowed"),
            category,
        ),
    )


def create_app(
    *,
    token: str = "sandbox-token",
    client_secret: str = "sandbox-secret",
    rate_limit_per_10s: int = 190,
    seed: int = 1,
    companies: int = 0,
    deals_per_company: int = 2,
    contacts_per_company: int = 0,
) -> Starlette:
    """A HubSpot CRM v3 stand-in that ``hubspot-api-client`` talks to unchanged.

    ``app.state.sandbox`` is the :class:`HubSpotSandbox` behind it (for in-process inspection).
    """
    sandbox = HubSpotSandbox(
        token=token, client_secret=client_secret, rate_limit_per_10s=rate_limit_per_10s
    )
    if companies:
        sandbox.reset(
            seed=seed,
            companies=companies,
            deals_per_company=deals_per_company,
            contacts_per_company=contacts_per_company,
        )
    routes = api_routes()
    routes += admin_routes(
        record_types=("companies", "contacts", "deals"),
        extra=[AdminRoute("GET", "/_sandbox/rate-limit", get_rate_limit)],
    )
    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})
    app.state.sandbox = sandbox
    return app
