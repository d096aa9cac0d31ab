"""Who is calling: the bearer API key of each request, and the scope it must grant."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.apikeys.service import authenticate
from app.core.http import SessionDep
from app.core.security import Scope
from app.models import ApiKey

# Declared as FastAPI's bearer scheme so the OpenAPI document (and /docs' Authorize
# button) knows how to send the key; the checks and their errors are ours.
bearer_scheme = HTTPBearer(
    auto_error=False, scheme_name="apiKey", description="An icp-sync API key (`icps_...`)"
)


def require(scope: Scope) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency that authenticates the bearer key and checks it grants ``scope``."""

    async def authenticated_key(
        session: SessionDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    ) -> ApiKey:
        token = credentials.credentials.strip() if credentials else ""
        return await authenticate(session, token=token, scope=scope)

    return authenticated_key


ReadKey = Annotated[ApiKey, Depends(require(Scope.READ))]
WriteKey = Annotated[ApiKey, Depends(require(Scope.WRITE))]
AdminKey = Annotated[ApiKey, Depends(require(Scope.ADMIN))]
