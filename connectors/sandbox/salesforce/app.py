"""The Salesforce sandbox as a Starlette app: REST query, sObjects, collections, describe,
limits, OAuth and SOAP login, and the ``/_sandbox/`` admin.

Every REST call goes through one pipeline (:func:`serve_api_call`): count it, check the
session, take one request from the daily allocation, inject configured faults, run the endpoint,
and render Salesforce's JSON (or its error list) with orjson and the ``Sforce-Limit-Info``
header.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any, Final

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.sandbox.common.admin_routes import admin_routes
from connectors.sandbox.common.http import json_response
from connectors.sandbox.salesforce.admin import ADMIN_ROUTES, RECORD_TYPES
from connectors.sandbox.salesforce.api import (
    DATA_ROUTES,
    ApiHandler,
    oauth_token,
    soap_login,
    versions,
)
from connectors.sandbox.salesforce.auth import Credentials
from connectors.sandbox.salesforce.bulk1 import ASYNC_ROUTES, async_error
from connectors.sandbox.salesforce.composite import COMPOSITE_ROUTES
from connectors.sandbox.salesforce.errors import SalesforceError
from connectors.sandbox.salesforce.headers import CanonicalHeaders
from connectors.sandbox.salesforce.state import JSON_MEDIA_TYPE, SalesforceSandbox

__all__ = ["SalesforceSandbox", "create_app", "serve_api_call"]

logger = logging.getLogger(__name__)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return json_response(status, body, headers, media_type=JSON_MEDIA_TYPE)


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    return token.strip() if scheme.lower() in ("bearer", "oauth") else None


_INJECTED: Final = {
    400: ("JSON_PARSER_ERROR", "Injected fault: the request could not be parsed"),
    401: ("INVALID_SESSION_ID", "Session expired or invalid"),
    403: ("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
    404: ("NOT_FOUND", "The requested resource does not exist"),
    429: ("REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."),
    500: (
        "UNKNOWN_EXCEPTION",
        "An unexpected error occurred. Please include this ErrorId if you contact support: "
        "1234567890-12345 (-1234567890)",
    ),
    502: ("SERVER_UNAVAILABLE", "Injected fault: bad gateway"),
    503: ("SERVER_UNAVAILABLE", "Server temporarily unavailable"),
    504: (
        "REQUEST_RUNNING_TOO_LONG",
        "Your request was running for too long, and has been stopped.",
    ),
}


async def serve_api_call(request: Request, *, key: str, handler: ApiHandler) -> Response:
    """One REST call through the pipeline; ``key`` is its ``"<METHOD> <path template>"``."""
    sandbox: SalesforceSandbox = request.app.state.sandbox
    calls, sessions, allocation, faults = (
        sandbox.calls,
        sandbox.sessions,
        sandbox.allocation,
        sandbox.faults,
    )
    calls.count(key)
    # The Bulk API 1.0 (/services/async) takes its session in a header of its own.
    bulk_v1 = request.url.path.startswith("/services/async/")
    token = request.headers.get("x-sfdc-session") if bulk_v1 else _bearer(request)
    if not sessions.valid(token):
        if bulk_v1:
            return async_error("InvalidSessionId", "Invalid session id", xml=True, status=401)
        return _json(401, SalesforceError.invalid_session().body())
    if not allocation.take():
        calls.count_rate_limited()
        return _json(
            403,
            SalesforceError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.").body(),
            {"Sforce-Limit-Info": allocation.header()},
        )
    headers = {"Sforce-Limit-Info": allocation.header()}
    version = request.path_params.get("version")
    if version is not None and not sandbox.known_version(version):
        return _json(404, SalesforceError.not_found().body(), headers)
    fault = faults.decide()
    if fault.latency_seconds:
        await asyncio.sleep(fault.latency_seconds)
    if fault.timeout_seconds is not None:
        await asyncio.sleep(fault.timeout_seconds)
        code, message = _INJECTED[504]
        return _json(504, SalesforceError(504, code, message).body(), headers)
    if fault.status_code is not None:
        if fault.status_code in (403, 429):
            calls.count_rate_limited()
        code, message = _INJECTED.get(fault.status_code, ("UNKNOWN_EXCEPTION", "Injected fault"))
        return _json(
            fault.status_code,
            SalesforceError(fault.status_code, code, message).body(),
            headers,
        )
    try:
        status, body = await handler(request)
    except SalesforceError as exc:
        return _json(exc.status_code, exc.body(), headers)
    except Exception:  # a sandbox bug: answer like Salesforce's 500, keep the trace
        logger.exception("Salesforce sandbox failed on %s", key)
        code, message = _INJECTED[500]
        return _json(500, SalesforceError(500, code, message).body(), headers)
    if isinstance(body, Response):  # an endpoint that answers other than JSON (CSV)
        body.headers.update(headers)
        return body
    return _json(status, body, headers)


def api_routes() -> list[Route]:
    """The REST routes of :data:`~connectors.sandbox.salesforce.api.DATA_ROUTES`, the
    composite resources and the Bulk API 1.0, each also
    with a trailing slash (simple-salesforce asks for some resources with one, some without)."""
    routes = []
    for method, template, handler in (*DATA_ROUTES, *COMPOSITE_ROUTES, *ASYNC_ROUTES):
        endpoint = functools.partial(serve_api_call, key=f"{method} {template}", handler=handler)
        routes.append(Route(template, endpoint, methods=[method]))
        routes.append(Route(template + "/", endpoint, methods=[method]))
    return routes


# The token endpoint and SOAP login, at the instance and at ``<domain>.salesforce.com`` paths
# (simple-salesforce builds ``https://<domain>.salesforce.com/...``, so a ``domain`` of
# ``127.0.0.1:<port>/login`` reaches this server). Not counted against the allocation.
LOGIN_ROUTES: Final = (
    Route("/services/oauth2/token", oauth_token, methods=["POST"]),
    Route("/{login_host}.salesforce.com/services/oauth2/token", oauth_token, methods=["POST"]),
    Route("/services/Soap/u/{version}", soap_login, methods=["POST"]),
    Route("/{login_host}.salesforce.com/services/Soap/u/{version}", soap_login, methods=["POST"]),
)


async def not_found(request: Request, exc: Exception) -> Response:
    """Salesforce's answer to a path it does not serve (404) or a method it refuses (405);
    counted under ``unmatched``, so a harness sees every call a client made."""
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    sandbox: SalesforceSandbox = request.app.state.sandbox
    sandbox.calls.count_unmatched(request.method, request.url.path)
    if status == 405:
        return _json(
            405,
            [
                {
                    "errorCode": "METHOD_NOT_ALLOWED",
                    "message": f"HTTP Method '{request.method}' not allowed.",
                }
            ],
        )
    return _json(404, SalesforceError.not_found().body())


def create_app(
    *,
    token: str = "sandbox-token",
    seed: int = 1,
    accounts: int = 0,
    opportunities_per_account: int = 2,
    contacts_per_account: int = 0,
    api_version: str = "62.0",
    daily_limit: int = 15000,
    custom_fields: bool = True,
    client_id: str = "sandbox-client",
    client_secret: str = "sandbox-secret",
    username: str = "sandbox@example.com",
    password: str = "sandbox-password",
    security_token: str = "sandbox-security-token",
    refresh_token: str = "sandbox-refresh-token",
) -> Starlette:
    """A Salesforce REST API stand-in that ``simple-salesforce`` talks to unchanged.

    ``custom_fields=False`` makes an org without the ICP write-back fields (the demo's custom
    fields stay). ``app.state.sandbox`` is the :class:`SalesforceSandbox` behind it.
    """
    sandbox = SalesforceSandbox(
        token=token,
        api_version=api_version,
        daily_limit=daily_limit,
        custom_fields=custom_fields,
        credentials=Credentials(
            username=username,
            password=password,
            security_token=security_token,
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
        ),
    )
    if accounts:
        sandbox.reset(
            seed=seed,
            accounts=accounts,
            opportunities_per_account=opportunities_per_account,
            contacts_per_account=contacts_per_account,
        )
    routes = [
        *api_routes(),
        *LOGIN_ROUTES,
        *admin_routes(record_types=RECORD_TYPES, extra=ADMIN_ROUTES),
        Route("/services/data", versions, methods=["GET"]),
        Route("/services/data/", versions, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={404: not_found, 405: not_found},
        middleware=[Middleware(CanonicalHeaders)],
    )
    app.state.sandbox = sandbox
    return app
