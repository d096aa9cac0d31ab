"""Storing synced contacts, and rescoring the accounts whose people they change."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.service import rescore_linked_accounts
from app.contacts.repository import ContactRepository
from connectors.base import ContactRecord


async def store_contacts(
    session: AsyncSession, *, connection_id: uuid.UUID, contacts: Sequence[ContactRecord]
) -> int:
    """Upsert contacts (classified) with their company links and rescore the stored accounts
    they change; returns how many accounts were rescored."""
    touched = await ContactRepository(session).upsert(connection_id, contacts)
    return await rescore_linked_accounts(session, connection_id=connection_id, external_ids=touched)
