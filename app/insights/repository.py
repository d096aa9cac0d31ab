"""The samples insights are computed over: accounts with closed deals in a window."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import driver_connection
from app.insights.schemas import Window

# (score, tier, is_mql, is_sql), and what a CRM confirmed: (icp version, score, tier, mql, sql).
Verdict = tuple[int, str, bool, bool]
Confirmed = tuple[uuid.UUID, int, str, bool, bool]


@dataclass(frozen=True, slots=True)
class Standing:
    """Where an account stands before an activation."""

    account_id: int
    name: str | None
    connection_id: uuid.UUID | None
    current: Verdict | None
    confirmed: Confirmed | None


class InsightsRepository:
    """Queries over deals and accounts for backtests and discovery."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def sample(self, window: Window) -> list[tuple[int, bool]]:
        """(account id, won) for every live account with a closed deal in the window: won
        when one of those deals was won (and reached ``success.min_amount``, when given)."""
        connection = await driver_connection(self.session)
        min_amount = window.success.min_amount if window.success else None
        cursor = await connection.execute(
            """
            WITH closed AS (
                SELECT da.connection_id, da.account_external_id,
                       bool_or(d.is_won AND (%(min)s::float8 IS NULL
                                             OR d.amount >= %(min)s::float8)) AS won
                FROM deals d JOIN deal_accounts da ON da.deal_id = d.id
                WHERE d.is_closed AND NOT d.archived
                  AND (%(after)s::timestamptz IS NULL OR d.closed_at >= %(after)s::timestamptz)
                  AND (%(before)s::timestamptz IS NULL OR d.closed_at < %(before)s::timestamptz)
                  AND (%(connections)s::uuid[] IS NULL
                       OR d.connection_id = ANY(%(connections)s::uuid[]))
                GROUP BY da.connection_id, da.account_external_id
            )
            SELECT a.id, closed.won
            FROM closed
            JOIN accounts a ON a.connection_id = closed.connection_id
                           AND a.external_id = closed.account_external_id AND NOT a.archived
            ORDER BY a.id
            """,
            {
                "min": min_amount,
                "after": window.closed_after,
                "before": window.closed_before,
                "connections": window.connection_ids,
            },
        )
        return [(row[0], bool(row[1])) for row in await cursor.fetchall()]  # type: ignore[index]

    async def verdicts(self, account_ids: Sequence[int]) -> dict[int, Verdict]:
        """The verdict stored on each of these accounts that has one."""
        connection = await driver_connection(self.session)
        cursor = await connection.execute(
            """
            SELECT s.account_id, s.score, s.tier, s.is_mql, s.is_sql
            FROM unnest(%s::bigint[]) AS t(id) JOIN account_scores s ON s.account_id = t.id
            """,
            (list(account_ids),),
        )
        rows: list[tuple[Any, ...]] = await cursor.fetchall()  # type: ignore[assignment]
        return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}

    async def standing(self, account_ids: Sequence[int]) -> list[Standing]:
        """Per account: its connection (None for CSV imports, which are written nowhere), the
        verdict that stands on it, and what its CRM last confirmed."""
        connection = await driver_connection(self.session)
        cursor = await connection.execute(
            """
            SELECT a.id, a.name, CASE WHEN c.kind <> 'import' THEN a.connection_id END,
                   s.score, s.tier, s.is_mql, s.is_sql,
                   w.icp_version_id, w.score, w.tier, w.is_mql, w.is_sql
            FROM unnest(%s::bigint[]) AS t(id)
            JOIN accounts a ON a.id = t.id
            JOIN connections c ON c.id = a.connection_id
            LEFT JOIN account_scores s ON s.account_id = a.id
            LEFT JOIN account_writebacks w ON w.account_id = a.id
            ORDER BY a.id
            """,
            (list(account_ids),),
        )
        rows: list[tuple[Any, ...]] = await cursor.fetchall()  # type: ignore[assignment]
        return [
            Standing(
                account_id=row[0],
                name=row[1],
                connection_id=row[2],
                current=None if row[4] is None else (row[3], row[4], row[5], row[6]),
                confirmed=None if row[7] is None else (row[7], row[8], row[9], row[10], row[11]),
            )
            for row in rows
        ]
