"""Webhooks the CRMs call: verified, stored, answered before any CRM call is made."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.core.config import get_settings
from app.inbox import service
from app.inbox.events import SALESFORCE_ACK
from app.inbox.writer import InboxWriter

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


def _inbox(request: Request) -> InboxWriter:
    """No per-request database session here: the process's inbox writer commits concurrent
    deliveries together (see app.inbox.writer)."""
    inbox: InboxWriter = request.app.state.inbox
    return inbox


def _called_uri(request: Request) -> str:
    """The URI as the CRM called it: behind a proxy, ICP_SYNC_PUBLIC_URL says what that was."""
    public = get_settings().public_url
    if not public:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return public.rstrip("/") + request.url.path + query


@router.post("/hubspot/{connection_id}", status_code=204)
async def hubspot_webhook(connection_id: uuid.UUID, request: Request) -> Response:
    """HubSpot company events (signature v3; v2 when the connection allows it)."""
    body = await request.body()
    service.check_size(body, limit=get_settings().webhook_max_body_bytes)
    await service.accept_hubspot(
        _inbox(request),
        connection_id=connection_id,
        method=request.method,
        uri=_called_uri(request),
        body=body,
        headers=request.headers,
    )
    return Response(status_code=204)


@router.post("/salesforce/{connection_id}")
async def salesforce_webhook(
    connection_id: uuid.UUID,
    request: Request,
    secret: Annotated[str | None, Query()] = None,
) -> Response:
    """Salesforce Outbound Messages (SOAP; answered with the Ack Salesforce waits for), or a
    Flow HTTP callout (JSON, signed with ``X-ICP-Sync-Signature``; answered 204)."""
    body = await request.body()
    service.check_size(body, limit=get_settings().webhook_max_body_bytes)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "application/json":
        await service.accept_salesforce_flow(
            _inbox(request), connection_id=connection_id, body=body, headers=request.headers
        )
        return Response(status_code=204)
    await service.accept_salesforce(
        _inbox(request), connection_id=connection_id, body=body, secret=secret
    )
    return Response(content=SALESFORCE_ACK, media_type="text/xml")
