"""The samples insights are computed over: accounts with closed deals in a window."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import driver_connection
from app.insights.schemas import Window


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
