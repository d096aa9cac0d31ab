"""What insights read: the sample of accounts with closed deals in a window, and every
account in one pass with its roll-ups and standing."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.repository import data_projection
from app.core.db import driver_connection
from app.deals.repository import NO_DEALS, ROLLUP_SQL, rollup_names, rollup_values
from app.insights.schemas import Window

# (score, tier, is_mql, is_sql), and what a CRM confirmed: (icp version id as text, score,
# tier, mql, sql).
Verdict = tuple[int, str, bool, bool]
Confirmed = tuple[str, int, str, bool, bool]


@dataclass(frozen=True, slots=True)
class SampleAccount:
    """An account of a sample: whether it was won, and when its last deal in the window
    closed (what a time split orders by)."""

    account_id: int
    won: bool
    last_closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Reading:
    """An account as an insight reads it: what scoring reads, whether it was won (None when
    it is not in the sample), and where it stands."""

    account_id: int
    data: dict[str, Any]
    won: bool | None
    standing: Standing | None  # read for previews only


@dataclass(frozen=True, slots=True)
class Standing:
    """Where an account stands before an activation."""

    account_id: int
    name: str | None
    connection_id: str | None
    current: Verdict | None
    current_version: str | None
    confirmed: Confirmed | None


class InsightsRepository:
    """Queries over deals and accounts for backtests and discovery."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def tune_for_analytics(self) -> None:
        """Settings for the rest of the transaction that suit one pass over every account:
        no JIT (it compiled each of the pass's queries anew, 40 ms or more apiece, to save
        less than that), and room to group a million accounts' deals in memory rather than
        in sorted runs on disk (4 MB by default)."""
        await self.session.execute(text("SET LOCAL jit = off"))
        await self.session.execute(text("SET LOCAL work_mem = '64MB'"))

    async def sample(self, window: Window) -> list[SampleAccount]:
        """Every live account with a closed deal in the window, in id order: won when one of
        those deals was won (and reached ``success.min_amount``, when given)."""
        connection = await driver_connection(self.session)
        min_amount = window.success.min_amount if window.success else None
        cursor = await connection.execute(
            """
            SELECT a.id,
                   bool_or(d.is_won AND (%(min)s::float8 IS NULL
                                         OR d.amount >= %(min)s::float8)),
                   max(d.closed_at)
            FROM deals d
            JOIN deal_accounts da ON da.deal_id = d.id
            JOIN accounts a ON a.connection_id = da.connection_id
                           AND a.external_id = da.account_external_id AND NOT a.archived
            WHERE d.is_closed AND NOT d.archived
              AND (%(after)s::timestamptz IS NULL OR d.closed_at >= %(after)s::timestamptz)
              AND (%(before)s::timestamptz IS NULL OR d.closed_at < %(before)s::timestamptz)
              AND (%(connections)s::uuid[] IS NULL
                   OR d.connection_id = ANY(%(connections)s::uuid[]))
            -- Grouped by the account's integer id, not its (connection, CRM id): at a
            -- million deals this halves the query, and no worker recomputes the groups.
            GROUP BY a.id
            ORDER BY a.id
            """,
            {
                "min": min_amount,
                "after": window.closed_after,
                "before": window.closed_before,
                "connections": window.connection_ids,
            },
        )
        rows: list[tuple[Any, ...]] = await cursor.fetchall()  # type: ignore[assignment]
        return [SampleAccount(row[0], bool(row[1]), row[2]) for row in rows]

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

    @contextlib.asynccontextmanager
    async def readings(
        self,
        window: Window,
        *,
        fields: Sequence[str],
        deal_fields: Collection[str],
        every_account: bool,
    ) -> AsyncIterator[Callable[[int], Awaitable[list[Reading]]]]:
        """Read accounts in one pass, in id order, ``n`` at a time from the function yielded
        (an empty list at the end): each with its data cut down to ``fields`` and its deal
        roll-ups among ``deal_fields`` merged in (where its connection's deals were synced),
        whether it is in the window's sample and won, and where it stands. Every live account
        (``every_account``, a preview) or the sample's alone (a backtest).

        One query grouping every deal by account, streamed from a server-side cursor, where
        reading batch by batch asked PostgreSQL for 20,000 index lookups into the deals, and
        as many into the accounts, fifty times over a million accounts."""
        connection = await driver_connection(self.session)
        projection, projected = data_projection(fields, table="a")
        names = rollup_names(deal_fields)
        no_deals = [NO_DEALS[name] for name in names]
        min_amount = window.success.min_amount if window.success else None
        in_window = """d.is_closed
            AND (%s::timestamptz IS NULL OR d.closed_at >= %s::timestamptz)
            AND (%s::timestamptz IS NULL OR d.closed_at < %s::timestamptz)
            AND (%s::uuid[] IS NULL OR d.connection_id = ANY(%s::uuid[]))"""
        window_parameters = [
            window.closed_after,
            window.closed_after,
            window.closed_before,
            window.closed_before,
            window.connection_ids,
            window.connection_ids,
        ]
        join = "LEFT JOIN" if every_account else "JOIN"
        cursor = connection.cursor(name=f"insights_{uuid.uuid4().hex}")
        await cursor.execute(
            f"""
            WITH per_account (id, in_sample, won{"".join(f", {name}" for name in names)}) AS (
                SELECT a.id,
                       bool_or({in_window}),
                       bool_or({in_window} AND d.is_won
                               AND (%s::float8 IS NULL OR d.amount >= %s::float8))
                       {"".join(f", {ROLLUP_SQL[name]}" for name in names)}
                FROM deals d
                JOIN deal_accounts da ON da.deal_id = d.id
                JOIN accounts a ON a.connection_id = da.connection_id
                               AND a.external_id = da.account_external_id AND NOT a.archived
                WHERE NOT d.archived
                GROUP BY a.id
            )
            SELECT a.id, p.in_sample, p.won, c.deals_synced_at IS NOT NULL,
                   {"".join(f"p.{name}, " for name in names)}{projection}
                   {", " + STANDING_COLUMNS if every_account else ""}
            FROM accounts a
            JOIN connections c ON c.id = a.connection_id
            {join} per_account p ON p.id = a.id {"" if every_account else "AND p.in_sample"}
            {STANDING_JOINS if every_account else ""}
            WHERE NOT a.archived
            ORDER BY a.id
            """,
            [*window_parameters, *window_parameters, min_amount, min_amount, *projected],
        )
        loads = orjson.loads
        data_at = 4 + len(names)

        async def fetch(n: int) -> list[Reading]:
            readings = []
            rows: list[tuple[Any, ...]] = await cursor.fetchmany(n)  # type: ignore[assignment]
            for row in rows:
                data = loads(row[data_at])
                if names and row[3]:
                    rolled = rollup_values(
                        row[4:data_at] if row[1] is not None else no_deals, names
                    )
                    if rolled:
                        data = {**data, **rolled}
                readings.append(
                    Reading(
                        row[0],
                        data,
                        bool(row[2]) if row[1] else None,
                        _standing(row[0], row, data_at + 1) if every_account else None,
                    )
                )
            return readings

        try:
            yield fetch
        finally:
            await cursor.close()


# An account's place before an activation, as selected beside it (aliases a, c, s, w). Ids
# as text: a million uuid.UUID objects cost seconds, and they are only compared and keyed.
STANDING_COLUMNS = """a.name, CASE WHEN c.kind <> 'import' THEN a.connection_id::text END,
                   s.score, s.tier, s.is_mql, s.is_sql, s.icp_version_id::text,
                   w.icp_version_id::text, w.score, w.tier, w.is_mql, w.is_sql"""
STANDING_JOINS = """LEFT JOIN account_scores s ON s.account_id = a.id
            LEFT JOIN account_writebacks w ON w.account_id = a.id"""


def _standing(account_id: int, row: Sequence[Any], at: int) -> Standing:
    """The Standing in a row's STANDING_COLUMNS, which begin at ``at``."""
    return Standing(
        account_id=account_id,
        name=row[at],
        connection_id=row[at + 1],
        current=None if row[at + 3] is None else tuple(row[at + 2 : at + 6]),
        current_version=row[at + 6],
        confirmed=None if row[at + 7] is None else tuple(row[at + 7 : at + 12]),
    )
