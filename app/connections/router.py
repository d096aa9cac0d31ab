"""Connection endpoints: register, read, change and forget CRM connections (a sync is
started through app.sync.router)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from app.apikeys.auth import AdminKey, ReadKey
from app.connections import service
from app.connections.schemas import (
    ConnectionCreate,
    ConnectionList,
    ConnectionOut,
    ConnectionPatch,
)
from app.core.http import SessionDep

router = APIRouter(prefix="/api/v1/connections", tags=["connections"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ConnectionOut)
async def create_connection(
    body: ConnectionCreate, session: SessionDep, _: AdminKey
) -> ConnectionOut:
    """Connect a CRM; credentials are stored encrypted and never returned."""
    return ConnectionOut.model_validate(await service.create_connection(session, body=body))


@router.get("", response_model=ConnectionList)
async def list_connections(session: SessionDep, _: ReadKey) -> ConnectionList:
    """Every CRM connection."""
    connections = await service.list_connections(session)
    return ConnectionList(items=[ConnectionOut.model_validate(c) for c in connections])


@router.get("/{connection_id}", response_model=ConnectionOut)
async def get_connection(
    connection_id: uuid.UUID, session: SessionDep, _: ReadKey
) -> ConnectionOut:
    """One connection."""
    return ConnectionOut.model_validate(
        await service.get_connection(session, connection_id=connection_id)
    )


@router.patch("/{connection_id}", response_model=ConnectionOut)
async def update_connection(
    connection_id: uuid.UUID, patch: ConnectionPatch, session: SessionDep, _: AdminKey
) -> ConnectionOut:
    """Change name, credentials, base URL or settings."""
    return ConnectionOut.model_validate(
        await service.update_connection(session, connection_id=connection_id, patch=patch)
    )


@router.delete("/{connection_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_connection(connection_id: uuid.UUID, session: SessionDep, _: AdminKey) -> Response:
    """Forget a connection and every account synced from it (the CRM is not touched)."""
    await service.delete_connection(session, connection_id=connection_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
