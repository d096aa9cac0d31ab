"""Every SQL statement about deals and their companies."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import driver_connection, json_rows
from app.core.links import (
    StoredRecords,
    archive_linked,
    replace_links,
    upsert_returning,
)
from app.models import Account, Deal, DealAccount
from app.scoring.definition import DEAL_ROLLUP_FIELDS
from connectors.base import DealRecord

# An account's live deals ``d`` rolled up (DESIGN §8), each as a column of a GROUP BY per
# account: the per-batch read below and the insights' one-pass read select the same.
ROLLUP_SQL: Final[Mapping[str, str]] = MappingProxyType(
    {
        "won_deals": "count(d.id) FILTER (WHERE d.is_won)",
        "lost_deals": "count(d.id) FILTER (WHERE d.is_closed AND NOT d.is_won)",
        "open_deals": "count(d.id) FILTER (WHERE NOT d.is_closed)",
        "won_amount": "coalesce(sum(d.amount) FILTER (WHERE d.is_won), 0)",
        "last_won_at": "max(d.closed_at) FILTER (WHERE d.is_won)",
    }
)
# The roll-ups of an account without a live deal.
NO_DEALS: Final[Mapping[str, Any]] = MappingProxyType(
    {"won_deals": 0, "lost_deals": 0, "open_deals": 0, "won_amount": 0.0, "last_won_at": None}
)


def rollup_names(fields: Collection[str]) -> list[str]:
    """The roll-ups among ``fields``, in a stable order (the order they are selected in)."""
    return [name for name in ROLLUP_SQL if name in fields]


def rollup_values(values: Sequence[Any], names: Sequence[str]) -> dict[str, Any]:
    """The roll-ups ``names`` selected as ``values``; the last win's date as ISO text, left
    out when there was none (a rescore of a million accounts builds a million of these:
    each holds only what the ICP reads)."""
    rolled = dict(zip(names, values, strict=True))
    last_won = rolled.get("last_won_at")
    if last_won is not None:
        rolled["last_won_at"] = last_won.isoformat()
    elif "last_won_at" in rolled:
        del rolled["last_won_at"]
    return rolled


@dataclass(frozen=True, slots=True)
class DealFilters:
    """What a deals list is narrowed to."""

    account_id: int | None = None
    connection_id: uuid.UUID | None = None
    is_closed: bool | None = None
    is_won: bool | None = None


class DealRepository:
    """Upserts deals with their company links; reads them for the API."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(self, connection_id: uuid.UUID, deals: Sequence[DealRecord]) -> set[str]:
        """Store deals by (connection, CRM id) with their company links (replacing the links
        of each deal given). Returns the CRM ids of the companies whose deals changed: every
        company a changed deal is or was linked to, and those a link was added to or removed
        from. Deals read again unchanged touch nothing."""
        latest = {deal.external_id: deal for deal in deals}
        if not latest:
            return set()
        rows = list(latest.values())
        connection = await driver_connection(self.session)
        cursor = await connection.execute(
            upsert_returning(
                """
                INSERT INTO deals AS d (connection_id, external_id, name, pipeline, stage,
                                        is_closed, is_won, stage_known, amount, created_at,
                                        closed_at, crm_updated_at, archived)
                SELECT %(connection_id)b, *
                FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
                    external_id text, name text, pipeline text, stage text, is_closed boolean,
                    is_won boolean, stage_known boolean, amount float8, created_at timestamptz,
                    closed_at timestamptz, crm_updated_at timestamptz, archived boolean)
                ON CONFLICT (connection_id, external_id) DO UPDATE SET
                    name = EXCLUDED.name, pipeline = EXCLUDED.pipeline, stage = EXCLUDED.stage,
                    is_closed = EXCLUDED.is_closed, is_won = EXCLUDED.is_won,
                    stage_known = EXCLUDED.stage_known, amount = EXCLUDED.amount,
                    created_at = EXCLUDED.created_at, closed_at = EXCLUDED.closed_at,
                    crm_updated_at = EXCLUDED.crm_updated_at, archived = EXCLUDED.archived,
                    updated_at = now()
                WHERE (d.name, d.pipeline, d.stage, d.is_closed, d.is_won, d.stage_known,
                       d.amount, d.created_at, d.closed_at, d.archived)
                      IS DISTINCT FROM
                      (EXCLUDED.name, EXCLUDED.pipeline, EXCLUDED.stage, EXCLUDED.is_closed,
                       EXCLUDED.is_won, EXCLUDED.stage_known, EXCLUDED.amount,
                       EXCLUDED.created_at, EXCLUDED.closed_at, EXCLUDED.archived)
                RETURNING d.id, d.external_id, d.xmax = 0 AS inserted
                """,
                owners="deals",
            ),
            {
                "connection_id": connection_id,
                "external_ids": [d.external_id for d in rows],
                "rows": json_rows(
                    {
                        "external_id": d.external_id,
                        "name": d.name,
                        "pipeline": d.pipeline,
                        "stage": d.stage,
                        "is_closed": d.is_closed,
                        "is_won": d.is_won,
                        "stage_known": d.stage_known,
                        "amount": d.amount,
                        "created_at": d.created_at,
                        "closed_at": d.closed_at,
                        "crm_updated_at": d.crm_updated_at,
                        "archived": d.archived,
                    }
                    for d in rows
                ),
            },
        )
        stored = StoredRecords.from_rows(await cursor.fetchall())  # type: ignore[arg-type]
        return await replace_links(
            connection,
            table="deal_accounts",
            owner="deal_id",
            connection_id=connection_id,
            stored=stored,
            links={d.external_id: d.account_external_ids for d in rows},
        )

    async def rollups(
        self, account_ids: Sequence[int], fields: Collection[str] = DEAL_ROLLUP_FIELDS
    ) -> dict[int, dict[str, Any]]:
        """Per account, its live deals rolled up (DESIGN §8), only ``fields`` of them; accounts
        of a connection whose deals were never synced are left out (their roll-ups are
        unknown, not zero)."""
        names = rollup_names(fields)
        if not names:
            return {}
        connection = await driver_connection(self.session)
        cursor = await connection.execute(
            f"""
            SELECT a.id, {", ".join(ROLLUP_SQL[name] for name in names)}
            FROM unnest(%b::bigint[]) AS t(id)
            JOIN accounts a ON a.id = t.id
            JOIN connections c ON c.id = a.connection_id AND c.deals_synced_at IS NOT NULL
            LEFT JOIN deal_accounts da ON da.connection_id = a.connection_id
                                      AND da.account_external_id = a.external_id
            LEFT JOIN deals d ON d.id = da.deal_id AND NOT d.archived
            GROUP BY a.id
            """,
            (list(account_ids),),
        )
        rows: list[tuple[Any, ...]] = await cursor.fetchall()  # type: ignore[assignment]
        return {row[0]: rollup_values(row[1:], names) for row in rows}

    async def archive(self, connection_id: uuid.UUID, external_ids: Sequence[str]) -> set[str]:
        """Mark deals the CRM deleted as archived; returns the CRM ids of the companies they
        were linked to (to be rescored)."""
        return await archive_linked(
            await driver_connection(self.session),
            table="deal_accounts",
            owner="deal_id",
            owners="deals",
            connection_id=connection_id,
            external_ids=external_ids,
        )

    async def page(
        self, filters: DealFilters, *, after_id: int, limit: int
    ) -> Sequence[tuple[Deal, list[str]]]:
        """Live deals by id after ``after_id``, each with its companies' CRM ids."""
        query = select(Deal).where(Deal.id > after_id, Deal.archived.is_(False))
        if filters.connection_id is not None:
            query = query.where(Deal.connection_id == filters.connection_id)
        if filters.is_closed is not None:
            query = query.where(Deal.is_closed.is_(filters.is_closed))
        if filters.is_won is not None:
            query = query.where(Deal.is_won.is_(filters.is_won))
        if filters.account_id is not None:
            query = query.where(
                select(DealAccount.deal_id)
                .join(
                    Account,
                    (Account.connection_id == DealAccount.connection_id)
                    & (Account.external_id == DealAccount.account_external_id),
                )
                .where(DealAccount.deal_id == Deal.id, Account.id == filters.account_id)
                .exists()
            )
        deals = (await self.session.scalars(query.order_by(Deal.id).limit(limit))).all()
        links = await self.session.execute(
            select(DealAccount.deal_id, DealAccount.account_external_id).where(
                DealAccount.deal_id.in_([d.id for d in deals])
            )
        )
        companies: dict[int, list[str]] = {}
        for deal_id, external_id in links.all():
            companies.setdefault(deal_id, []).append(external_id)
        return [(deal, sorted(companies.get(deal.id, []))) for deal in deals]
