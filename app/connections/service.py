"""Connection rules: credentials validated per CRM and encrypted at rest, never returned."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography.fernet import InvalidToken
from pydantic import ValidationError
from sqlalchemy import URL
from sqlalchemy.ext.asyncio import AsyncSession

from app.connections.registry import CONNECTOR_KINDS, ConnectorKind
from app.connections.repository import ConnectionRepository
from app.connections.schemas import ConnectionCreate, ConnectionPatch
from app.core.addresses import AddressKind, url_problem
from app.core.db import libpq_conninfo
from app.core.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed, problem
from app.core.metrics import CRM_CALLS
from app.core.ratelimit import PostgresRateLimiter
from app.core.security import secrets_cipher
from app.icps.repository import IcpRepository
from app.icps.service import compiled_icp
from app.jobs import JobRequest, TaskName, defer_or_join
from app.models import Connection
from app.scoring.definition import reads_rollups
from connectors.base import CallObserver, Connector


def connector_kind(kind: str) -> ConnectorKind:
    """The registry entry of ``kind``, or a 422 naming the kinds there are."""
    try:
        return CONNECTOR_KINDS[kind]
    except KeyError:
        raise ValidationFailed(
            [problem("kind", f"unknown kind {kind!r}; use one of {', '.join(CONNECTOR_KINDS)}")]
        ) from None


def _sealed_credentials(kind: ConnectorKind, credentials: dict[str, Any]) -> bytes:
    try:
        valid = kind.credentials.model_validate(credentials)
    except ValidationError as exc:
        raise ValidationFailed(
            [
                problem("credentials." + ".".join(str(p) for p in e["loc"]), e["msg"])
                for e in exc.errors()
            ]
        ) from exc
    return secrets_cipher().encrypt(orjson.dumps(valid.model_dump(exclude_none=True)))


def open_credentials(connection: Connection) -> dict[str, Any]:
    """The decrypted credentials (for the worker talking to the CRM; never for responses)."""
    if connection.credentials is None:
        return {}
    try:
        plain = secrets_cipher().decrypt(connection.credentials)
    except InvalidToken:
        raise ServiceUnavailable(
            f"connection {connection.name!r}: its credentials cannot be decrypted with this "
            "process's keys; every process needs the same ICP_SYNC_SECRET_KEYS"
        ) from None
    credentials: dict[str, Any] = orjson.loads(plain)
    return credentials


# Where a CRM may be: anywhere but link-local and reserved addresses (the cloud metadata
# service at 169.254.169.254 above all). Loopback stays allowed (the sandbox, a local proxy),
# and so do private networks (a self-hosted CRM gateway).
CRM_ADDRESS_KINDS = frozenset({AddressKind.PUBLIC, AddressKind.PRIVATE, AddressKind.LOOPBACK})


async def check_crm_urls(*, base_url: str | None, credentials: dict[str, Any] | None) -> None:
    """ValidationFailed when the base URL or a Salesforce ``instance_url`` points where no
    CRM is. A name that does not resolve from here is let through: the sync will say."""
    urls = {
        "base_url": base_url,
        "credentials.instance_url": (credentials or {}).get("instance_url"),
    }
    problems = [
        problem(path, why)
        for path, url in urls.items()
        if isinstance(url, str)
        and (why := await url_problem(url, allowed=CRM_ADDRESS_KINDS, unresolvable_ok=True))
    ]
    if problems:
        raise ValidationFailed(problems)


async def create_connection(session: AsyncSession, *, body: ConnectionCreate) -> Connection:
    """Register a CRM connection."""
    kind = connector_kind(body.kind)
    await check_crm_urls(base_url=body.base_url, credentials=body.credentials)
    repository = ConnectionRepository(session)
    if await repository.by_name(body.name) is not None:
        raise Conflict(f"a connection named {body.name!r} exists already")
    return await repository.add(
        Connection(
            kind=body.kind,
            name=body.name,
            base_url=body.base_url or kind.default_base_url,
            credentials=_sealed_credentials(kind, body.credentials),
            settings=body.settings.model_dump(),
        )
    )


async def get_connection(session: AsyncSession, *, connection_id: uuid.UUID) -> Connection:
    """One CRM connection, or NotFound."""
    connection = await ConnectionRepository(session).get(connection_id)
    if connection is None:
        raise NotFound(f"no connection {connection_id}")
    return connection


async def list_connections(session: AsyncSession) -> Sequence[Connection]:
    """Every CRM connection."""
    return await ConnectionRepository(session).all()


async def update_connection(
    session: AsyncSession, *, connection_id: uuid.UUID, patch: ConnectionPatch
) -> Connection:
    """Change name, credentials, base URL or settings."""
    repository = ConnectionRepository(session)
    connection = await repository.get(connection_id, for_update=True)
    if connection is None:
        raise NotFound(f"no connection {connection_id}")
    if patch.name is not None and patch.name != connection.name:
        if await repository.by_name(patch.name) is not None:
            raise Conflict(f"a connection named {patch.name!r} exists already")
        connection.name = patch.name
    await check_crm_urls(base_url=patch.base_url, credentials=patch.credentials)
    if patch.credentials is not None:
        connection.credentials = _sealed_credentials(
            connector_kind(connection.kind), patch.credentials
        )
    if patch.base_url is not None:
        connection.base_url = patch.base_url
    if patch.settings is not None:
        connection.settings = patch.settings.model_dump()
    await session.flush()
    await session.refresh(connection)
    return connection


async def delete_connection(session: AsyncSession, *, connection_id: uuid.UUID) -> None:
    """Forget a connection and everything synced from it."""
    repository = ConnectionRepository(session)
    connection = await repository.get(connection_id, for_update=True)
    if connection is None:
        raise NotFound(f"no connection {connection_id}")
    await repository.delete(connection)


async def reseal_all_credentials(session: AsyncSession) -> int:
    """Re-encrypt every connection's credentials with the newest key; how many changed.
    Run after putting a new key in front of ICP_SYNC_SECRET_KEYS, then drop the old key."""
    connections = [c for c in await ConnectionRepository(session).all() if c.credentials]
    for connection in connections:
        reseal_credentials(connection)
    await session.flush()
    return len(connections)


def reseal_credentials(connection: Connection) -> None:
    """Re-encrypt with the newest key (key rotation)."""
    if connection.credentials is not None:
        connection.credentials = secrets_cipher().rotate(connection.credentials)


@dataclass(slots=True)
class OpenConnector:
    """A connector built for one connection, and the rate limiter it draws from."""

    connector: Connector
    rate_limiter: PostgresRateLimiter | None

    def close(self) -> None:
        """Release the connector's HTTP session and the rate limiter's database connection."""
        close_connector = getattr(self.connector, "close", None)
        if callable(close_connector):
            close_connector()
        if self.rate_limiter is not None:
            self.rate_limiter.close()


def _count_calls(kind: str) -> CallObserver:
    """Counts a connector's HTTP attempts in ``icp_sync_crm_calls_total{kind,status}``."""

    def count(status: str) -> None:
        CRM_CALLS.labels(kind=kind, status=status).inc()

    return count


def open_connector(connection: Connection, *, database_url: URL) -> OpenConnector:
    """The connection's connector, pacing its calls with the shared rate limit."""
    kind = connector_kind(connection.kind)
    configured = connection.settings.get("rate_limit_per_10s")
    calls_per_10s = kind.default_calls_per_10s if configured is None else int(configured)
    limiter = (
        PostgresRateLimiter(
            libpq_conninfo(database_url), connection.id, calls_per_10s=calls_per_10s
        )
        if calls_per_10s > 0
        else None
    )
    connector = kind.build(
        open_credentials(connection),
        connection.base_url or kind.default_base_url,
        connection.settings,
        limiter,
        _count_calls(connection.kind),
    )
    return OpenConnector(connector, limiter)


async def mark_outcomes_read(
    session: AsyncSession, *, connection_id: uuid.UUID, deals: bool, contacts: bool
) -> None:
    """Note that the connection's deals (contacts) have been read in full: from now on an
    account with none has 0 won deals (0 contacts), no longer unknown. The first time, every
    account is rescored against the active ICP when it reads roll-ups, since they just became
    known."""
    connection = await ConnectionRepository(session).get(connection_id, for_update=True)
    if connection is None:
        raise NotFound(f"no connection {connection_id}")
    now = datetime.now(UTC)
    first = False
    if deals and connection.deals_synced_at is None:
        connection.deals_synced_at, first = now, True
    if contacts and connection.contacts_synced_at is None:
        connection.contacts_synced_at, first = now, True
    await session.flush()
    version = await IcpRepository(session).get_active() if first else None
    # Only an ICP that reads roll-ups scores differently now.
    if version is not None and any(reads_rollups(compiled_icp(version).read_fields)):
        await defer_or_join(
            session,
            JobRequest(TaskName.RESCORE_ALL_ACCOUNTS, {"icp_version_id": str(version.id)}),
        )
