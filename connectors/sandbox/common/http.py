"""HTTP plumbing both CRM sandboxes share; each passes its own media type and error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response


def json_response(
    status: int, body: Any, headers: dict[str, str] | None = None, *, media_type: str
) -> Response:
    """``body`` as JSON (204: no body at all, as the CRMs answer)."""
    if status == 204:
        return Response(status_code=204, headers=headers)
    return Response(orjson.dumps(body), status_code=status, headers=headers, media_type=media_type)


async def read_json(request: Request, invalid: Callable[[str], Exception]) -> Any:
    """The request's JSON body (empty: None); unparseable → ``invalid(why)``, the CRM's own
    error for it."""
    raw = await request.body()
    try:
        return orjson.loads(raw or b"null")
    except orjson.JSONDecodeError as exc:
        raise invalid(str(exc)) from None


def base_url(request: Request) -> str:
    """``scheme://host[:port]`` as the client addressed this server."""
    return f"{request.url.scheme}://{request.headers.get('host') or request.url.netloc}"
