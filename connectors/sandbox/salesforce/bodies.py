"""Request bodies as the REST API reads them: JSON, or Salesforce's ``JSON_PARSER_ERROR``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from connectors.sandbox.common.http import read_json
from connectors.sandbox.salesforce.errors import SalesforceError

__all__ = ["read_body", "read_object"]


async def read_body(request: Request) -> Any:
    """The request's JSON body (empty: None)."""
    return await read_json(
        request,
        lambda why: SalesforceError.json_parser(f"Unexpected character in request body: {why}"),
    )


async def read_object(request: Request) -> dict[str, Any]:
    """The request's body, which must be a JSON object."""
    payload = await read_body(request)
    if not isinstance(payload, dict):
        raise SalesforceError.json_parser("The request body must be a JSON object")
    return payload
