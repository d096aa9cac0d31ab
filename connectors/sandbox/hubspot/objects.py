"""The standard object types a HubSpot portal has, as data: names, type ids, aliases, id ranges.

Every endpoint that takes an object type accepts its plural name (``companies``), its singular
alias (``company``) and its type id (``0-2``), case-insensitively, as HubSpot does;
:func:`resolve` turns any of them into the plural name the sandbox keys everything by.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["OBJECT_TYPES", "ObjectType", "resolve"]


@dataclass(frozen=True, slots=True)
class ObjectType:
    """One standard CRM object type."""

    name: str  # plural, as in /crm/v3/objects/<name>
    singular: str
    type_id: str
    first_id: int  # ids of each type start in a range of their own, as in a real portal
    created_property: str  # engagements keep hs_createdate, CRM records createdate
    modified_property: str  # contacts keep lastmodifieddate, everything else hs_lastmodifieddate
    query_properties: tuple[str, ...]  # what a search's free-text ``query`` looks in
    unique_properties: tuple[str, ...] = ()  # besides hs_object_id: upsert and idProperty keys


def _engagement(name: str, singular: str, type_id: str, first_id: int, body: str) -> ObjectType:
    return ObjectType(
        name, singular, type_id, first_id, "hs_createdate", "hs_lastmodifieddate", (body,)
    )


OBJECT_TYPES: Final[dict[str, ObjectType]] = {
    t.name: t
    for t in (
        ObjectType(
            "contacts",
            "contact",
            "0-1",
            1_000_000_001,
            "createdate",
            "lastmodifieddate",
            ("firstname", "lastname", "email", "phone", "company"),
            ("email",),
        ),
        ObjectType(
            "companies",
            "company",
            "0-2",
            5_000_000_001,
            "createdate",
            "hs_lastmodifieddate",
            ("name", "domain", "website", "phone"),
            ("domain",),
        ),
        ObjectType(
            "deals",
            "deal",
            "0-3",
            9_000_000_001,
            "createdate",
            "hs_lastmodifieddate",
            ("dealname",),
        ),
        ObjectType(
            "tickets",
            "ticket",
            "0-5",
            2_000_000_001,
            "createdate",
            "hs_lastmodifieddate",
            ("subject",),
        ),
        ObjectType(
            "products",
            "product",
            "0-7",
            3_000_000_001,
            "createdate",
            "hs_lastmodifieddate",
            ("name", "hs_sku"),
        ),
        ObjectType(
            "line_items",
            "line_item",
            "0-8",
            4_000_000_001,
            "createdate",
            "hs_lastmodifieddate",
            ("name",),
        ),
        _engagement("calls", "call", "0-48", 11_000_000_001, "hs_call_title"),
        _engagement("emails", "email", "0-49", 12_000_000_001, "hs_email_subject"),
        _engagement("meetings", "meeting", "0-47", 13_000_000_001, "hs_meeting_title"),
        _engagement("notes", "note", "0-46", 14_000_000_001, "hs_note_body"),
        _engagement("tasks", "task", "0-27", 15_000_000_001, "hs_task_subject"),
        _engagement(
            "communications", "communication", "0-18", 16_000_000_001, "hs_communication_body"
        ),
        _engagement("postal_mail", "postal_mail", "0-116", 17_000_000_001, "hs_postal_mail_body"),
        ObjectType(
            "leads",
            "lead",
            "0-136",
            18_000_000_001,
            "hs_createdate",
            "hs_lastmodifieddate",
            ("hs_lead_name",),
        ),
        ObjectType(
            "quotes",
            "quote",
            "0-14",
            21_000_000_001,
            "hs_createdate",
            "hs_lastmodifieddate",
            ("hs_title",),
        ),
        ObjectType(
            "feedback_submissions",
            "feedback_submission",
            "0-19",
            22_000_000_001,
            "hs_createdate",
            "hs_lastmodifieddate",
            ("hs_content",),
        ),
        ObjectType(
            "goal_targets",
            "goal_target",
            "0-74",
            19_000_000_001,
            "hs_createdate",
            "hs_lastmodifieddate",
            ("hs_goal_name",),
        ),
    )
}

_ALIASES: Final[dict[str, str]] = {
    alias.lower(): t.name
    for t in OBJECT_TYPES.values()
    for alias in (t.name, t.singular, t.type_id)
}


def resolve(name: str) -> str | None:
    """The plural name of the object type ``name`` designates (plural, singular or type id)."""
    return _ALIASES.get(name.lower())
