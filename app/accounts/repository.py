"""Queries on accounts, their scores and score history.

The bulk paths (upsert, rescore reads) talk psycopg directly: one set-based statement of
constant text per batch is what makes a million rescores fit in a minute. Verdicts are
written by app.verdicts.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, and_, func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import driver_connection, json_rows
from app.models import (
    IMPORT_CONNECTION_NAME,
    Account,
    AccountScore,
    AccountScoreHistory,
    Connection,
)


@dataclass(slots=True, frozen=True)
class UpsertedAccount:
    """An account an upsert created or changed."""

    id: int
    external_id: str
    created: bool


@dataclass(slots=True, frozen=True)
class AccountFilters:
    """Filters of the accounts list."""

    tier: str | None = None
    is_mql: bool | None = None
    is_sql: bool | None = None
    connection_id: uuid.UUID | None = None
    q: str | None = None


# What the accounts list sorts by, as the expression keyset pages compare. Nameless accounts
# sort as "", so every row has a key; unscored ones carry score -1 in a cursor, and the score
# sort (``_page_by_score``) lists them after every scored one.
SORTS: dict[str, ColumnElement[Any]] = {
    "id": Account.id.expression,
    "score": func.coalesce(AccountScore.score, -1),
    "name": func.coalesce(Account.name, ""),
    "updated_at": Account.updated_at.expression,
}


def data_projection(fields: Sequence[str], *, table: str = "accounts") -> tuple[str, list[Any]]:
    """SQL for an account's data cut down to ``fields``, as JSON text (what scoring reads:
    less to send and to parse than whole records), and its parameters."""
    if not fields:
        return "'{}'", []
    pairs = ", ".join(f"%s::text, {table}.data->%s::text" for _ in fields)
    return f"jsonb_build_object({pairs})::text", [
        name for field in fields for name in (field, field)
    ]


class AccountRepository:
    """Every SQL statement about accounts and their scores."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def import_connection_id(self) -> uuid.UUID:
        """The built-in connection CSV imports belong to (created on first use)."""
        await self.session.execute(
            insert(Connection)
            .values(id=uuid.uuid4(), kind="import", name=IMPORT_CONNECTION_NAME)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        connection_id = await self.session.scalar(
            select(Connection.id).where(Connection.name == IMPORT_CONNECTION_NAME)
        )
        assert connection_id is not None
        return connection_id

    async def upsert(
        self, connection_id: uuid.UUID, accounts: Sequence[dict[str, Any]]
    ) -> list[UpsertedAccount]:
        """Insert or update accounts by (connection, external id). Only rows that are new or
        whose data or archived flag changed are written and returned: the rest need no
        rescoring. A later duplicate of an external id in ``accounts`` wins."""
        latest = {a["external_id"]: a for a in accounts}
        if not latest:
            return []
        rows = list(latest.values())
        connection = await driver_connection(self.session)
        # One statement of constant text, so PostgreSQL plans it once and nothing is compiled
        # per row on our side; the rows travel as one JSON text (json_rows: serialised and
        # parsed in C, where psycopg's column arrays dumped every value in Python).
        cursor = await connection.execute(
            """
            INSERT INTO accounts (connection_id, external_id, name, domain, data, archived,
                                  crm_updated_at)
            SELECT %s, * FROM jsonb_to_recordset(%s::jsonb) AS r(
                external_id text, name text, domain text, data jsonb, archived boolean,
                crm_updated_at timestamptz)
            ON CONFLICT (connection_id, external_id) DO UPDATE SET
                name = EXCLUDED.name, domain = EXCLUDED.domain, data = EXCLUDED.data,
                archived = EXCLUDED.archived, crm_updated_at = EXCLUDED.crm_updated_at,
                updated_at = now()
            WHERE accounts.data IS DISTINCT FROM EXCLUDED.data
               OR accounts.archived IS DISTINCT FROM EXCLUDED.archived
            RETURNING id, external_id, xmax = 0
            """,
            (
                connection_id,
                json_rows(
                    {
                        "external_id": a["external_id"],
                        "name": a["data"].get("name"),
                        "domain": a["data"].get("domain"),
                        "data": a["data"],
                        "archived": bool(a.get("archived", False)),
                        "crm_updated_at": a.get("crm_updated_at"),
                    }
                    for a in rows
                ),
            ),
        )
        return [UpsertedAccount(*row) for row in await cursor.fetchall()]  # type: ignore[misc]

    async def scoring_batch(
        self, *, after_id: int, limit: int, fields: Sequence[str], through_id: int | None = None
    ) -> list[tuple[int, dict[str, Any]]]:
        """The next ``limit`` live accounts after ``after_id`` (or all of them up to
        ``through_id``) as (id, data), ``data`` cut down to ``fields`` in the database: less
        to send and to parse than whole records."""
        if through_id is not None:
            return await self._projected(
                "WHERE id > %s AND id <= %s AND NOT archived ORDER BY id",
                (after_id, through_id),
                fields,
            )
        return await self._projected(
            "WHERE id > %s AND NOT archived ORDER BY id LIMIT %s", (after_id, limit), fields
        )

    async def _projected(
        self, where: str, arguments: tuple[Any, ...], fields: Sequence[str]
    ) -> list[tuple[int, dict[str, Any]]]:
        connection = await driver_connection(self.session)
        projection, parameters = data_projection(fields)
        cursor = await connection.execute(
            f"SELECT id, {projection} FROM accounts {where}", (*parameters, *arguments)
        )
        loads = orjson.loads
        return [(row[0], loads(row[1])) for row in await cursor.fetchall()]  # type: ignore[index]

    async def live_data_by_external_id(
        self, connection_id: uuid.UUID, external_ids: Sequence[str]
    ) -> list[tuple[int, dict[str, Any]]]:
        """(id, canonical data) of a connection's live accounts with these CRM ids."""
        connection = await driver_connection(self.session)
        # Looked up one by one, by key (LIMIT keeps the planner from flattening the LATERAL
        # subquery into a join): as ``external_id IN (…)`` it read every account of the
        # connection for each batch of deals or contacts a sync rescored.
        cursor = await connection.execute(
            """
            SELECT a.id, a.data::text FROM unnest(%s::text[]) AS given(external_id)
            CROSS JOIN LATERAL (
                SELECT id, data FROM accounts
                WHERE connection_id = %s AND external_id = given.external_id AND NOT archived
                LIMIT 1
            ) a
            """,
            (list(external_ids), connection_id),
        )
        loads = orjson.loads
        return [(row[0], loads(row[1])) for row in await cursor.fetchall()]  # type: ignore[index]

    async def accounts_data(self, account_ids: Sequence[int]) -> list[tuple[int, dict[str, Any]]]:
        """(id, all canonical data) of the given accounts, in id order."""
        connection = await driver_connection(self.session)
        cursor = await connection.execute(
            "SELECT id, data::text FROM accounts WHERE id = ANY(%s) ORDER BY id",
            (list(account_ids),),
        )
        loads = orjson.loads
        return [(row[0], loads(row[1])) for row in await cursor.fetchall()]  # type: ignore[index]

    def _list_query(self, filters: AccountFilters) -> Select[Account, AccountScore]:
        query = select(Account, AccountScore).outerjoin(
            AccountScore, AccountScore.account_id == Account.id
        )
        conditions = []
        if filters.tier is not None:
            conditions.append(AccountScore.tier == filters.tier)
        if filters.is_mql is not None:
            conditions.append(AccountScore.is_mql.is_(filters.is_mql))
        if filters.is_sql is not None:
            conditions.append(AccountScore.is_sql.is_(filters.is_sql))
        if filters.connection_id is not None:
            conditions.append(Account.connection_id == filters.connection_id)
        if filters.q:
            pattern = (
                "%" + filters.q.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
            )
            conditions.append(or_(Account.name.ilike(pattern), Account.domain.ilike(pattern)))
        return query.where(and_(*conditions)) if conditions else query

    async def page(
        self,
        filters: AccountFilters,
        *,
        sort: str = "id",
        after: tuple[Any, int] | None = None,
        limit: int,
    ) -> list[tuple[Account, AccountScore | None]]:
        """One page of accounts in ``sort`` order (``SORTS``; ``-`` descending), the id
        breaking ties: keyset pagination on (sort key, id) after ``after``, stable under
        inserts and edits elsewhere in the list."""
        key = SORTS[sort.removeprefix("-")]
        descending = sort.startswith("-")
        if key is SORTS["score"]:
            return await self._page_by_score(
                filters, descending=descending, after=after, limit=limit
            )
        query = self._list_query(filters)
        if after is not None:
            position = tuple_(key, Account.id)
            query = query.where(
                position < tuple_(*after) if descending else position > tuple_(*after)
            )
        order = (key.desc(), Account.id.desc()) if descending else (key, Account.id)
        return await self._rows(query.order_by(*order).limit(limit))

    async def _rows(
        self, query: Select[Account, AccountScore]
    ) -> list[tuple[Account, AccountScore | None]]:
        result = await self.session.execute(query)
        return [(row[0], row[1]) for row in result.all()]

    async def _page_by_score(
        self,
        filters: AccountFilters,
        *,
        descending: bool,
        after: tuple[Any, int] | None,
        limit: int,
    ) -> list[tuple[Account, AccountScore | None]]:
        """The score-sorted page as two walks: scored accounts along the (score, account_id)
        index, then unscored ones (no score; key -1 in cursors) by id, in either direction.
        A page costs the same over a million accounts as over a thousand (one sort of the
        outer join cost seconds there), and the unscored, which have no score to rank, come
        last whichever way the list runs."""
        scored = self._list_query(filters).where(AccountScore.account_id.is_not(None))
        unscored = self._list_query(filters).where(AccountScore.account_id.is_(None))
        position = tuple_(AccountScore.score, AccountScore.account_id)
        if descending:
            scored = scored.order_by(AccountScore.score.desc(), AccountScore.account_id.desc())
            unscored = unscored.order_by(Account.id.desc())
        else:
            scored = scored.order_by(AccountScore.score, AccountScore.account_id)
            unscored = unscored.order_by(Account.id)
        if after is not None and after[0] < 0:  # already among the unscored
            further = Account.id < after[1] if descending else Account.id > after[1]
            return await self._rows(unscored.where(further).limit(limit))
        if after is not None:
            scored = scored.where(
                position < tuple_(*after) if descending else position > tuple_(*after)
            )
        rows = await self._rows(scored.limit(limit))
        # A filter on the verdict leaves no unscored account to look for.
        verdict_filtered = (filters.tier, filters.is_mql, filters.is_sql) != (None, None, None)
        if len(rows) < limit and not verdict_filtered:
            rows += await self._rows(unscored.limit(limit - len(rows)))
        return rows

    async def get(self, account_id: int) -> tuple[Account, AccountScore | None] | None:
        """One account with its current score."""
        result = await self.session.execute(
            self._list_query(AccountFilters()).where(Account.id == account_id)
        )
        row = result.first()
        return (row[0], row[1]) if row else None

    async def stats(self, *, connection_id: uuid.UUID | None = None) -> dict[str, Any]:
        """Live accounts (of one connection, or all): how many, how many scored, per tier,
        MQL, SQL and excluded, and the mean data coverage of the scored ones. Aggregates
        over the narrow verdicts table: live accounts are counted from their partial index,
        and archived ones (few) left out of the verdicts by an anti-join on theirs."""
        score = AccountScore
        archived = select(Account.id).where(Account.id == score.account_id, Account.archived)
        live = select(func.count()).select_from(Account).where(~Account.archived)
        verdicts = select(
            func.count().label("scored"),
            *(func.count().filter(score.tier == t).label(t) for t in "ABCD"),
            func.count().filter(score.is_mql.is_(True)).label("mql"),
            func.count().filter(score.is_sql.is_(True)).label("sql"),
            func.count().filter(score.excluded.is_(True)).label("excluded"),
            func.avg(score.coverage).label("coverage"),
        ).where(~archived.exists())
        if connection_id is not None:
            live = live.where(Account.connection_id == connection_id)
            verdicts = verdicts.where(
                score.account_id.in_(
                    select(Account.id).where(Account.connection_id == connection_id)
                )
            )
        accounts = await self.session.scalar(live)
        row = (await self.session.execute(verdicts)).one()
        return {
            "accounts": accounts or 0,
            "scored": row.scored,
            "tiers": {t: getattr(row, t) for t in "ABCD"},
            "mql": row.mql,
            "sql": row.sql,
            "excluded": row.excluded,
            "coverage": round(float(row.coverage), 4) if row.coverage is not None else None,
        }

    async def top_scored(
        self, limit: int, *, connection_id: uuid.UUID | None = None
    ) -> list[tuple[Account, AccountScore]]:
        """The best-fitting live accounts (of one connection, or all)."""
        query = (
            select(Account, AccountScore)
            .join(AccountScore, AccountScore.account_id == Account.id)
            .where(Account.archived.is_(False))
            .order_by(AccountScore.score.desc(), Account.id)
            .limit(limit)
        )
        if connection_id is not None:
            query = query.where(Account.connection_id == connection_id)
        result = await self.session.execute(query)
        return [(row[0], row[1]) for row in result.all()]

    async def history(self, account_id: int, *, limit: int = 100) -> list[AccountScoreHistory]:
        """Score changes of one account, newest first."""
        result = await self.session.scalars(
            select(AccountScoreHistory)
            .where(AccountScoreHistory.account_id == account_id)
            .order_by(AccountScoreHistory.id.desc())
            .limit(limit)
        )
        return list(result.all())
