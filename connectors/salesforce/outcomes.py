"""Salesforce Opportunities and Contacts ⇄ deals and contacts (DESIGN §8).

Tables again: which fields each SELECT asks for, and how a SOQL row becomes a
:class:`~connectors.base.DealRecord` or :class:`~connectors.base.ContactRecord`.

- Won and lost come from ``IsClosed``/``IsWon``, which Salesforce derives from the stage's own
  metadata (``OpportunityStage``), never from stage names: renamed and custom stages work.
- ``CloseDate`` is a date; it becomes ``closed_at`` (midnight UTC) only for closed deals, as an
  open deal's close date is a forecast.
- People on a deal and their roles come from the ``OpportunityContactRoles`` child subquery of
  the same query: no extra call. A contact's buying role is its ``OpportunityContactRole.Role``
  where it is the primary contact, else its most recently created role (``ORDER BY IsPrimary
  DESC, CreatedDate DESC LIMIT 1``): a contact-level answer to a per-deal fact.
- Saving a contact role is not a save of its Opportunity or Contact (their SystemModstamp
  stays), so an incremental read sees a role change only once the record itself changes; every
  full read (and every read by id) has the roles as they are.
- Only standard fields are read, so no describe comes first (it would cost a call per object
  and sync). Should Salesforce refuse one (a field hidden by field-level security, roles the
  user cannot read), the object is described once and the fields it lacks are left out of the
  SELECT and read as empty, as for Accounts.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any, Final

from connectors import normalize
from connectors.base import ContactRecord, DealRecord, domain_of, text_value
from connectors.salesforce.mapping import (
    DELETED_FIELD,
    ID_FIELD,
    MODIFIED_FIELD,
    FieldDefinitions,
    parse_salesforce_datetime,
)

__all__ = [
    "CONTACT_OBJECT",
    "OPPORTUNITY_OBJECT",
    "ROLES_RELATIONSHIP",
    "contact_columns",
    "opportunity_columns",
    "to_contact",
    "to_deal",
]

log = logging.getLogger(__name__)

OPPORTUNITY_OBJECT: Final = "Opportunity"
CONTACT_OBJECT: Final = "Contact"
# The child relationship of both Opportunity and Contact onto OpportunityContactRole.
ROLES_RELATIONSHIP: Final = "OpportunityContactRoles"
_ENVELOPE: Final = (ID_FIELD, DELETED_FIELD, MODIFIED_FIELD)
_OPPORTUNITY_FIELDS: Final = (
    "AccountId",
    "Name",
    "StageName",
    "IsClosed",
    "IsWon",
    "Amount",
    "CreatedDate",
    "CloseDate",
)
_CONTACT_FIELDS: Final = (
    "AccountId",
    "FirstName",
    "LastName",
    "Name",
    "Email",
    "Title",
    "Department",
)
# queryAll returns deleted children too: a deleted role is no role.
_DEAL_ROLES: Final = (
    f"(SELECT ContactId, Role FROM {ROLES_RELATIONSHIP} WHERE IsDeleted = false ORDER BY Id)"
)
_CONTACT_ROLE: Final = (
    f"(SELECT Role FROM {ROLES_RELATIONSHIP} WHERE IsDeleted = false AND Role != null "
    "ORDER BY IsPrimary DESC, CreatedDate DESC LIMIT 1)"
)


def _columns(
    names: tuple[str, ...], definitions: FieldDefinitions | None, subquery: str
) -> list[str]:
    if definitions is None:  # unchecked: every standard field, and the roles
        return [*_ENVELOPE, *names, subquery]
    present = [name for name in names if name in definitions]
    absent = [name for name in names if name not in definitions]
    if absent:
        log.warning("Salesforce lacks the fields %s: they read as empty", absent)
    columns = [*_ENVELOPE, *present]
    if ROLES_RELATIONSHIP in definitions.relationships:
        columns.append(subquery)
    return columns


def opportunity_columns(definitions: FieldDefinitions | None) -> list[str]:
    """The Opportunity SELECT list: the fields the org has, and the contact roles when the
    user can read them (all of them, unchecked, without definitions)."""
    return _columns(_OPPORTUNITY_FIELDS, definitions, _DEAL_ROLES)


def contact_columns(definitions: FieldDefinitions | None) -> list[str]:
    """The Contact SELECT list: the fields the org has, and the contact's buying role when the
    user can read contact roles (all of them, unchecked, without definitions)."""
    return _columns(_CONTACT_FIELDS, definitions, _CONTACT_ROLE)


def _children(row: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The rows of the roles subquery (null when there are none)."""
    result = row.get(ROLES_RELATIONSHIP)
    if not isinstance(result, Mapping):
        return []
    return [child for child in result.get("records") or () if isinstance(child, Mapping)]


def _when(record_id: str, name: str, value: Any) -> datetime | None:
    try:
        return parse_salesforce_datetime(value)
    except ValueError:
        log.debug("Salesforce %s: %s=%r is not a dateTime", record_id, name, value)
        return None


def _day(record_id: str, value: Any) -> datetime | None:
    """A date field (``2024-03-31``) as midnight UTC."""
    if value in (None, ""):
        return None
    try:
        return datetime.combine(date.fromisoformat(str(value)[:10]), time(), tzinfo=UTC)
    except ValueError:
        log.debug("Salesforce %s: CloseDate=%r is not a date", record_id, value)
        return None


def _flag(value: Any) -> bool:
    try:
        return bool(normalize.to_bool(value))
    except ValueError:
        return False


def _accounts(row: Mapping[str, Any]) -> list[str]:
    account_id = text_value(row.get("AccountId"))
    return [account_id] if account_id else []


def _common(row: Mapping[str, Any]) -> tuple[str, datetime | None, bool]:
    record_id = str(row[ID_FIELD])
    return (
        record_id,
        _when(record_id, MODIFIED_FIELD, row.get(MODIFIED_FIELD)),
        _flag(row.get(DELETED_FIELD)),
    )


def to_deal(row: Mapping[str, Any]) -> DealRecord:
    """One Opportunity (a SOQL row, its contact roles subquery included) as a deal."""
    row = normalize.without_nul(dict(row))
    record_id, updated, archived = _common(row)
    is_closed = _flag(row.get("IsClosed"))
    try:
        amount = normalize.to_float(row.get("Amount"))
    except ValueError:
        amount = None
    roles: dict[str, str | None] = {}
    for child in _children(row):
        contact_id = text_value(child.get("ContactId"))
        if contact_id:
            roles[contact_id] = text_value(child.get("Role"))
    return DealRecord(
        external_id=record_id,
        account_external_ids=_accounts(row),
        name=text_value(row.get("Name")),
        stage=text_value(row.get("StageName")),
        is_closed=is_closed,
        is_won=is_closed and _flag(row.get("IsWon")),
        amount=amount,
        created_at=_when(record_id, "CreatedDate", row.get("CreatedDate")),
        closed_at=_day(record_id, row.get("CloseDate")) if is_closed else None,
        crm_updated_at=updated,
        archived=archived,
        contact_roles=roles,
    )


def to_contact(row: Mapping[str, Any]) -> ContactRecord:
    """One Contact (a SOQL row, its buying role subquery included) as a contact."""
    row = normalize.without_nul(dict(row))
    record_id, updated, archived = _common(row)
    name = text_value(row.get("Name")) or text_value(
        " ".join(str(row.get(part) or "") for part in ("FirstName", "LastName"))
    )
    email = text_value(row.get("Email"))
    roles = _children(row)
    return ContactRecord(
        external_id=record_id,
        account_external_ids=_accounts(row),
        name=name,
        email_domain=domain_of(email.rpartition("@")[2]) if email and "@" in email else None,
        title=text_value(row.get("Title")),
        department=text_value(row.get("Department")),
        buying_role=text_value(roles[0].get("Role")) if roles else None,
        crm_updated_at=updated,
        archived=archived,
    )
