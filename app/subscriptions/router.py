"""Webhook endpoint routes: subscribe a URL to account events, list, delete, see deliveries."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.apikeys.auth import AdminKey, ReadKey
from app.core.http import SessionDep
from app.subscriptions import service
from app.subscriptions.schemas import (
    DeliveryList,
    DeliveryOut,
    EndpointCreate,
    EndpointCreated,
    EndpointList,
    EndpointOut,
)

router = APIRouter(prefix="/api/v1/webhook-endpoints", tags=["webhook endpoints"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=EndpointCreated)
async def create_endpoint(
    body: EndpointCreate, session: SessionDep, _: AdminKey
) -> EndpointCreated:
    """Subscribe a URL; the signing secret is in this response and never again."""
    created = await service.create_endpoint(session, body=body)
    out = EndpointOut.model_validate(created.endpoint)
    return EndpointCreated(**out.model_dump(), secret=created.secret)


@router.get("", response_model=EndpointList)
async def list_endpoints(session: SessionDep, _: ReadKey) -> EndpointList:
    """Every endpoint, without secrets."""
    endpoints = await service.list_endpoints(session)
    return EndpointList(items=[EndpointOut.model_validate(e) for e in endpoints])


@router.delete("/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_endpoint(endpoint_id: uuid.UUID, session: SessionDep, _: AdminKey) -> Response:
    """Unsubscribe an endpoint."""
    await service.delete_endpoint(session, endpoint_id=endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{endpoint_id}/deliveries", response_model=DeliveryList)
async def list_deliveries(
    endpoint_id: uuid.UUID,
    session: SessionDep,
    _: ReadKey,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeliveryList:
    """The endpoint's delivery attempts, newest first."""
    rows = await service.list_deliveries(session, endpoint_id=endpoint_id, limit=limit)
    return DeliveryList(items=[DeliveryOut.model_validate(r) for r in rows])
