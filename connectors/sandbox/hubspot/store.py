"""The in-memory CRM: objects of each type as dicts of string properties, in id order, and the
links between them.

Ids only grow, so the live and archived id lists stay sorted by appending; list paging is a
bisect, never a scan. Search scans (HubSpot's search is a separate index anyway) but stays tight.
A record keeps the earlier values of a property only once that property has changed
(``history``), so memory stays bounded by the changes made, not by the properties held.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

from connectors.sandbox.hubspot.objects import OBJECT_TYPES
from connectors.sandbox.hubspot.properties import PropertyCatalog

__all__ = [
    "SINGULAR",
    "CrmObject",
    "ObjectStore",
    "PropertyChange",
    "Sandbox",
    "SeededHistory",
    "Version",
]

SINGULAR: Final = {t.name: t.singular for t in OBJECT_TYPES.values()}
SEEDED_SOURCE: Final = "CRM_UI"  # seeded values read as a rep's edits

# One value a property had: (value, timestamp, sourceType, sourceId), as propertiesWithHistory;
# the timestamp is HubSpot's ISO string, or epoch milliseconds for seeded versions.
Version = tuple[str | None, str | int, str, str | None]


class SeededHistory:
    """The values one property of a seeded record went through, at even steps between two
    moments: a few ints and a path shared by every record that went the same way, instead of
    a list of versions per record (seeding writes hundreds of thousands)."""

    __slots__ = ("end_ms", "name", "start_ms", "values")

    def __init__(self, name: str, values: tuple[str, ...], start_ms: int, end_ms: int) -> None:
        self.name = name
        self.values = values
        self.start_ms = start_ms
        self.end_ms = max(start_ms, end_ms)

    def versions(self) -> list[Version]:
        """The versions, oldest first."""
        steps = max(1, len(self.values) - 1)
        start, span = self.start_ms, self.end_ms - self.start_ms
        return [
            (value, start + span * n // steps, SEEDED_SOURCE, None)
            for n, value in enumerate(self.values)
        ]


class CrmObject:
    """One record: its id, string properties, timestamps, associations and changed values."""

    __slots__ = (
        "archived",
        "archived_at",
        "associations",
        "created_at",
        "history",
        "id",
        "properties",
        "updated_at",
    )

    def __init__(
        self, object_id: int, properties: dict[str, str], created_at: str, updated_at: str
    ) -> None:
        self.id = object_id
        self.properties = properties
        self.created_at = created_at
        self.updated_at = updated_at
        self.archived = False
        self.archived_at: str | None = None
        # Linked record ids per object type (plural name).
        self.associations: dict[str, list[int]] = {}
        # Every version of the properties that changed, oldest first; None until one did.
        self.history: dict[str, list[Version]] | SeededHistory | None = None

    def versions(self, name: str) -> list[Version] | None:
        """The versions of ``name``, oldest first, if it ever changed."""
        history = self.history
        if history is None:
            return None
        if isinstance(history, SeededHistory):
            return history.versions() if history.name == name else None
        return history.get(name)

    def record_change(
        self, name: str, old: str | None, new: str | None, at: str, source: tuple[str, str | None]
    ) -> None:
        """Remember that ``name`` went from ``old`` to ``new``: its first change also keeps the
        value it had since the record was created."""
        history = self.history
        if history is None:
            history = self.history = {}
        elif isinstance(history, SeededHistory):
            history = self.history = {history.name: history.versions()}
        versions = history.get(name)
        if versions is None:
            versions = history[name] = []
            if old is not None:
                versions.append((old, self.created_at, SEEDED_SOURCE, None))
        versions.append((new, at, *source))


@dataclass(frozen=True)
class PropertyChange:
    """A value that changed on a record: what webhooks report."""

    object_id: int
    name: str
    value: str | None


@dataclass
class ObjectStore:
    """Every record of one object type."""

    object_type: str
    catalog: PropertyCatalog
    records: dict[int, CrmObject] = field(default_factory=dict)
    live_ids: list[int] = field(default_factory=list)
    archived_ids: list[int] = field(default_factory=list)
    next_id: int = 0

    def __post_init__(self) -> None:
        kind = OBJECT_TYPES[self.object_type]
        self.next_id = kind.first_id
        self.created_property = kind.created_property
        self.modified_property = kind.modified_property

    def clear(self) -> None:
        """Forget every record and custom property; ids start again from the first one."""
        self.records.clear()
        self.live_ids.clear()
        self.archived_ids.clear()
        self.next_id = OBJECT_TYPES[self.object_type].first_id
        self.catalog = PropertyCatalog(self.object_type)

    def get(self, object_id: int | str, *, archived: bool = False) -> CrmObject | None:
        """The record, if it exists and its archived state is the one asked for."""
        try:
            record = self.records.get(int(object_id))
        except (TypeError, ValueError):
            return None
        if record is None or record.archived != archived:
            return None
        return record

    def find_by(
        self, name: str, values: set[str], *, archived: bool = False
    ) -> dict[str, CrmObject]:
        """The records whose ``name`` property holds one of ``values``, by value (first wins)."""
        if name == "hs_object_id":
            found = (self.get(v, archived=archived) for v in values)
            return {str(r.id): r for r in found if r is not None}
        ids, records, hits = (
            self.archived_ids if archived else self.live_ids,
            self.records,
            {},
        )
        for object_id in ids:
            value = records[object_id].properties.get(name)
            if value in values and value not in hits:
                hits[value] = records[object_id]
        return hits

    def add(
        self, properties: dict[str, str], *, now: str, created_at: str | None = None
    ) -> CrmObject:
        """Store a new record with the next id."""
        object_id = self.next_id
        self.next_id += 1
        created = properties.get(self.created_property) or created_at or now
        properties["hs_object_id"] = str(object_id)
        properties[self.created_property] = created
        properties[self.modified_property] = now
        record = CrmObject(object_id, properties, created, now)
        self.records[object_id] = record
        self.live_ids.append(object_id)
        return record

    def update(
        self,
        record: CrmObject,
        values: dict[str, str | None],
        *,
        now: str,
        source: tuple[str, str | None] = ("CRM_UI", None),
    ) -> list[PropertyChange]:
        """Apply normalised values; bump the modification date only if something changed."""
        properties = record.properties
        changes = []
        for name, value in values.items():
            old = properties.get(name)
            if old == value:
                continue
            if value is None:
                properties.pop(name, None)
            else:
                properties[name] = value
            record.record_change(name, old, value, now, source)
            changes.append(PropertyChange(record.id, name, value))
        if changes:
            properties[self.modified_property] = now
            record.updated_at = now
        return changes

    def archive(self, record: CrmObject, *, now: str) -> None:
        """Move a record to the archive (HubSpot's recycle bin)."""
        if record.archived:
            return
        record.archived = True
        record.archived_at = now
        record.updated_at = now
        del self.live_ids[bisect.bisect_left(self.live_ids, record.id)]
        bisect.insort(self.archived_ids, record.id)

    def page(
        self, after: int, limit: int, *, archived: bool = False
    ) -> tuple[list[CrmObject], int | None]:
        """Records with id ≥ ``after``, at most ``limit``, and the cursor of the next page."""
        ids = self.archived_ids if archived else self.live_ids
        start = bisect.bisect_left(ids, after)
        chunk = ids[start : start + limit + 1]
        records = self.records
        page = [records[i] for i in chunk[:limit]]
        next_after = chunk[limit] if len(chunk) > limit else None
        return page, next_after

    def live(self) -> Iterator[CrmObject]:
        """Every live record, in id order."""
        records = self.records
        return (records[i] for i in self.live_ids)


class Sandbox:
    """The whole fake portal: a store per standard object type and the links between records."""

    def __init__(self) -> None:
        self.stores: dict[str, ObjectStore] = {
            name: ObjectStore(name, PropertyCatalog(name)) for name in OBJECT_TYPES
        }

    @property
    def companies(self) -> ObjectStore:
        """The companies."""
        return self.stores["companies"]

    @property
    def contacts(self) -> ObjectStore:
        """The contacts."""
        return self.stores["contacts"]

    @property
    def deals(self) -> ObjectStore:
        """The deals."""
        return self.stores["deals"]

    def clear(self) -> None:
        """A pristine portal: no records, default properties only."""
        for store in self.stores.values():
            store.clear()

    def associate(self, source: str, source_id: int, target: str, target_id: int) -> bool:
        """Link two live records both ways (a no-op if linked); False if either is missing."""
        one = self.stores[source].get(source_id)
        other = self.stores[target].get(target_id)
        if one is None or other is None:
            return False
        linked = one.associations.setdefault(target, [])
        if target_id not in linked:
            linked.append(target_id)
            other.associations.setdefault(source, []).append(source_id)
        return True

    def move_links(self, object_type: str, old: CrmObject, new: CrmObject) -> None:
        """Give ``new`` every link ``old`` had (a merge), and drop ``old``'s."""
        for other_type, ids in old.associations.items():
            for other_id in ids:
                other = self.stores[other_type].records.get(other_id)
                if other is not None:
                    back = other.associations.get(object_type, [])
                    if old.id in back:
                        back.remove(old.id)
                if other_id != new.id:
                    self.associate(object_type, new.id, other_type, other_id)
        old.associations = {}
