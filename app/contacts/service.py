"""Storing synced contacts, and listing them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.contacts.repository import ContactFilters, ContactRepository
from app.contacts.schemas import ContactOut
from app.core.cursors import decode_cursor, encode_cursor
from app.core.errors import ValidationFailed, problem
from app.icps.repository import IcpRepository
from app.icps.service import compiled_icp
from app.scoring.personas import ContactView, PersonaMatcher
from connectors.base import ContactRecord


async def store_contacts(
    session: AsyncSession, *, connection_id: uuid.UUID, contacts: Sequence[ContactRecord]
) -> set[str]:
    """Upsert contacts (classified) with their company links; returns the CRM ids of the companies
    whose people changed (to be rescored)."""
    return await ContactRepository(session).upsert(connection_id, contacts)


async def list_contacts(
    session: AsyncSession,
    *,
    account_id: int | None,
    connection_id: uuid.UUID | None,
    persona: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[ContactOut], str | None]:
    """One page of live contacts by id (those matching ``persona`` of the active ICP, when
    given), each with the personas it matches, and the cursor of the next page."""
    version = await IcpRepository(session).get_active()
    personas = compiled_icp(version).definition.personas if version else []
    wanted = None
    if persona is not None:
        wanted = next((p for p in personas if p.id == persona), None)
        if wanted is None:
            known = ", ".join(p.id for p in personas) or "none: the active ICP defines no personas"
            raise ValidationFailed([problem("persona", f"unknown persona {persona!r} ({known})")])
    after_id = decode_cursor(cursor, "contacts", types=(int,))[0] if cursor else 0
    rows = await ContactRepository(session).page(
        ContactFilters(account_id=account_id, connection_id=connection_id, persona=wanted),
        after_id=after_id,
        limit=limit + 1,
    )
    matcher = PersonaMatcher(personas)
    items = [
        ContactOut(
            **{name: getattr(contact, name) for name in _CONTACT_COLUMNS},
            account_external_ids=companies,
            personas=matcher.matching(
                ContactView(contact.title, contact.seniority, contact.function)
            ),
        )
        for contact, companies in rows[:limit]
    ]
    next_cursor = encode_cursor("contacts", items[-1].id) if len(rows) > limit else None
    return items, next_cursor


_CONTACT_COLUMNS = tuple(
    name for name in ContactOut.model_fields if name not in ("account_external_ids", "personas")
)
