"""HubSpot's default (HUBSPOT_DEFINED) association types between the standard objects, as data.

Each direction has its own type ids: the unlabeled one every link has, and for links to a
company the "primary" one (a record's primary company, and its inverse). The sandbox's links
between companies and contacts or deals are primary ones (seeded records have one company);
deals and contacts link unlabeled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from connectors.sandbox.hubspot.objects import OBJECT_TYPES

__all__ = [
    "ASSOCIATION_TYPES",
    "AssociationType",
    "association_types",
    "inline_type_names",
    "target_of",
]

CATEGORY: Final = "HUBSPOT_DEFINED"


@dataclass(frozen=True, slots=True)
class AssociationType:
    """One association type: its id, v3 name and v4 label (None when unlabeled)."""

    type_id: int
    name: str
    label: str | None

    def as_v4(self) -> dict[str, Any]:
        """``{"category", "typeId", "label"}`` as v4 associations send it (an unlabeled type has
        no ``label``: the published schema has it a string, never null)."""
        spec: dict[str, Any] = {"category": CATEGORY, "typeId": self.type_id}
        if self.label is not None:
            spec["label"] = self.label
        return spec


def _pair(
    source: str, target: str, unlabeled: int, primary: int | None = None, label: str = ""
) -> tuple[tuple[str, str], tuple[AssociationType, ...]]:
    a, b = OBJECT_TYPES[source].singular, OBJECT_TYPES[target].singular
    types = [
        AssociationType(
            unlabeled, f"{a}_to_{b}" if primary is None else f"{a}_to_{b}_unlabeled", None
        )
    ]
    if primary is not None:
        # The primary type comes first, as HubSpot lists it.
        types.insert(0, AssociationType(primary, f"{a}_to_{b}", label or "Primary"))
    return (source, target), tuple(types)


# (from, to) → the types a default link between them carries, primary first.
ASSOCIATION_TYPES: Final[dict[tuple[str, str], tuple[AssociationType, ...]]] = dict(
    (
        _pair("contacts", "companies", 279, 1, "Contact with Primary Company"),
        _pair("companies", "contacts", 280, 2, "Contact with Primary Company"),
        _pair("deals", "contacts", 3),
        _pair("contacts", "deals", 4),
        _pair("deals", "companies", 341, 5, "Deal with Primary Company"),
        _pair("companies", "deals", 342, 6, "Deal with Primary Company"),
        _pair("tickets", "contacts", 16),
        _pair("contacts", "tickets", 15),
        _pair("tickets", "companies", 339, 26, "Ticket with Primary Company"),
        _pair("companies", "tickets", 340, 25, "Ticket with Primary Company"),
        _pair("deals", "tickets", 27),
        _pair("tickets", "deals", 28),
        _pair("deals", "line_items", 19),
        _pair("line_items", "deals", 20),
        _pair("companies", "companies", 450),
        _pair("contacts", "contacts", 449),
        _pair("deals", "deals", 451),
    )
)


def association_types(source: str, target: str) -> tuple[AssociationType, ...]:
    """The default types of a link from ``source`` to ``target`` (empty: not associable)."""
    return ASSOCIATION_TYPES.get((source, target), ())


def target_of(source: str, type_id: int) -> str | None:
    """The object type a link of type ``type_id`` from ``source`` leads to."""
    for (one, other), types in ASSOCIATION_TYPES.items():
        if one == source and any(t.type_id == type_id for t in types):
            return other
    return None


def inline_type_names(source: str, target: str) -> tuple[str, ...]:
    """The v3 ``type`` names one link is listed under in a record's ``associations`` block."""
    return tuple(t.name for t in association_types(source, target))
