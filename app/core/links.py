"""Links from synced deals and contacts to their companies, by the company's CRM id.

Deals and contacts keep their companies in a link table each (``deal_accounts``,
``contact_accounts``); a record read from the CRM brings its whole set of companies, which
replaces the stored one.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg


async def replace_links(
    connection: psycopg.AsyncConnection[Any],
    *,
    table: str,
    owner: str,
    owners: str,
    connection_id: uuid.UUID,
    links: Mapping[str, Sequence[str]],
) -> dict[str, tuple[set[str], set[str]]]:
    """Replace the company links of each record (by CRM id) in ``links``; returns, per record,
    the companies it was linked to before and after. ``table``, ``owner`` and ``owners`` are
    identifiers of our own schema, never input."""
    external_ids = list(links)
    cursor = await connection.execute(
        f"""
        WITH gone AS (
            DELETE FROM {table} l USING {owners} o
            WHERE l.{owner} = o.id AND o.connection_id = %b AND o.external_id = ANY(%b)
            RETURNING o.external_id, l.account_external_id
        )
        SELECT external_id, array_agg(account_external_id) FROM gone GROUP BY external_id
        """,
        (connection_id, external_ids),
    )
    before = {row[0]: set(row[1]) for row in await cursor.fetchall()}
    pairs = [(record, account) for record, accounts in links.items() for account in accounts]
    await connection.execute(
        f"""
        INSERT INTO {table} ({owner}, account_external_id, connection_id)
        SELECT o.id, p.account, %b
        FROM unnest(%b::text[], %b::text[]) AS p(record, account)
        JOIN {owners} o ON o.connection_id = %b AND o.external_id = p.record
        ON CONFLICT DO NOTHING
        """,
        (
            connection_id,
            [record for record, _ in pairs],
            [account for _, account in pairs],
            connection_id,
        ),
    )
    return {
        record: (before.get(record, set()), set(accounts)) for record, accounts in links.items()
    }


def changed_links(links: Mapping[str, tuple[set[str], set[str]]], changed: set[str]) -> set[str]:
    """The companies to rescore: all of a changed record's companies, before and after, and
    for an unchanged record those it gained or lost."""
    touched: set[str] = set()
    for record, (before, after) in links.items():
        touched |= (before | after) if record in changed else (before ^ after)
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
