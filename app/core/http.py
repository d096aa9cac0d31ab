"""What every router shares: the session dependency, API-key auth, body limits, error rendering."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
import psycopg
import sqlalchemy.exc
from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.db import Database, session_scope
from app.core.errors import (
    IcpSyncError,
    ServiceUnavailable,
    ValidationFailed,
    problem,
    problems,
)
from app.core.metrics import HTTP_LATENCY, HTTP_REQUESTS

log = logging.getLogger(__name__)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed after the handler returns, rolled back on error."""
    database: Database = request.app.state.database
    try:
        async for session in session_scope(database.sessionmaker):
            yield session
    except OperationalError as exc:
        raise ServiceUnavailable("the database is not answering; retry shortly") from exc


# scope="function": commit before the response is sent, so a client that got its 2xx reads
# its own write on the next request (FastAPI's default tears down after sending).
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def refuse_unknown_query_parameters(request: Request) -> None:
    """422 for a query parameter the operation does not take: a misspelt filter would
    otherwise be ignored, and the caller would read an unfiltered list as filtered."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    unknown = sorted(set(request.query_params) - _query_parameters(route))
    if unknown:
        takes = ", ".join(sorted(_query_parameters(route))) or "none"
        raise ValidationFailed(
            [problem(name, f"unknown query parameter (this takes: {takes})") for name in unknown]
        )


def _query_parameters(route: APIRoute) -> frozenset[str]:
    # Kept on the route itself (routes are not hashable, and an app's routes never change).
    known: frozenset[str] | None = getattr(route, "_icp_sync_query_parameters", None)
    if known is None:
        known = frozenset(_query_names(route.dependant))
        route._icp_sync_query_parameters = known  # type: ignore[attr-defined]
    return known


def _query_names(dependant: Dependant) -> set[str]:
    """The query parameters an operation takes, its dependencies' included."""
    names = {field.alias for field in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= _query_names(dependency)
    return names


class Problem(BaseModel):
    """One thing wrong with a request; ``path`` names the field, empty when none is to blame."""

    path: str
    message: str


class ErrorOut(BaseModel):
    """Every error response: the error's name, and what is wrong."""

    error: str
    detail: list[Problem]


# The failures every operation can answer with, documented once for all (FastAPI's own 422
# schema would otherwise describe a shape we never send).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in {
        400: "The body or a parameter cannot be parsed",
        401: "No API key, or an unknown or revoked one",
        403: "The API key lacks the scope this needs",
        404: "Not found",
        409: "Clashes with the current state",
        413: "The body is over the size limit",
        415: "The body's content type is not one this reads",
        422: "Parsed, but invalid: every problem listed",
        503: "The database is not answering (or not migrated); retry",
    }.items()
}


def error_body(error: str, detail: Any) -> dict[str, Any]:
    """The one error shape: ``{"error": name, "detail": [{"path", "message"}, ...]}``."""
    return {"error": error, "detail": problems(detail)}


def error_response(status_code: int, error: str, detail: Any) -> JSONResponse:
    """An error in the one shape."""
    return JSONResponse(error_body(error, detail), status_code=status_code)


def _location(loc: tuple[Any, ...]) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def install_error_handlers(app: FastAPI) -> None:
    """Render every failure in the one JSON shape; unknown exceptions become a logged 500."""

    @app.exception_handler(IcpSyncError)
    async def _expected(request: Request, exc: IcpSyncError) -> JSONResponse:
        return error_response(exc.status_code, exc.error, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        problems = [problem(_location(tuple(e["loc"])), e["msg"]) for e in errors]
        if any(e["type"] == "json_invalid" for e in errors):
            # Not parseable at all: a 400, as distinct from parseable-but-wrong (422).
            return error_response(400, "BadRequest", problems)
        return error_response(422, "ValidationFailed", problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        names = {404: "NotFound", 405: "MethodNotAllowed"}
        return error_response(exc.status_code, names.get(exc.status_code, "HTTPError"), exc.detail)

    @app.exception_handler(sqlalchemy.exc.DataError)
    @app.exception_handler(psycopg.errors.DataError)
    async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
        # A value PostgreSQL refuses (out of its type's range, say): the request's fault.
        orig = getattr(exc, "orig", exc)
        reason = getattr(getattr(orig, "diag", None), "message_primary", None) or str(orig)
        return error_response(400, "BadRequest", f"a value cannot be stored: {reason}")

    @app.exception_handler(sqlalchemy.exc.ProgrammingError)
    @app.exception_handler(psycopg.errors.ProgrammingError)
    async def _schema(request: Request, exc: Exception) -> JSONResponse:
        if _schema_behind(exc):
            return error_response(
                503, "ServiceUnavailable", "the database is not migrated: run `icp-sync migrate`"
            )
        return _unexpected(request, exc)

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> JSONResponse:
        # The client left mid-body (or its body was refused as too large, and answered
        # already): nobody reads this, and it is no bug to log.
        return error_response(400, "BadRequest", "the client went away before sending its body")

    @app.exception_handler(OperationalError)
    async def _db_down(request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", exc.orig)
        return error_response(503, "ServiceUnavailable", "the database is not answering")

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return error_response(503, "ServiceUnavailable", "the database connection dropped")
        return _unexpected(request, exc)


# SQLSTATEs of a query naming a table, column or function the database lacks: its schema is
# older than the code (an external database nobody ran `icp-sync migrate` on).
_SCHEMA_BEHIND = frozenset({"42P01", "42703", "42883"})


def _schema_behind(exc: Exception) -> bool:
    orig = getattr(exc, "orig", exc)
    return getattr(orig, "sqlstate", None) in _SCHEMA_BEHIND


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A bug: logged with a correlation id the 500 quotes."""
    correlation_id = uuid.uuid4().hex
    log.error(
        "unhandled error %s on %s %s",
        correlation_id,
        request.method,
        request.url.path,
        exc_info=exc,
    )
    return error_response(
        500, "InternalError", f"unexpected error; quote correlation id {correlation_id}"
    )


class RequestGuardMiddleware:
    """Turn away, before the app sees them, requests nothing downstream can take: a URL whose
    path or query holds a NUL character (400: PostgreSQL's text cannot even hold one), and a
    body over ``max_bytes`` (413), by its Content-Length or while a chunked body streams.

    A refused body is read and thrown away (up to ``LINGER_BYTES``) before the 413 goes out,
    as nginx's lingering close does: a client that writes its whole body before reading
    (Python's urllib, many SDKs) would otherwise get a connection reset instead. A request
    that declares a Content-Length within the limit passes untouched (the server holds the
    body to it); only a chunked one is watched as it streams.
    """

    # How much of a refused body is read and discarded before answering; a client sending
    # more gets the 413 and then a reset.
    LINGER_BYTES = 64 * 1024 * 1024

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope["query_string"]
        if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
            response = error_response(
                400, "BadRequest", [problem("url", "the URL holds a NUL character (%00)")]
            )
            await response(scope, receive, send)
            return
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > self.max_bytes:
                    await self._refuse(receive, send, more_body=True)
                    return
            elif name == b"transfer-encoding":
                chunked = True
        if not chunked:
            await self.app(scope, receive, send)
            return
        await self._watched(scope, receive, send)

    async def _watched(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app on a chunked body, refusing it once it passes the limit."""
        received = 0
        refused = False

        async def limited_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    await self._refuse(receive, send, more_body=message.get("more_body", False))
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, limited_receive, guarded_send)

    def _message(self) -> str:
        return f"request body is over the {self.max_bytes:,}-byte limit"

    async def _refuse(self, receive: Receive, send: Send, *, more_body: bool) -> None:
        discarded = 0
        while more_body and discarded < self.LINGER_BYTES:
            message = await receive()
            if message["type"] != "http.request":
                break
            discarded += len(message.get("body", b""))
            more_body = message.get("more_body", False)
        body = orjson.dumps(error_body("PayloadTooLarge", self._message()))
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class MetricsMiddleware:
    """Count and time requests per route template (not per raw path: ids would explode it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # (method, route, status) → its counter and histogram: looking the labelled children
        # up in prometheus_client on every request was a twentieth of the webhook path's CPU.
        self._series: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observing_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observing_send)
        finally:
            key = (scope["method"], getattr(scope.get("route"), "path", "unmatched"), str(status))
            series = self._series.get(key)
            if series is None:
                series = (HTTP_REQUESTS.labels(*key), HTTP_LATENCY.labels(*key[:2]))
                self._series[key] = series
            requests, latency = series
            requests.inc()
            latency.observe(time.perf_counter() - started)
