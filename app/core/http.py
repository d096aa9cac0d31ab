"""What every router shares: the session dependency, API-key auth, body limits, error rendering."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.db import Database, session_scope
from app.core.errors import (
    Forbidden,
    IcpSyncError,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthorized,
    problem,
)
from app.core.metrics import HTTP_LATENCY, HTTP_REQUESTS
from app.core.security import Scope as KeyScope
from app.core.security import grants, hash_api_key
from app.models import ApiKey

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


def require(scope: KeyScope) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency that authenticates the bearer key and checks it grants ``scope``."""

    async def authenticate(request: Request, session: SessionDep) -> ApiKey:
        header = request.headers.get("authorization", "")
        kind, _, token = header.partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            raise Unauthorized("send 'Authorization: Bearer <api key>'")
        key = await session.scalar(
            select(ApiKey).where(
                ApiKey.key_hash == hash_api_key(token.strip()), ApiKey.revoked_at.is_(None)
            )
        )
        if key is None:
            raise Unauthorized("unknown or revoked API key")
        if not grants(key.scopes, scope):
            raise Forbidden(f"this API key lacks the '{scope.name.lower()}' scope")
        return key

    return authenticate


ReadKey = Annotated[ApiKey, Depends(require(KeyScope.READ))]
WriteKey = Annotated[ApiKey, Depends(require(KeyScope.WRITE))]
AdminKey = Annotated[ApiKey, Depends(require(KeyScope.ADMIN))]


def error_response(status_code: int, error: str, detail: Any) -> JSONResponse:
    """The one error shape: ``{"error": name, "detail": message or problems}``."""
    return JSONResponse({"error": error, "detail": detail}, status_code=status_code)


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

    @app.exception_handler(OperationalError)
    async def _db_down(request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", exc.orig)
        return error_response(503, "ServiceUnavailable", "the database is not answering")

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        correlation_id = uuid.uuid4().hex
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return error_response(503, "ServiceUnavailable", "the database connection dropped")
        log.exception(
            "unhandled error %s on %s %s", correlation_id, request.method, request.url.path
        )
        return error_response(
            500, "InternalError", f"unexpected error; quote correlation id {correlation_id}"
        )


class BodyLimitMiddleware:
    """Refuse bodies over ``max_bytes`` with 413, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(send)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise PayloadTooLarge(self._message())
            return message

        try:
            await self.app(scope, limited_receive, send)
        except PayloadTooLarge:
            await self._refuse(send)

    def _message(self) -> str:
        return f"request body is over the {self.max_bytes:,}-byte limit"

    async def _refuse(self, send: Send) -> None:
        body = orjson.dumps({"error": "PayloadTooLarge", "detail": self._message()})
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
