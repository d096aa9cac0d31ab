"""The in-memory org: one store per object, records as dicts of JSON-typed field values.

Ids grow with creation, so ``order`` (every id ever created, deleted ones included) is sorted and
is also SOQL's default row order. A write is validated record by record before anything is
applied, which is what ``allOrNone`` needs; saved records are announced to listeners (the
outbound messages) after the whole call is applied. Children are indexed by parent (Contacts and
Opportunities by AccountId, contact roles by OpportunityId and ContactId, …) for child
subqueries and cascading deletes, and every change of a tracked Account field writes an
AccountHistory row, as Field History Tracking does.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from connectors.sandbox.salesforce.errors import RecordError, SalesforceError
from connectors.sandbox.salesforce.field_catalog import (
    CHILD_RELATIONSHIPS,
    HISTORY_TRACKED,
    STAGES,
    custom_field_catalog,
)
from connectors.sandbox.salesforce.fields import FieldSpec, format_datetime
from connectors.sandbox.salesforce.ids import USER_ID, IdFactory, to_18
from connectors.sandbox.salesforce.schema import ObjectSchema, Record, build_schema

__all__ = [
    "ObjectStore",
    "Org",
    "SaveListener",
    "SaveResult",
    "derive_opportunity",
    "now_string",
    "rolled_back",
]

SaveListener = Callable[[str, list[str]], None]  # object name, ids saved (created or edited)

ROLLED_BACK: Final = RecordError(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone "
    "header",
)
_STAGE_INFO: Final = {
    stage: (p, closed, won, forecast) for stage, p, closed, won, forecast in STAGES
}
# The type AccountHistory.DataType names for a tracked field's type.
_HISTORY_TYPES: Final = {
    "reference": "EntityId",
    "picklist": "Picklist",
    "currency": "Currency",
    "int": "Number",
    "double": "Number",
    "url": "Url",
    "phone": "Phone",
}


@dataclass(frozen=True)
class SaveResult:
    """The outcome of writing one record: its id, and why it failed if it did."""

    id: str | None
    error: RecordError | None = None

    def as_dict(self) -> dict[str, Any]:
        """Salesforce's SaveResult: ``{"id"?, "success", "errors"}``."""
        body: dict[str, Any] = {}
        if self.id is not None:
            body["id"] = self.id
        body["success"] = self.error is None
        body["errors"] = [] if self.error is None else [self.error.as_dict()]
        return body


@dataclass
class _Pending:
    """A record write that passed validation and waits to be applied."""

    record: dict[str, Any] | None  # None: a creation
    values: dict[str, Any]


class ObjectStore:
    """Every record of one object, deleted ones included."""

    def __init__(self, schema: ObjectSchema) -> None:
        self.schema = schema
        self.ids = IdFactory(schema.key_prefix)
        self.records: dict[str, Record] = {}
        self.order: list[str] = []
        self.deletions: list[tuple[str, str]] = []  # (deletedDate, id), oldest first
        # History rows are never modified: they have a creation stamp only.
        self.stamped = "SystemModstamp" in schema.fields

    @property
    def name(self) -> str:
        """The object's API name."""
        return self.schema.name

    def clear(self) -> None:
        """Forget every record; ids start again from the first one."""
        self.records.clear()
        self.order.clear()
        self.deletions.clear()
        self.ids.reset()

    def get(self, raw_id: str) -> Record | None:
        """The record with this 15- or 18-character id (deleted or not), or None."""
        record_id = to_18(raw_id)
        return None if record_id is None else self.records.get(record_id)

    def add(
        self,
        values: dict[str, Any],
        *,
        now: str,
        created: str | None = None,
        record_id: str | None = None,
    ) -> Record:
        """Store a new record with the next id (or ``record_id``) and the system fields set."""
        record = self.schema.new_record(values)
        record_id = record_id or self.ids.next()
        record["Id"] = record_id
        record["CreatedDate"] = created or now
        if self.stamped:
            record["LastModifiedDate"] = record["SystemModstamp"] = now
        self.records[record_id] = record
        self.order.append(record_id)
        return record

    def live_count(self) -> int:
        """Records not in the recycle bin."""
        return sum(1 for r in self.records.values() if not r["IsDeleted"])


def derive_opportunity(values: dict[str, Any]) -> None:
    """IsClosed, IsWon, the forecast category (and Probability unless given) follow the stage,
    as in the sales process."""
    stage = values.get("StageName")
    if stage is None:
        return
    probability, closed, won, forecast = _STAGE_INFO.get(stage, (None, False, False, "Pipeline"))
    values["IsClosed"], values["IsWon"] = closed, won
    values["ForecastCategory"] = forecast
    values.setdefault("ForecastCategoryName", forecast)
    if "Probability" not in values and probability is not None:
        values["Probability"] = float(probability)


def _full_name(record: dict[str, Any]) -> str:
    return " ".join(part for part in (record["FirstName"], record["LastName"]) if part)


class Org:
    """The whole fake org: its schema, its records, and who hears about saves."""

    def __init__(self, *, writeback_fields: bool = True) -> None:
        self.stores: dict[str, ObjectStore] = {}
        self._stores_lower: dict[str, ObjectStore] = {}
        # (child object, reference field) -> parent id -> child ids, in creation order.
        self.children: dict[tuple[str, str], dict[str, list[str]]] = {
            (child, field): {} for _, _, child, field, _ in CHILD_RELATIONSHIPS
        }
        self._indexed: dict[str, tuple[str, ...]] = {}
        for _, _, child, field, _ in CHILD_RELATIONSHIPS:
            self._indexed[child] = (*self._indexed.get(child, ()), field)
        self.listeners: list[SaveListener] = []
        self.created_at = datetime.now(UTC)
        # While a transaction is open: what to undo (store, id, the record before or None if
        # created), the recycle bins' lengths, and the saves to announce once committed.
        self._journal: list[tuple[ObjectStore, str, dict[str, Any] | None]] | None = None
        self._bins: dict[str, int] = {}
        self._held: list[tuple[str, list[str]]] = []
        self._rebuild(writeback_fields)

    def _rebuild(self, writeback_fields: bool) -> None:
        self.schema = build_schema(writeback_fields=writeback_fields)
        self.stores = {name: ObjectStore(schema) for name, schema in self.schema.items()}
        self._stores_lower = {name.lower(): store for name, store in self.stores.items()}
        for index in self.children.values():
            index.clear()
        self.accounts = self.stores["Account"]
        self.contacts = self.stores["Contact"]
        self.opportunities = self.stores["Opportunity"]
        self.contact_roles = self.stores["OpportunityContactRole"]
        self.users = self.stores["User"]
        self.account_history = self.stores["AccountHistory"]

    def store(self, name: str) -> ObjectStore | None:
        """The store of the object called ``name`` (any letter case), or None."""
        return self._stores_lower.get(name.lower())

    def store_of_id(self, record_id: str | None) -> ObjectStore | None:
        """The store whose key prefix the (18-character) id has, or None."""
        if not record_id:
            return None
        return next(
            (s for s in self.stores.values() if record_id.startswith(s.schema.key_prefix)), None
        )

    def children_of(self, child: str, field: str, parent_id: str) -> list[str]:
        """The ids of ``child`` records whose ``field`` is ``parent_id`` (deleted included)."""
        return self.children[(child, field)].get(parent_id, [])

    # -- seeding -----------------------------------------------------------------------------------

    def clear(self, *, writeback_fields: bool = True, now: datetime | None = None) -> None:
        """Forget every record; rebuild the schema (custom fields removed through the admin come
        back, and the write-back fields exist only with ``writeback_fields``)."""
        self._rebuild(writeback_fields)
        self.created_at = (now or datetime.now(UTC)) - timedelta(days=400)

    def index_child(self, store: ObjectStore, record: dict[str, Any]) -> None:
        """Enter a new record under each parent it references (see :attr:`children`)."""
        for field in self._indexed.get(store.name, ()):
            parent = record[field]
            if parent:
                self.children[(store.name, field)].setdefault(parent, []).append(record["Id"])

    def _reindex(self, store: ObjectStore, record_id: str, field: str, old: Any, new: Any) -> None:
        index = self.children[(store.name, field)]
        if old in index:
            index[old].remove(record_id)
        if new:
            index.setdefault(new, []).append(record_id)

    # -- transactions (composite allOrNone, composite/tree) ----------------------------------------

    def begin(self) -> None:
        """Open a transaction: every write until :meth:`commit` can be undone by
        :meth:`rollback`, and saves are announced only once committed."""
        self._journal = []
        self._bins = {name: len(store.deletions) for name, store in self.stores.items()}

    def commit(self) -> None:
        """Keep the transaction's writes; announce its saves."""
        self._journal = None
        held, self._held = self._held, []
        for object_name, ids in held:
            self._announce(object_name, ids)

    def rollback(self) -> None:
        """Undo every write of the open transaction, newest first."""
        journal, self._journal, self._held = self._journal or [], None, []
        for store, record_id, before in reversed(journal):
            indexed = self._indexed.get(store.name, ())
            record = store.records[record_id]
            if before is None:
                del store.records[record_id]
                store.order.remove(record_id)
                for field in indexed:
                    self._reindex(store, record_id, field, record[field], None)
                continue
            for field in indexed:
                if record[field] != before.get(field):
                    self._reindex(store, record_id, field, record[field], before.get(field))
            record.clear()
            record.update(before)
        for name, length in self._bins.items():
            del self.stores[name].deletions[length:]

    def _remember(self, store: ObjectStore, record_id: str, before: dict[str, Any] | None) -> None:
        if self._journal is not None:
            self._journal.append((store, record_id, None if before is None else dict(before)))

    # -- schema changes ----------------------------------------------------------------------------

    def remove_fields(self, names: Iterable[str]) -> list[str]:
        """Delete custom Account fields (and their values), as an admin would in Setup."""
        schema = self.accounts.schema
        removed = [schema.remove(name).name for name in names]
        for record in self.accounts.records.values():
            for name in removed:
                record.pop(name, None)
        return removed

    def add_fields(self, names: Iterable[str]) -> list[str]:
        """(Re)create known custom Account fields, empty."""
        catalog = custom_field_catalog()
        schema = self.accounts.schema
        added = []
        for name in names:
            spec = catalog.get(name)
            if spec is None:
                raise ValueError(f"unknown custom field {name!r}; known: {', '.join(catalog)}")
            if name in schema.fields:
                continue
            schema.add(spec)
            default = False if spec.type == "boolean" else None
            for record in self.accounts.records.values():
                record[name] = default
            added.append(name)
        return added

    # -- writes ------------------------------------------------------------------------------------

    def parse_values(self, store: ObjectStore, payload: dict[str, Any]) -> dict[str, Any]:
        """A record's JSON fields as stored values; unknown fields or unreadable values refuse the
        whole call, as Salesforce refuses a body it cannot deserialize."""
        schema = store.schema
        values: dict[str, Any] = {}
        for key, raw in payload.items():
            if key == "attributes" or key.lower() == "id":
                continue
            spec = schema.resolve(key)
            if spec is None:
                raise SalesforceError.bad_request(
                    "INVALID_FIELD", f"No such column '{key}' on sobject of type {store.name}"
                )
            values[spec.name] = spec.parse(raw)
        return values

    def _check(
        self, store: ObjectStore, values: dict[str, Any], *, creating: bool
    ) -> tuple[dict[str, Any], RecordError | None]:
        schema = store.schema
        if not schema.writable:
            verb = "inserted" if creating else "updated"
            return values, RecordError(
                "INVALID_TYPE_FOR_OPERATION", f"entity type cannot be {verb}: {schema.label}"
            )
        locked = [
            name
            for name in values
            if not (schema.fields[name].createable if creating else schema.fields[name].updateable)
        ]
        if locked:
            return values, RecordError(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(locked)}. Please check the security "
                "settings of this field and verify that it is read/write for your profile or "
                "permission set.",
                locked,
            )
        checked: dict[str, Any] = {}
        for name, value in values.items():
            spec = schema.fields[name]
            checked[name], error = spec.check(value)
            if error is None and spec.type == "reference" and value is not None:
                error = self._check_reference(spec, value)
                if error is None:
                    checked[name] = to_18(value)
            if error is not None:
                return values, error
        if creating:
            missing = [
                name for name, spec in schema.fields.items() if spec.required and name not in values
            ]
            if missing:
                return values, RecordError(
                    "REQUIRED_FIELD_MISSING",
                    f"Required fields are missing: [{', '.join(missing)}]",
                    missing,
                )
        return checked, None

    def _check_reference(self, spec: FieldSpec, value: str) -> RecordError | None:
        target = self.store(spec.reference_to[0]) if spec.reference_to else None
        record_id = to_18(value)
        if record_id is None or (
            target is not None and not record_id.startswith(target.schema.key_prefix)
        ):
            return RecordError(
                "MALFORMED_ID", f"{spec.label}: id value of incorrect type: {value}", [spec.name]
            )
        if target is None:  # an object the sandbox does not keep (Campaign, Pricebook2, …)
            return RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
        record = target.records.get(record_id)
        if record is None:
            return RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
        if record["IsDeleted"]:
            return RecordError("ENTITY_IS_DELETED", "entity is deleted", [spec.name])
        return None

    def _target(self, store: ObjectStore, raw_id: Any) -> tuple[Record | None, RecordError | None]:
        if raw_id is None or raw_id == "":
            return None, RecordError("MISSING_ARGUMENT", "Id not specified in an update call")
        record_id = to_18(raw_id) if isinstance(raw_id, str) else None
        if record_id is None or not record_id.startswith(store.schema.key_prefix):
            return None, RecordError(
                "MALFORMED_ID", f"{store.name} ID: id value of incorrect type: {raw_id}", ["Id"]
            )
        record = store.records.get(record_id)
        if record is None:
            return None, RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
        if record["IsDeleted"]:
            return None, RecordError("ENTITY_IS_DELETED", "entity is deleted")
        return record, None

    def validate(
        self,
        store: ObjectStore,
        items: list[tuple[Any, dict[str, Any] | RecordError]],
        *,
        creating: bool,
    ) -> tuple[list[_Pending | None], list[SaveResult]]:
        """Check every record of a write; ``items`` are (raw id or None, parsed values, or the
        error a record already failed with). Nothing changes yet."""
        pending: list[_Pending | None] = []
        results: list[SaveResult] = []
        for raw_id, given in items:
            record: Record | None = None
            shown_id = to_18(raw_id) if isinstance(raw_id, str) else None
            if isinstance(given, RecordError):
                values, error = {}, given
            else:
                values, error = given, None
            if error is None and not creating:
                record, error = self._target(store, raw_id)
            if error is None:
                values, error = self._check(store, values, creating=creating)
            if error is None and record is not None:
                cleared = [
                    name
                    for name in values
                    if values[name] is None and store.schema.fields[name].required
                ]
                if cleared:
                    error = RecordError(
                        "REQUIRED_FIELD_MISSING",
                        f"Required fields are missing: [{', '.join(cleared)}]",
                        cleared,
                    )
            pending.append(None if error else _Pending(record, values))
            results.append(SaveResult(None if creating else shown_id, error))
        return pending, results

    def apply(
        self,
        store: ObjectStore,
        pending: list[_Pending | None],
        results: list[SaveResult],
        *,
        now: str,
    ) -> list[SaveResult]:
        """Apply the records that passed :meth:`validate`; announce the saves."""
        results = list(results)
        saved: list[str] = []
        for index, item in enumerate(pending):
            if item is None:
                continue
            record_id = self._apply(store, item, now)
            results[index] = SaveResult(record_id)
            saved.append(record_id)
        if saved:
            self._announce(store.name, saved)
        return results

    def save(
        self,
        store: ObjectStore,
        items: list[tuple[Any, dict[str, Any] | RecordError]],
        *,
        creating: bool,
        all_or_none: bool,
        now: str,
    ) -> list[SaveResult]:
        """Create (``creating``) or update records of one object.

        Every record is checked first. With ``all_or_none`` one failure fails them all (the
        others with ``ALL_OR_NONE_OPERATION_ROLLED_BACK``) and nothing changes.
        """
        pending, results = self.validate(store, items, creating=creating)
        if all_or_none and any(r.error for r in results):
            return rolled_back(results)
        return self.apply(store, pending, results, now=now)

    def _apply(self, store: ObjectStore, item: _Pending, now: str) -> str:
        values = dict(item.values)
        if store is self.opportunities:
            derive_opportunity(values)
        record: dict[str, Any] | None = item.record
        if record is None:
            record = store.add(values, now=now)
            self._derive(store, record)
            self.index_child(store, record)
            self._remember(store, record["Id"], None)
            return str(record["Id"])
        self._remember(store, record["Id"], record)
        if store is self.accounts:
            self.track_history(record, values, now=now, by=USER_ID)
        indexed = self._indexed.get(store.name, ())
        before = {field: record[field] for field in indexed}
        record.update(values)
        self._derive(store, record)
        # Every successful save is a modification, even one that changes no value.
        record["LastModifiedDate"] = record["SystemModstamp"] = now
        record["LastModifiedById"] = USER_ID
        for field, old in before.items():
            if record[field] != old:
                self._reindex(store, record["Id"], field, old, record[field])
        return str(record["Id"])

    def _derive(self, store: ObjectStore, record: dict[str, Any]) -> None:
        """The read-only fields a save computes: names of people, an opportunity's expected
        revenue."""
        if store is self.contacts or store is self.users:
            record["Name"] = _full_name(record)
        elif store is self.opportunities:
            amount, probability = record["Amount"], record["Probability"]
            if amount is not None and probability is not None:
                record["ExpectedRevenue"] = round(amount * probability / 100, 2)
            else:
                record.pop("ExpectedRevenue", None)

    def track_history(
        self, account: dict[str, Any], values: dict[str, Any], *, now: str, by: str
    ) -> None:
        """An AccountHistory row for each tracked field whose value ``values`` changes."""
        fields = self.accounts.schema.fields
        for name, new in values.items():
            tracked = HISTORY_TRACKED.get(name)
            old = account[name]
            if tracked is None or old == new:
                continue
            row = {
                "AccountId": account["Id"],
                "Field": tracked,
                "DataType": _HISTORY_TYPES.get(fields[name].type, "Text"),
                "OldValue": old,
                "NewValue": new,
            }
            if by != USER_ID:
                row["CreatedById"] = by
            history = self.account_history.add(row, now=now)
            self.index_child(self.account_history, history)
            self._remember(self.account_history, history["Id"], None)

    def delete(self, store: ObjectStore, raw_id: str, *, now: str) -> RecordError | None:
        """Move a record (and the children its deletion cascades to) to the recycle bin."""
        if not store.schema.writable:
            return RecordError(
                "INVALID_TYPE_FOR_OPERATION", f"entity type cannot be deleted: {store.schema.label}"
            )
        record, error = self._target(store, raw_id)
        if record is None:
            return error
        self._delete_cascading(store, record, now)
        return None

    def _delete_cascading(self, store: ObjectStore, record: Record, now: str) -> None:
        self._delete(store, record, now)
        for child in store.schema.children.values():
            if not child.cascade_delete:
                continue
            child_store = self.stores[child.child]
            for child_id in self.children_of(child.child, child.field, record["Id"]):
                child_record = child_store.records[child_id]
                if not child_record["IsDeleted"]:
                    self._delete_cascading(child_store, child_record, now)

    def _delete(self, store: ObjectStore, record: Record, now: str) -> None:
        self._remember(store, record["Id"], record)
        record["IsDeleted"] = True
        if store.stamped:
            record["LastModifiedDate"] = record["SystemModstamp"] = now
        store.deletions.append((now, record["Id"]))

    def _announce(self, object_name: str, ids: list[str]) -> None:
        if self._journal is not None:
            self._held.append((object_name, ids))
            return
        for listener in self.listeners:
            listener(object_name, ids)

    # -- simulated users ---------------------------------------------------------------------------

    def rep_edits(self, rng: random.Random, count: int, now: str) -> list[dict[str, Any]]:
        """``count`` plausible edits of random live accounts, as sales reps make them."""
        store = self.accounts
        live = [i for i in store.order if not store.records[i]["IsDeleted"]]
        fields = store.schema.fields
        industries = fields["Industry"].picklist
        edits: list[tuple[Any, dict[str, Any] | RecordError]] = []
        for record_id in rng.sample(live, min(count, len(live))):
            record = store.records[record_id]
            which = rng.randrange(4)
            values: dict[str, Any]
            if which == 0 or (which == 2 and "Has_Inhouse_SEO__c" not in fields):
                employees = record["NumberOfEmployees"] or 10
                step = rng.choice((-1, 1)) * max(1, employees // 10)
                values = {"NumberOfEmployees": max(1, employees + step)}
            elif which == 1 or (which == 3 and "NPS__c" not in fields):
                values = {
                    "Industry": rng.choice([i for i in industries if i != record["Industry"]])
                }
            elif which == 2:
                values = {"Has_Inhouse_SEO__c": not record["Has_Inhouse_SEO__c"]}
            else:
                current = record["NPS__c"]
                values = {"NPS__c": float(rng.choice([n for n in range(11) if n != current]))}
            edits.append((record_id, values))
        self.save(store, edits, creating=False, all_or_none=False, now=now)
        return [{"id": record_id, "fields": values} for record_id, values in edits]


def rolled_back(results: list[SaveResult]) -> list[SaveResult]:
    """An all-or-none write that failed: the records that passed are rolled back."""
    return [r if r.error else SaveResult(r.id, ROLLED_BACK) for r in results]


def now_string() -> str:
    """The current time as the REST API writes datetimes."""
    return format_datetime(datetime.now(UTC))
