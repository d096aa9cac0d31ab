"""Every SQL statement about contacts and their companies."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import BigInteger, ColumnElement, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import driver_connection, json_rows
from app.core.links import (
    StoredRecords,
    archive_linked,
    replace_links,
    upsert_returning,
)
from app.models import Account, Connection, Contact, ContactAccount
from app.scoring.definition import PERSONA_PREFIX, Persona
from app.scoring.titles import classify_contact
from connectors.base import ContactRecord


@dataclass(frozen=True, slots=True)
class ContactFilters:
    """What a contacts list is narrowed to."""

    account_id: int | None = None
    connection_id: uuid.UUID | None = None
    persona: Persona | None = None


def persona_condition(persona: Persona) -> ColumnElement[bool]:
    """The persona as SQL: the same rule as ``PersonaMatcher`` (seniority, function, title
    keywords as whole words, case-insensitive), so lists agree with scoring."""
    condition: ColumnElement[bool] = true()
    if persona.seniority:
        condition &= Contact.seniority.in_(persona.seniority)
    if persona.functions:
        condition &= Contact.function.in_(persona.functions)
    if persona.title_keywords:
        words = [
            r"\W+".join(re.escape(word) for word in re.split(r"\W+", keyword) if word)
            for keyword in persona.title_keywords
        ]
        # PostgreSQL's \m and \M: the start and end of a word.
        condition &= Contact.title.regexp_match(rf"\m({'|'.join(words)})\M", flags="i")
    return condition


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
            upsert_returning(
                """
                INSERT INTO contacts AS c (connection_id, external_id, name, email_domain,
                                           title, department, buying_role, seniority,
                                           function, crm_updated_at, archived)
                SELECT %(connection_id)b, *
                FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
                    external_id text, name text, email_domain text, title text,
                    department text, buying_role text, seniority text, function text,
                    crm_updated_at timestamptz, archived boolean)
                ON CONFLICT (connection_id, external_id) DO UPDATE SET
                    name = EXCLUDED.name, email_domain = EXCLUDED.email_domain,
                    title = EXCLUDED.title, department = EXCLUDED.department,
                    buying_role = EXCLUDED.buying_role, seniority = EXCLUDED.seniority,
                    function = EXCLUDED.function, crm_updated_at = EXCLUDED.crm_updated_at,
                    archived = EXCLUDED.archived, updated_at = now()
                WHERE (c.name, c.email_domain, c.title, c.department, c.buying_role,
                       c.seniority, c.function, c.archived)
                      IS DISTINCT FROM
                      (EXCLUDED.name, EXCLUDED.email_domain, EXCLUDED.title,
                       EXCLUDED.department, EXCLUDED.buying_role, EXCLUDED.seniority,
                       EXCLUDED.function, EXCLUDED.archived)
                RETURNING c.id, c.external_id, c.xmax = 0 AS inserted
                """,
                owners="contacts",
            ),
            {
                "connection_id": connection_id,
                "external_ids": [c.external_id for c in rows],
                "rows": json_rows(
                    {
                        "external_id": c.external_id,
                        "name": c.name,
                        "email_domain": c.email_domain,
                        "title": c.title,
                        "department": c.department,
                        "buying_role": c.buying_role,
                        "seniority": k.seniority,
                        "function": k.function,
                        "crm_updated_at": c.crm_updated_at,
                        "archived": c.archived,
                    }
                    for c, k in zip(rows, classes, strict=True)
                ),
            },
        )
        stored = StoredRecords.from_rows(await cursor.fetchall())  # type: ignore[arg-type]
        return await replace_links(
            connection,
            table="contact_accounts",
            owner="contact_id",
            connection_id=connection_id,
            stored=stored,
            links={c.external_id: c.account_external_ids for c in rows},
        )

    async def persona_counts(
        self, account_ids: Sequence[int], personas: Sequence[Persona]
    ) -> dict[int, dict[str, int]]:
        """Per account, ``{"contacts": n, "personas.<id>": matching, ...}``, counted in the
        database (the rule of ``persona_condition``, so lists and scores agree): a rescore of
        a million accounts sends one row per account, not one per contact. Accounts of a
        connection whose contacts were never synced are left out (unknown, not zero)."""
        ids = sa.func.unnest(sa.bindparam("ids", list(account_ids), type_=ARRAY(BigInteger)))
        wanted = ids.table_valued("id").render_derived()
        live = Contact.id.isnot(None)
        query = (
            select(
                Account.id,
                func.count(Contact.id),
                *(func.count(Contact.id).filter(live & persona_condition(p)) for p in personas),
            )
            .select_from(wanted)
            .join(Account, Account.id == wanted.c.id)
            .join(
                Connection,
                (Connection.id == Account.connection_id)
                & Connection.contacts_synced_at.isnot(None),
            )
            .outerjoin(
                ContactAccount,
                (ContactAccount.connection_id == Account.connection_id)
                & (ContactAccount.account_external_id == Account.external_id),
            )
            .outerjoin(
                Contact, (Contact.id == ContactAccount.contact_id) & Contact.archived.is_(False)
            )
            .group_by(Account.id)
        )
        fields = ["contacts", *(PERSONA_PREFIX + p.id for p in personas)]
        return {
            row[0]: dict(zip(fields, row[1:], strict=True))
            for row in (await self.session.execute(query)).all()
        }

    async def of_accounts(
        self, account_ids: Sequence[int]
    ) -> dict[int, list[tuple[str | None, str | None, str]]]:
        """Per account, its live contacts as (title, seniority, function); accounts of a
        connection whose contacts were never synced are left out (unknown, not none)."""
        connection = await driver_connection(self.session)
        cursor = await connection.execute(
            """
            SELECT a.id, ct.title, ct.seniority, ct.function
            FROM unnest(%b::bigint[]) AS t(id)
            JOIN accounts a ON a.id = t.id
            JOIN connections c ON c.id = a.connection_id AND c.contacts_synced_at IS NOT NULL
            LEFT JOIN contact_accounts ca ON ca.connection_id = a.connection_id
                                         AND ca.account_external_id = a.external_id
            LEFT JOIN contacts ct ON ct.id = ca.contact_id AND NOT ct.archived
            """,
            (list(account_ids),),
        )
        people: dict[int, list[tuple[str | None, str | None, str]]] = {}
        rows: list[tuple[int, str | None, str | None, str | None]] = await cursor.fetchall()  # type: ignore[assignment]
        for account_id, title, seniority, function in rows:
            found = people.setdefault(account_id, [])
            if function is not None:  # an account without contacts still gets its empty list
                found.append((title, seniority, function))
        return people

    async def archive(self, connection_id: uuid.UUID, external_ids: Sequence[str]) -> set[str]:
        """Mark contacts the CRM deleted as archived; returns the CRM ids of the companies they
        were linked to (to be rescored)."""
        return await archive_linked(
            await driver_connection(self.session),
            table="contact_accounts",
            owner="contact_id",
            owners="contacts",
            connection_id=connection_id,
            external_ids=external_ids,
        )

    async def count_matching(self, connection_id: uuid.UUID, persona: Persona) -> int:
        """How many of a connection's live contacts match ``persona``."""
        count = await self.session.scalar(
            select(func.count())
            .select_from(Contact)
            .where(
                Contact.connection_id == connection_id,
                Contact.archived.is_(False),
                persona_condition(persona),
            )
        )
        return int(count or 0)

    async def page(
        self, filters: ContactFilters, *, after_id: int, limit: int
    ) -> Sequence[tuple[Contact, list[str]]]:
        """Live contacts by id after ``after_id``, each with its companies' CRM ids."""
        query = select(Contact).where(Contact.id > after_id, Contact.archived.is_(False))
        if filters.connection_id is not None:
            query = query.where(Contact.connection_id == filters.connection_id)
        if filters.persona is not None:
            query = query.where(persona_condition(filters.persona))
        if filters.account_id is not None:
            query = query.where(
                select(ContactAccount.contact_id)
                .join(
                    Account,
                    (Account.connection_id == ContactAccount.connection_id)
                    & (Account.external_id == ContactAccount.account_external_id),
                )
                .where(ContactAccount.contact_id == Contact.id, Account.id == filters.account_id)
                .exists()
            )
        contacts = (await self.session.scalars(query.order_by(Contact.id).limit(limit))).all()
        links = await self.session.execute(
            select(ContactAccount.contact_id, ContactAccount.account_external_id).where(
                ContactAccount.contact_id.in_([c.id for c in contacts])
            )
        )
        companies: dict[int, list[str]] = {}
        for contact_id, external_id in links.all():
            companies.setdefault(contact_id, []).append(external_id)
        return [(contact, sorted(companies.get(contact.id, []))) for contact in contacts]
