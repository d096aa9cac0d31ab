"""Response header names as Salesforce writes them (``Content-Type``, ``Sforce-Locator``).

Header names are case-insensitive, but Starlette sends them in lower case and some clients
look them up in a plain dict by Salesforce's spelling (Airbyte's source-salesforce reads a
Bulk API 2.0 result's ``content-type`` from ``dict(response.headers)``; with Salesforce's
``Content-Type`` it finds none and falls back to UTF-8). The fake answers with Salesforce's
spelling, so such clients take the path they take against the real API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

__all__ = ["CanonicalHeaders", "canonical"]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

# Names whose words are not simply capitalised.
_SPELLING: Final = {
    b"sforce-numberofrecords": b"Sforce-NumberOfRecords",
    b"www-authenticate": b"WWW-Authenticate",
}


def canonical(name: bytes) -> bytes:
    """``sforce-limit-info`` → ``Sforce-Limit-Info``."""
    lowered = name.lower()
    return _SPELLING.get(lowered) or b"-".join(part.capitalize() for part in lowered.split(b"-"))


class CanonicalHeaders:
    """ASGI middleware: every response header name in Salesforce's spelling."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        """Pass the call on; rename the headers of the response it starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_canonical(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(canonical(k), v) for k, v in message.get("headers", [])]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_canonical)
