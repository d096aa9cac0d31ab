"""Queries on the write-back outbox and on what the CRM last confirmed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import StagedRows, driver_connection, json_rows
from app.jobs import Reaction
from connectors.base import CrmVerdict

# The verdict fields whose change costs a CRM write (reasons alone do not: DESIGN §3.4).
_VERDICT = "icp_version_id, score, tier, is_mql, is_sql"


@dataclass(slots=True, frozen=True)
class PendingWrite:
    """An outbox row with what the CRM needs to receive."""

    account_id: int
    revision: int
    external_id: str
    icp_version_id: uuid.UUID
    icp_label: str
    score: int
    tier: str
    is_mql: bool
    is_sql: bool
    reasons: str
    scored_at: datetime
    lifecycle_stage: str | None


async def queue_changed_verdicts(staged: StagedRows) -> Reaction:
    """Queue a write for every staged verdict of a CRM account that differs from what the
    CRM last confirmed; drop pending writes whose account went back to the confirmed verdict.
    (The flush is queued by whoever stored the verdicts: a sync writes back as it goes.)"""
    cursor = staged.cursor
    # What the CRM confirmed is looked up by key for the few accounts with a pending write (as
    # a join, the planner would hash every confirmed write-back for each batch).
    await cursor.execute(
        f"""
        DELETE FROM writeback_outbox o
        USING {staged.table} s
        WHERE o.account_id = s.account_id
          AND ROW(s.icp_version_id, s.score, s.tier, s.is_mql, s.is_sql) IS NOT DISTINCT FROM (
              SELECT ROW(w.icp_version_id, w.score, w.tier, w.is_mql, w.is_sql)
              FROM account_writebacks w WHERE w.account_id = s.account_id
          )
        """
    )
    # Each staged account, and what the CRM confirmed for it, is looked up by key too: as
    # joins, the planner (blind to the staging table's size) hashed every account and every
    # confirmed write-back for each batch (24 of 52 ms per 1,000 verdicts in a connection of
    # 20,000 accounts), a cost that grows with the connection.
    await cursor.execute(
        f"""
        INSERT INTO writeback_outbox (account_id, connection_id, {_VERDICT}, reasons, scored_at)
        SELECT s.account_id, a.connection_id, s.icp_version_id, s.score, s.tier, s.is_mql,
               s.is_sql, s.reasons, s.scored_at
        FROM {staged.table} s
        CROSS JOIN LATERAL (
            SELECT a.connection_id FROM accounts a
            JOIN connections c ON c.id = a.connection_id AND c.kind <> 'import'
            WHERE a.id = s.account_id AND NOT a.archived
            LIMIT 1
        ) a
        WHERE ROW(s.icp_version_id, s.score, s.tier, s.is_mql, s.is_sql) IS DISTINCT FROM (
            SELECT ROW(w.icp_version_id, w.score, w.tier, w.is_mql, w.is_sql)
            FROM account_writebacks w WHERE w.account_id = s.account_id
        )
        ON CONFLICT (account_id) DO UPDATE SET
            icp_version_id = EXCLUDED.icp_version_id, score = EXCLUDED.score,
            tier = EXCLUDED.tier, is_mql = EXCLUDED.is_mql, is_sql = EXCLUDED.is_sql,
            reasons = EXCLUDED.reasons, scored_at = EXCLUDED.scored_at,
            revision = nextval('writeback_revision_seq'), attempts = 0, last_error = NULL,
            next_attempt_at = now()
        WHERE ({", ".join("writeback_outbox." + c for c in _VERDICT.split(", "))})
              IS DISTINCT FROM
              ({", ".join("EXCLUDED." + c for c in _VERDICT.split(", "))})
        """
    )
    return Reaction(rows=cursor.rowcount)


class WritebackRepository:
    """Every SQL statement about the outbox and confirmed write-backs."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def due(self, connection_id: uuid.UUID, *, limit: int) -> list[PendingWrite]:
        """Pending writes of a connection whose time has come, oldest account first. A write
        of what the CRM already holds is dropped instead: one queued against a confirmation
        it could not see yet (a rescore's batch reads one snapshot) costs no CRM call."""
        connection = await driver_connection(self.session)
        while True:
            cursor = await connection.execute(
                """
                WITH due AS MATERIALIZED (
                    SELECT o.account_id, o.revision, a.external_id, o.icp_version_id,
                           v.name || ' v' || v.version AS icp_version, o.score, o.tier, o.is_mql,
                           o.is_sql, o.reasons, o.scored_at,
                           a.data->>'lifecycle_stage' AS lifecycle_stage,
                           ROW(o.icp_version_id, o.score, o.tier, o.is_mql, o.is_sql)
                           IS NOT DISTINCT FROM (
                               SELECT ROW(w.icp_version_id, w.score, w.tier, w.is_mql, w.is_sql)
                               FROM account_writebacks w WHERE w.account_id = o.account_id
                           ) AS held
                    FROM writeback_outbox o
                    JOIN accounts a ON a.id = o.account_id
                    JOIN icp_versions v ON v.id = o.icp_version_id
                    WHERE o.connection_id = %s AND o.next_attempt_at <= now() AND NOT a.archived
                    ORDER BY o.account_id
                    LIMIT %s
                ), dropped AS (
                    DELETE FROM writeback_outbox o USING due d
                    WHERE d.held AND o.account_id = d.account_id AND o.revision = d.revision
                )
                SELECT account_id, revision, external_id, icp_version_id, icp_version, score, tier,
                       is_mql, is_sql, reasons, scored_at, lifecycle_stage, held
                FROM due ORDER BY account_id
                """,
                (connection_id, limit),
            )
            rows: list[tuple[Any, ...]] = await cursor.fetchall()  # type: ignore[assignment]
            pending = [PendingWrite(*row[:-1]) for row in rows if not row[-1]]
            if pending or not rows:
                return pending
            # Every write of this round was held already (and is dropped): the next ones.

    async def confirm(self, writes: Sequence[PendingWrite]) -> None:
        """Record what the CRM now holds; drop the outbox rows unless a newer verdict
        replaced them meanwhile (then that one is still to be written)."""
        if not writes:
            return
        connection = await driver_connection(self.session)
        await connection.execute(
            """
            WITH confirmed AS MATERIALIZED (
                SELECT * FROM jsonb_to_recordset(%s::jsonb) AS c(
                    account_id bigint, revision bigint, icp_version_id uuid, score smallint,
                    tier char(1), is_mql boolean, is_sql boolean)
            ),
            held AS (
                INSERT INTO account_writebacks (account_id, icp_version_id, score, tier, is_mql,
                                                is_sql, written_at)
                SELECT account_id, icp_version_id, score, tier, is_mql, is_sql, now()
                FROM confirmed
                ON CONFLICT (account_id) DO UPDATE SET
                    icp_version_id = EXCLUDED.icp_version_id, score = EXCLUDED.score,
                    tier = EXCLUDED.tier, is_mql = EXCLUDED.is_mql, is_sql = EXCLUDED.is_sql,
                    written_at = EXCLUDED.written_at
            )
            DELETE FROM writeback_outbox o
            USING confirmed c
            WHERE o.account_id = c.account_id AND o.revision = c.revision
            """,
            (
                json_rows(
                    {
                        "account_id": w.account_id,
                        "revision": w.revision,
                        "icp_version_id": w.icp_version_id,
                        "score": w.score,
                        "tier": w.tier,
                        "is_mql": w.is_mql,
                        "is_sql": w.is_sql,
                    }
                    for w in writes
                ),
            ),
        )

    async def queue_repairs(
        self, connection_id: uuid.UUID, held: Sequence[tuple[str, CrmVerdict]]
    ) -> int:
        """Queue a write for every account whose CRM fields (``held``, by external id) differ
        from the verdict icp-sync stands by; a write already pending stays as it is. Returns
        how many were queued. (Hand edits and CRM restores of icp_* fields send no webhook we
        act on, and leave our verdict unchanged: only reading the fields back finds them.)"""
        if not held:
            return 0
        connection = await driver_connection(self.session)
        # Each account's verdict is looked up by key (a LATERAL subquery that LIMIT keeps the
        # planner from flattening into a join): as a join, the planner, with no statistics
        # for tables a first sync is filling, hashed every account of the connection and
        # every verdict for each batch of a thousand.
        # What the CRM was last confirmed to hold is forgotten for those accounts: it holds
        # something else now, and a write of what it was confirmed to hold must go out (the
        # flush drops writes of what the CRM is known to hold).
        cursor = await connection.execute(
            f"""
            WITH differing AS MATERIALIZED (
                SELECT ours.account_id, ours.connection_id, ours.icp_version_id, ours.score,
                       ours.tier, ours.is_mql, ours.is_sql, ours.reasons, ours.scored_at
                FROM jsonb_to_recordset(%s::jsonb) AS crm(external_id text, score float8,
                                                          tier text, is_mql boolean,
                                                          is_sql boolean, version text)
                CROSS JOIN LATERAL (
                    SELECT a.id AS account_id, a.connection_id, s.icp_version_id, s.score,
                           s.tier, s.is_mql, s.is_sql, s.reasons, s.scored_at,
                           v.name || ' v' || v.version AS version
                    FROM accounts a
                    JOIN account_scores s ON s.account_id = a.id
                    JOIN icp_versions v ON v.id = s.icp_version_id
                    WHERE a.connection_id = %s AND a.external_id = crm.external_id
                      AND NOT a.archived
                    LIMIT 1
                ) ours
                WHERE (crm.score, crm.tier, crm.is_mql, crm.is_sql, crm.version)
                      IS DISTINCT FROM
                      (ours.score::float8, ours.tier::text, ours.is_mql, ours.is_sql,
                       ours.version)
            ), forgotten AS (
                DELETE FROM account_writebacks w USING differing d
                WHERE w.account_id = d.account_id
            )
            INSERT INTO writeback_outbox (account_id, connection_id, {_VERDICT}, reasons,
                                          scored_at)
            SELECT account_id, connection_id, icp_version_id, score, tier, is_mql, is_sql,
                   reasons, scored_at
            FROM differing
            ON CONFLICT (account_id) DO NOTHING
            """,
            (
                json_rows(
                    {
                        "external_id": external_id,
                        "score": verdict.score,
                        "tier": verdict.tier,
                        "is_mql": verdict.is_mql,
                        "is_sql": verdict.is_sql,
                        "version": verdict.version,
                    }
                    for external_id, verdict in held
                ),
                connection_id,
            ),
        )
        return cursor.rowcount

    async def fail(
        self, failures: Sequence[tuple[PendingWrite, str]], *, retry_at: Sequence[datetime]
    ) -> None:
        """Keep failed writes in the outbox with their error, to be retried at ``retry_at``."""
        if not failures:
            return
        connection = await driver_connection(self.session)
        await connection.execute(
            """
            UPDATE writeback_outbox o SET attempts = o.attempts + 1, last_error = f.error,
                                          next_attempt_at = f.retry_at
            FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::timestamptz[])
                 AS f(account_id, revision, error, retry_at)
            WHERE o.account_id = f.account_id AND o.revision = f.revision
            """,
            (
                [w.account_id for w, _ in failures],
                [w.revision for w, _ in failures],
                [error[:1000] for _, error in failures],
                list(retry_at),
            ),
        )

    async def attempts(self, account_ids: Sequence[int]) -> dict[int, int]:
        """Failed attempts so far per pending account."""
        connection = await driver_connection(self.session)
        cursor = await connection.execute(
            "SELECT account_id, attempts FROM writeback_outbox WHERE account_id = ANY(%s)",
            (list(account_ids),),
        )
        return {row[0]: row[1] for row in await cursor.fetchall()}  # type: ignore[index]

    async def waiting_count(self) -> int:
        """Writes waiting in the outbox over every connection (given-up ones included)."""
        connection = await driver_connection(self.session)
        cursor = await connection.execute("SELECT count(*) FROM writeback_outbox")
        row = await cursor.fetchone()
        return int(row[0]) if row else 0  # type: ignore[index]

    async def pending(self, connection_id: uuid.UUID) -> tuple[int, datetime | None]:
        """How many writes are pending for a connection, and when the next one is due."""
        connection = await driver_connection(self.session)
        cursor = await connection.execute(
            "SELECT count(*), min(next_attempt_at) FROM writeback_outbox "
            "WHERE connection_id = %s AND next_attempt_at < 'infinity'",
            (connection_id,),
        )
        row = await cursor.fetchone()
        assert row is not None
        return row[0], row[1]  # type: ignore[index]

    async def connections_with_due_writes(self) -> list[uuid.UUID]:
        """CRM connections that have writes whose time has come."""
        connection = await driver_connection(self.session)
        cursor = await connection.execute(
            "SELECT DISTINCT connection_id FROM writeback_outbox WHERE next_attempt_at <= now()"
        )
        return [row[0] for row in await cursor.fetchall()]  # type: ignore[index]
