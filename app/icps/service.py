"""ICP rules: versions are immutable, exactly one is active, activation rescores everything."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound, ValidationFailed
from app.icps.repository import IcpRepository
from app.jobs import JobRequest, TaskName, defer_or_join
from app.models import IcpStatus, IcpVersion
from app.scoring import (
    CompiledIcp,
    IcpDefinitionError,
    ScoreResult,
    compile_icp,
    parse_definition,
    score_account,
)


def read_definition(source: bytes | str | dict[str, Any], *, content_type: str) -> dict[str, Any]:
    """Parse and validate a definition; every problem is listed in the 422."""
    try:
        definition = parse_definition(source, content_type=content_type)
    except IcpDefinitionError as exc:
        raise ValidationFailed(exc.problems) from exc
    stored = definition.model_dump(mode="json", exclude_none=True)
    if not stored["personas"]:
        # An ICP without personas is stored as before they existed: re-applying an unchanged
        # file creates no version, and its export gains no empty section.
        del stored["personas"]
    return stored


async def create_icp(
    session: AsyncSession, *, source: bytes | str | dict[str, Any], content_type: str
) -> IcpVersion:
    """Save a definition as the next version of its name (inactive until activated)."""
    definition = read_definition(source, content_type=content_type)
    repository = IcpRepository(session)
    name = definition["name"]
    await repository.lock_name(name)
    version = IcpVersion(
        name=name,
        version=await repository.next_version(name),
        status=IcpStatus.INACTIVE,
        definition=definition,
    )
    return await repository.add(version)


async def apply_icp(
    session: AsyncSession, *, source: bytes | str, content_type: str
) -> tuple[IcpVersion, bool]:
    """ICP-as-code: save the file as a new version unless it equals the newest version of
    its name; returns (version, created)."""
    definition = read_definition(source, content_type=content_type)
    repository = IcpRepository(session)
    await repository.lock_name(definition["name"])
    newest = await repository.newest(definition["name"])
    if newest is not None and newest.definition == definition:
        return newest, False
    return await create_icp(session, source=definition, content_type="application/json"), True


async def get_icp(session: AsyncSession, *, icp_id: uuid.UUID) -> IcpVersion:
    """One version, or NotFound."""
    version = await IcpRepository(session).get(icp_id)
    if version is None:
        raise NotFound(f"no ICP version {icp_id}")
    return version


async def find_icp(session: AsyncSession, *, reference: str) -> IcpVersion:
    """A version by its id or as ``NAME@VERSION`` (``US SaaS@3``); NotFound otherwise."""
    name, at, number = reference.rpartition("@")
    if at and name and number.isascii() and number.isdigit() and len(number) < 10:
        version = await IcpRepository(session).by_name_version(name, int(number))
        if version is None:
            raise NotFound(f"no ICP {name!r} version {number}")
        return version
    try:
        icp_id = uuid.UUID(reference)
    except ValueError:
        raise NotFound(
            f"{reference!r} is neither an ICP version id nor NAME@VERSION (e.g. 'US SaaS@2')"
        ) from None
    return await get_icp(session, icp_id=icp_id)


async def get_active_icp(session: AsyncSession) -> IcpVersion:
    """The active version, or NotFound with what to do about it."""
    version = await IcpRepository(session).get_active()
    if version is None:
        raise NotFound("no ICP is active; POST /api/v1/icps/{id}/activate one")
    return version


async def list_icps(session: AsyncSession) -> Sequence[IcpVersion]:
    """Every version, newest first."""
    return await IcpRepository(session).list()


@dataclass(frozen=True, slots=True)
class Activation:
    """The version now active, and the job rescoring every account against it (None when
    the version was already active: nothing changed, nothing to rescore)."""

    version: IcpVersion
    rescore_job_id: int | None


async def activate_icp(session: AsyncSession, *, icp_id: uuid.UUID) -> Activation:
    """Make ``icp_id`` the active version, retire the previous one, queue a rescore of all
    accounts in the same transaction (so the rescore exists iff the activation does)."""
    repository = IcpRepository(session)
    await repository.lock_activation()
    version = await repository.get(icp_id, for_update=True)
    if version is None:
        raise NotFound(f"no ICP version {icp_id}")
    if version.status == IcpStatus.ACTIVE:
        return Activation(version, None)
    now = datetime.now(UTC)
    await repository.retire_active(now=now)
    version.status = IcpStatus.ACTIVE
    version.activated_at = now
    version.retired_at = None
    await session.flush()
    # A rescore already waiting runs against whichever version is active when it starts:
    # joining it does this activation's work.
    job_id = await defer_or_join(
        session, JobRequest(TaskName.RESCORE_ALL_ACCOUNTS, {"icp_version_id": str(version.id)})
    )
    return Activation(version, job_id)


_compiled_versions: dict[uuid.UUID, CompiledIcp] = {}


def compiled_icp(version: IcpVersion) -> CompiledIcp:
    """The version compiled once per process (versions are immutable, so caching is safe)."""
    compiled = _compiled_versions.get(version.id)
    if compiled is None:
        if len(_compiled_versions) >= 64:
            _compiled_versions.clear()
        compiled = compile_icp(parse_definition(version.definition))
        _compiled_versions[version.id] = compiled
    return compiled


async def what_if(
    session: AsyncSession, *, accounts: Sequence[dict[str, Any]], icp_id: uuid.UUID | None
) -> tuple[IcpVersion, list[ScoreResult]]:
    """Score accounts against ``icp_id`` (default: the active ICP); stores nothing."""
    version = await get_icp(session, icp_id=icp_id) if icp_id else await get_active_icp(session)
    compiled = compiled_icp(version)
    return version, [score_account(compiled, account) for account in accounts]
