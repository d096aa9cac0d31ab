"""API key endpoints: list the keys and revoke one (keys are minted with the CLI)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from app.apikeys import service
from app.apikeys.auth import AdminKey
from app.apikeys.schemas import ApiKeyList, ApiKeyOut
from app.core.http import SessionDep

router = APIRouter(prefix="/api/v1/api-keys", tags=["api-keys"])


@router.get("", response_model=ApiKeyList)
async def list_api_keys(session: SessionDep, _: AdminKey) -> ApiKeyList:
    """Every key: name, scopes, prefix, created, last used, revoked (never the key)."""
    keys = await service.list_api_keys(session)
    return ApiKeyList(items=[ApiKeyOut.model_validate(k) for k in keys])


@router.delete("/{key_id}", response_model=ApiKeyOut)
async def revoke_api_key(key_id: uuid.UUID, session: SessionDep, _: AdminKey) -> ApiKeyOut:
    """Revoke a key: it stops working at once."""
    return ApiKeyOut.model_validate(await service.revoke_api_key(session, key_id=key_id))
