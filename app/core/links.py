"""Links from synced deals and contacts to their companies, by the company's CRM id.

Deals and contacts keep their companies in a link table each (``deal_accounts``,
``contact_accounts``); a record read from the CRM brings its whole set of companies, which
replaces the stored one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from app.core.db import json_rows


@dataclass(frozen=True, slots=True)
class StoredRecords:
    """What an upsert of deals or contacts said about each record (by CRM id): its row id,
    whether it was new, and whether it was new or changed."""

    ids: dict[str, int]
    new: set[str]
    changed: set[str]

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[int, str, bool, bool]]) -> StoredRecords:
        """From ``(id, external_id, new, changed)`` rows, as ``UPSERT_RETURNING`` gives."""
        ids: dict[str, int] = {}
        new: set[str] = set()
        changed: set[str] = set()
        for row_id, external_id, is_new, is_changed in rows:
            ids[external_id] = row_id
            if is_new:
                new.add(external_id)
            if is_changed:
                changed.add(external_id)
        return cls(ids, new, changed)


def upsert_returning(upsert: str, *, owners: str) -> str:
    """An ``INSERT … ON CONFLICT DO UPDATE … WHERE <changed> RETURNING id, external_id,
    xmax = 0 AS inserted`` of ``owners`` (that reads ``%(connection_id)b`` and ``%(external_ids)b``)
    made to answer for every record given, as ``(id, external_id, new, changed)``: the
    records it wrote, and those it left as they were. (``xmax = 0`` is PostgreSQL's way of
    telling a row inserted from one updated by ON CONFLICT.) ``owners`` is an identifier of
    our own schema, never input."""
    # The records left as they were are looked up one by one, by key (a LATERAL subquery
    # that LIMIT keeps the planner from flattening into a join). Written as a join or as
    # ``external_id = ANY(…)``, the planner (which has no statistics for a table a first sync
    # is filling) scanned every record of the connection for each batch: a sync of 200,000
    # contacts read 20 million rows.
    return f"""
        WITH written AS ({upsert})
        SELECT id, external_id, inserted, true FROM written
        UNION ALL
        SELECT o.id, o.external_id, false, false
        FROM unnest(%(external_ids)b::text[]) AS given(external_id)
        CROSS JOIN LATERAL (
            SELECT o.id, o.external_id FROM {owners} o
            WHERE o.connection_id = %(connection_id)b AND o.external_id = given.external_id
            LIMIT 1
        ) o
        WHERE given.external_id NOT IN (SELECT external_id FROM written)
        """


async def replace_links(
    connection: psycopg.AsyncConnection[Any],
    *,
    table: str,
    owner: str,
    connection_id: uuid.UUID,
    stored: StoredRecords,
    links: Mapping[str, Sequence[str]],
) -> set[str]:
    """Make the company links of each record (by CRM id) in ``links`` what it lists; returns
    the companies to rescore: every company of a record that is new or changed (before and
    after), and for an unchanged record the companies it gained or lost. Only the links that
    differ are written, and a new record's links are only inserted. ``table`` and ``owner``
    are identifiers of our own schema, never input."""
    wanted = json_rows(
        {"id": stored.ids[record], "account": company}
        for record, companies in links.items()
        for company in companies
    )
    existing = [stored.ids[record] for record in links if record not in stored.new]
    cursor = await connection.execute(
        f"""
        WITH wanted AS MATERIALIZED (
            SELECT DISTINCT p.id, p.account
            FROM jsonb_to_recordset(%(wanted)s::jsonb) AS p(id bigint, account text)
        ),
        gone AS (
            DELETE FROM {table} l
            WHERE l.{owner} = ANY(%(existing)b::bigint[])
              AND NOT EXISTS (
                  SELECT FROM wanted w WHERE w.id = l.{owner} AND w.account = l.account_external_id
              )
            RETURNING l.{owner}, l.account_external_id
        ),
        added AS (
            INSERT INTO {table} ({owner}, account_external_id, connection_id)
            SELECT id, account, %(connection_id)b FROM wanted
            ON CONFLICT DO NOTHING
            RETURNING {owner}, account_external_id
        )
        SELECT {owner}, account_external_id FROM gone
        UNION ALL
        SELECT {owner}, account_external_id FROM added
        WHERE {owner} = ANY(%(existing)b::bigint[])
        """,
        {
            "wanted": wanted,
            "existing": existing,
            "connection_id": connection_id,
        },
    )
    # A changed record's companies before and after: those it lists now, and those it lost.
    # An unchanged record's: those it gained or lost (each comes back from the statement).
    touched = {company for record in stored.changed & links.keys() for company in links[record]}
    touched.update(company for _, company in await cursor.fetchall())
    return touched


async def archive_linked(
    connection: psycopg.AsyncConnection[Any],
    *,
    table: str,
    owner: str,
    owners: str,
    connection_id: uuid.UUID,
    external_ids: Sequence[str],
) -> set[str]:
    """Mark records the CRM deleted (by CRM id) archived; returns the CRM ids of the companies
    they were linked to (to be rescored: an archived record counts no more). ``table``,
    ``owner`` and ``owners`` are identifiers of our own schema, never input."""
    if not external_ids:
        return set()
    cursor = await connection.execute(
        f"""
        WITH gone AS (
            UPDATE {owners} SET archived = true, updated_at = now()
            WHERE connection_id = %b AND external_id = ANY(%b) AND NOT archived
            RETURNING id
        )
        SELECT DISTINCT l.account_external_id FROM {table} l JOIN gone ON gone.id = l.{owner}
        """,
        (connection_id, list(external_ids)),
    )
    return {row[0] for row in await cursor.fetchall()}
