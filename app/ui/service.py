"""What the dashboard's pages show, gathered from the domains that own it. Every read here is
an aggregate or a short page: a page costs the same with a thousand accounts or a million."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.service import account_stats
from app.connections.service import list_connections
from app.health.service import StandingHealth, standing_health
from app.icps.repository import IcpRepository
from app.inbox.repository import WebhookInboxRepository
from app.models import Connection, IcpVersion, SyncRun
from app.sync.repository import SyncRunRepository
from app.writeback.repository import WritebackRepository

# Runs listed per connection on the connections page.
RECENT_RUNS = 10


@dataclass(frozen=True, slots=True)
class ConnectionStatus:
    """A connection, its latest sync runs (newest first) and its pending CRM writes."""

    connection: Connection
    runs: Sequence[SyncRun]
    writes_pending: int

    @property
    def last_run(self) -> SyncRun | None:
        """The newest run, if any."""
        return self.runs[0] if self.runs else None


@dataclass(frozen=True, slots=True)
class Overview:
    """The overview page's figures."""

    stats: dict[str, Any]
    active: IcpVersion | None
    health: StandingHealth | None
    connections: list[ConnectionStatus]
    inbox_backlog: int
    outbox_backlog: int


async def connection_statuses(
    session: AsyncSession, *, runs_each: int = 1
) -> list[ConnectionStatus]:
    """Every connection with its ``runs_each`` latest runs and its pending writes."""
    runs = SyncRunRepository(session)
    writes = WritebackRepository(session)
    statuses = []
    for connection in await list_connections(session):
        latest = await runs.page(
            connection_id=connection.id, status=None, before=None, limit=runs_each
        )
        pending, _ = await writes.pending(connection.id)
        statuses.append(ConnectionStatus(connection, latest, pending))
    return statuses


async def overview(session: AsyncSession) -> Overview:
    """Tiers, flags and coverage of the live accounts, the active ICP and its health, the
    last sync of each connection, and the webhook inbox and write-back outbox backlogs."""
    return Overview(
        stats=await account_stats(session, connection_id=None),
        active=await IcpRepository(session).get_active(),
        health=await standing_health(session),
        connections=await connection_statuses(session),
        inbox_backlog=await WebhookInboxRepository(session).unprocessed_count(),
        outbox_backlog=await WritebackRepository(session).waiting_count(),
    )


def definition_yaml(definition: dict[str, Any]) -> str:
    """A definition as the YAML a RevOps person keeps in git."""
    return yaml.safe_dump(definition, sort_keys=False, allow_unicode=True, width=100)


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One line of a unified diff: ``kind`` is ``add``, ``remove``, ``hunk`` or ``same``."""

    kind: str
    text: str


def definition_diff(before: IcpVersion, after: IcpVersion, *, context: int = 3) -> list[DiffLine]:
    """The unified diff from ``before``'s definition to ``after``'s, as YAML lines."""
    lines = difflib.unified_diff(
        definition_yaml(before.definition).splitlines(),
        definition_yaml(after.definition).splitlines(),
        fromfile=f"{before.name} v{before.version}",
        tofile=f"{after.name} v{after.version}",
        n=context,
        lineterm="",
    )
    diff = []
    for line in lines:
        if line.startswith(("---", "+++")):
            continue
        kind = {"+": "add", "-": "remove", "@": "hunk"}.get(line[:1], "same")
        diff.append(DiffLine(kind, line))
    return diff
