"""The ``/_sandbox/`` admin routes both fakes serve: unauthenticated knobs for tests, demos and
benchmarks, not counted as API calls.

A fake implements :class:`SandboxControls` and is found on ``request.app.state.sandbox``;
:func:`admin_routes` serves the shared knobs (reset, stats, faults, rate limit, webhooks, edits,
raw records) and the fake's own extra ones from one table of :class:`AdminRoute`. Every answer is
JSON; a body the fake cannot apply is a 400 ``{"error": "InvalidSandboxRequest", "detail"}``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.sandbox.common.faults import FaultConfig, FaultConfigError, FaultInjector
from connectors.sandbox.common.http import base_url, json_response

__all__ = ["AdminHandler", "AdminRoute", "SandboxControls", "admin_routes", "controls"]

AdminHandler = Callable[[dict[str, Any], Request], Any]
"""``(body, request) -> answer``: the JSON body of a POST (``{}`` for a GET), the request."""


class SandboxControls(Protocol):
    """What a CRM fake implements so that :func:`admin_routes` can drive it."""

    media_type: str  # its JSON content type, as its API answers
    faults: FaultInjector

    def reset_from(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Reseed from a ``POST /_sandbox/reset`` body; what was made."""
        ...

    def stats(self) -> dict[str, Any]:
        """``GET /_sandbox/stats``: calls per path template, total, rate limited, ..."""
        ...

    def set_rate_limit(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Apply a ``POST /_sandbox/rate-limit`` body; the limits now in force."""
        ...

    def set_webhooks(self, payload: dict[str, Any], base_url: str) -> dict[str, Any]:
        """Send change notifications where the body says (``base_url``: this server's)."""
        ...

    def webhooks_state(self) -> dict[str, Any]:
        """Where change notifications go, and what was delivered."""
        ...

    def rep_edits(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """Change records as a rep would; the edits made."""
        ...

    def raw_record(self, record_type: str, record_id: str) -> dict[str, Any]:
        """One record as stored, archived or deleted ones included; the CRM's not-found error
        otherwise."""
        ...

    def admin_error(self, exc: Exception) -> tuple[int, Any] | None:
        """``(status, body)`` for the fake's own API error; None for any other exception."""
        ...


@dataclass(frozen=True)
class AdminRoute:
    """One admin endpoint: ``method`` on ``path``, answered by ``handler``."""

    method: str
    path: str
    handler: AdminHandler


def controls(request: Request) -> SandboxControls:
    """The fake an admin request is for."""
    sandbox: SandboxControls = request.app.state.sandbox
    return sandbox


def reset(payload: dict[str, Any], request: Request) -> dict[str, Any]:
    """``POST /_sandbox/reset``: reseed, and say how long it took."""
    started = datetime.now(UTC)
    counts = controls(request).reset_from(payload)
    return {**counts, "seconds": round((datetime.now(UTC) - started).total_seconds(), 3)}


def stats(payload: dict[str, Any], request: Request) -> dict[str, Any]:
    """``GET /_sandbox/stats``."""
    return controls(request).stats()


def set_faults(payload: dict[str, Any], request: Request) -> dict[str, Any]:
    """``POST /_sandbox/faults``: replace the fault settings (an empty body: no faults)."""
    faults = controls(request).faults
    faults.configure(FaultConfig.from_payload(payload))
    return faults.config.as_dict()


def get_faults(payload: dict[str, Any], request: Request) -> dict[str, Any]:
    """``GET /_sandbox/faults``."""
    return controls(request).faults.config.as_dict()


def set_rate_limit(payload: dict[str, Any], request: Request) -> dict[str, Any]:
    """``POST /_sandbox/rate-limit``."""
    return controls(request).set_rate_limit(payload)


def set_webhooks(payload: dict[str, Any], request: Request) -> dict[str, Any]:
    """``POST /_sandbox/webhooks``: where change notifications go."""
    return controls(request).set_webhooks(payload, base_url(request))


def get_webhooks(payload: dict[str, Any], request: Request) -> dict[str, Any]:
    """``GET /_sandbox/webhooks``."""
    return controls(request).webhooks_state()


def edits(payload: dict[str, Any], request: Request) -> dict[str, Any]:
    """``POST /_sandbox/edits``: simulated rep edits."""
    return {"edited": controls(request).rep_edits(payload)}


def raw_record(record_type: str, payload: dict[str, Any], request: Request) -> dict[str, Any]:
    """``GET /_sandbox/<record_type>/{record_id}``."""
    return controls(request).raw_record(record_type, request.path_params["record_id"])


SHARED_ROUTES: tuple[AdminRoute, ...] = (
    AdminRoute("POST", "/_sandbox/reset", reset),
    AdminRoute("GET", "/_sandbox/stats", stats),
    AdminRoute("POST", "/_sandbox/faults", set_faults),
    AdminRoute("GET", "/_sandbox/faults", get_faults),
    AdminRoute("POST", "/_sandbox/rate-limit", set_rate_limit),
    AdminRoute("POST", "/_sandbox/webhooks", set_webhooks),
    AdminRoute("GET", "/_sandbox/webhooks", get_webhooks),
    AdminRoute("POST", "/_sandbox/edits", edits),
)


def _invalid(detail: Any) -> dict[str, Any]:
    return {"error": "InvalidSandboxRequest", "detail": detail}


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        payload = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise ValueError("expected a JSON object")
    return payload


async def serve_admin(request: Request, *, handler: AdminHandler) -> Response:
    """Run one admin handler: parse the body, answer its result or its error as JSON."""
    fake = controls(request)
    try:
        payload = await _body(request) if request.method == "POST" else {}
        status, body = 200, handler(payload, request)
    except (ValueError, TypeError, KeyError, FaultConfigError) as exc:
        status, body = 400, _invalid(str(exc))
    except Exception as exc:
        answer = fake.admin_error(exc)
        if answer is None:
            raise
        status, body = answer
    return json_response(status, body, media_type=fake.media_type)


def admin_routes(*, record_types: Iterable[str], extra: Iterable[AdminRoute] = ()) -> list[Route]:
    """The shared admin routes, ``GET /_sandbox/<type>/{record_id}`` for each of
    ``record_types``, and the fake's ``extra`` ones."""
    table = [
        *SHARED_ROUTES,
        *extra,
        *(
            AdminRoute(
                "GET", f"/_sandbox/{name}/{{record_id}}", functools.partial(raw_record, name)
            )
            for name in record_types
        ),
    ]
    return [
        Route(
            entry.path,
            functools.partial(serve_admin, handler=entry.handler),
            methods=[entry.method],
        )
        for entry in table
    ]
