"""API key rules: random keys, stored hashed, with ordered scopes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.apikeys.repository import ApiKeyRepository
from app.core.errors import Forbidden, NotFound, Unauthorized, ValidationFailed, problem
from app.core.security import KEY_PREFIX, Scope, grants, hash_api_key, new_api_key
from app.models import ApiKey


async def create_api_key(
    session: AsyncSession, *, name: str, scopes: Sequence[str], key: str | None = None
) -> str:
    """Store a new key (or ``key``, for a bootstrap key given by the operator); return it."""
    problems = []
    for i, scope in enumerate(scopes):
        try:
            Scope.parse(scope)
        except ValueError as exc:
            problems.append(problem(f"scopes[{i}]", str(exc)))
    if not scopes:
        problems.append(problem("scopes", "give at least one of read, write, admin"))
    if not name.strip():
        problems.append(problem("name", "name the key after who uses it"))
    if problems:
        raise ValidationFailed(problems)
    key = key or new_api_key()
    await ApiKeyRepository(session).add(
        ApiKey(
            name=name.strip(),
            prefix=key[: len(KEY_PREFIX) + 6],
            key_hash=hash_api_key(key),
            scopes=[Scope.parse(s).name.lower() for s in scopes],
        )
    )
    return key


async def list_api_keys(session: AsyncSession) -> Sequence[ApiKey]:
    """Every key (never the key itself: only its prefix is kept)."""
    return await ApiKeyRepository(session).all()


async def revoke_api_key(session: AsyncSession, *, key_id: uuid.UUID) -> ApiKey:
    """Revoke a key; it stops working at once. Revoking twice is harmless."""
    repository = ApiKeyRepository(session)
    key = await repository.get(key_id)
    if key is None:
        raise NotFound(f"no API key {key_id}")
    if key.revoked_at is None:
        await repository.revoke(key, at=datetime.now(UTC))
    return key


async def authenticate(session: AsyncSession, *, token: str, scope: Scope) -> ApiKey:
    """The unrevoked key ``token`` is, if it grants ``scope``; its use is noted."""
    if not token:
        raise Unauthorized("send 'Authorization: Bearer <api key>'")
    repository = ApiKeyRepository(session)
    key = await repository.by_hash(hash_api_key(token))
    if key is None:
        raise Unauthorized("unknown or revoked API key")
    if not grants(key.scopes, scope):
        raise Forbidden(f"this API key lacks the '{scope.name.lower()}' scope")
    await repository.touch(key.id)
    return key
