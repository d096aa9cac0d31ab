"""API key rules: random keys, stored hashed, with ordered scopes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.apikeys.repository import ApiKeyRepository
from app.core.errors import ValidationFailed, problem
from app.core.security import KEY_PREFIX, Scope, hash_api_key, new_api_key
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
