"""Every SQL statement about contacts and their companies."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import driver_connection
from app.core.links import changed_links, replace_links
from app.scoring.titles import classify_contact
from connectors.base import ContactRecord


class ContactRepository:
    """Upserts contacts, classified, with their company links; reads them for the API."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(self, connection_id: uuid.UUID, contacts: Sequence[ContactRecord]) -> set[str]:
        """Store contacts by (connection, CRM id), each with the seniority and function its
        title and buying role say, and their company links. Returns the CRM ids of the
        companies whose people changed (as ``DealRepository.upsert`` does for deals)."""
        latest = {contact.external_id: contact for contact in contacts}
        if not latest:
            return set()
        rows = list(latest.values())
        classes = [classify_contact(c.title, c.buying_role) for c in rows]
        connection = await driver_connection(self.session)
        cursor = await connection.execute(
            """
            INSERT INTO contacts AS c (connection_id, external_id, name, email_domain, title,
                                       department, buying_role, seniority, function,
                                       crm_updated_at, archived)
            SELECT %b, * FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[],
                                     %b::text[], %b::text[], %b::text[], %b::text[],
                                     %b::timestamptz[], %b::boolean[])
            ON CONFLICT (connection_id, external_id) DO UPDATE SET
                name = EXCLUDED.name, email_domain = EXCLUDED.email_domain,
                title = EXCLUDED.title, department = EXCLUDED.department,
                buying_role = EXCLUDED.buying_role, seniority = EXCLUDED.seniority,
                function = EXCLUDED.function, crm_updated_at = EXCLUDED.crm_updated_at,
                archived = EXCLUDED.archived, updated_at = now()
            WHERE (c.name, c.email_domain, c.title, c.department, c.buying_role, c.seniority,
                   c.function, c.archived)
                  IS DISTINCT FROM
                  (EXCLUDED.name, EXCLUDED.email_domain, EXCLUDED.title, EXCLUDED.department,
                   EXCLUDED.buying_role, EXCLUDED.seniority, EXCLUDED.function,
                   EXCLUDED.archived)
            RETURNING external_id
            """,
            (
                connection_id,
                [c.external_id for c in rows],
                [c.name for c in rows],
                [c.email_domain for c in rows],
                [c.title for c in rows],
                [c.department for c in rows],
                [c.buying_role for c in rows],
                [k.seniority for k in classes],
                [k.function for k in classes],
                [c.crm_updated_at for c in rows],
                [c.archived for c in rows],
            ),
        )
        changed = {row[0] for row in await cursor.fetchall()}  # type: ignore[index]
        return changed_links(
            await replace_links(
                connection,
                table="contact_accounts",
                owner="contact_id",
                owners="contacts",
                connection_id=connection_id,
                links={c.external_id: c.account_external_ids for c in rows},
            ),
            changed,
        )
