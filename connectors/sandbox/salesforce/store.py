"""The in-memory org: Accounts and Opportunities as dicts of JSON-typed field values.

Ids grow with creation, so ``order`` (every id ever created, deleted ones included) is sorted and
is also SOQL's default row order. A write is validated record by record before anything is
applied, which is what ``allOrNone`` needs; saved records are announced to listeners (the
outbound messages) after the whole call is applied.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from connectors.sandbox.common.demo_data import generate_companies
from connectors.sandbox.salesforce.errors import RecordError, SalesforceError
from connectors.sandbox.salesforce.field_catalog import STAGES, custom_field_catalog
from connectors.sandbox.salesforce.fields import FieldSpec, format_datetime, format_epoch_ms
from connectors.sandbox.salesforce.ids import (
    ACCOUNT_PREFIX,
    OPPORTUNITY_PREFIX,
    USER_ID,
    IdFactory,
    to_18,
)
from connectors.sandbox.salesforce.schema import ObjectSchema, build_schema

__all__ = ["ObjectStore", "Org", "SaveListener", "SaveResult", "now_string", "rolled_back"]

SaveListener = Callable[[str, list[str]], None]  # object name, ids saved (created or edited)

ROLLED_BACK: Final = RecordError(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone "
    "header",
)
_STAGE_INFO: Final = {
    stage: (probability, closed, won) for stage, probability, closed, won in STAGES
}
_DEMO_STAGES: Final = {
    "appointmentscheduled": "Prospecting",
    "qualifiedtobuy": "Qualification",
    "presentationscheduled": "Value Proposition",
    "decisionmakerboughtin": "Id. Decision Makers",
    "contractsent": "Negotiation/Review",
    "closedwon": "Closed Won",
    "closedlost": "Closed Lost",
}
_DEMO_DEAL_TYPES: Final = {
    "New business": "New Customer",
    "Expansion": "Existing Customer - Upgrade",
    "Renewal": "Existing Customer - Replacement",
}
# How the demo generator spells a country, as the country name an org with State and Country
# picklists stores.
_COUNTRY_NAMES: Final = {
    "US": "United States",
    "USA": "United States",
    "us": "United States",
    "United States of America": "United States",
    "GB": "United Kingdom",
    "UK": "United Kingdom",
    "DE": "Germany",
    "Deutschland": "Germany",
}
_FUNDING_LABELS: Final = {
    "bootstrapped": "Bootstrapped",
    "seed": "Seed",
    "series_a": "Series A",
    "series_b": "Series B",
    "series_c": "Series C",
    "growth": "Growth",
    "ipo": "IPO",
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

    def __init__(self, schema: ObjectSchema, prefix: str) -> None:
        self.schema = schema
        self.ids = IdFactory(prefix)
        self.records: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []
        self.deletions: list[tuple[str, str]] = []  # (deletedDate, id), oldest first

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

    def get(self, raw_id: str) -> dict[str, Any] | None:
        """The record with this 15- or 18-character id (deleted or not), or None."""
        record_id = to_18(raw_id)
        return None if record_id is None else self.records.get(record_id)

    def add(
        self, values: dict[str, Any], *, now: str, created: str | None = None
    ) -> dict[str, Any]:
        """Store a new record with the next id and the system fields filled in."""
        record = self.schema.empty_record()
        record.update(values)
        record_id = self.ids.next()
        record["Id"] = record_id
        record["IsDeleted"] = False
        record["OwnerId"] = record["CreatedById"] = record["LastModifiedById"] = USER_ID
        record["CreatedDate"] = created or now
        record["LastModifiedDate"] = record["SystemModstamp"] = now
        self.records[record_id] = record
        self.order.append(record_id)
        return record

    def live_count(self) -> int:
        """Records not in the recycle bin."""
        return sum(1 for r in self.records.values() if not r["IsDeleted"])


def _derive_opportunity(values: dict[str, Any], record: dict[str, Any] | None) -> None:
    """IsClosed, IsWon (and Probability unless given) follow the stage, as in the sales process."""
    stage = values.get("StageName")
    if stage is None:
        return
    probability, closed, won = _STAGE_INFO.get(stage, (None, False, False))
    values["IsClosed"], values["IsWon"] = closed, won
    if "Probability" not in values and probability is not None:
        values["Probability"] = float(probability)


class Org:
    """The whole fake org: its schema, its records, and who hears about saves."""

    def __init__(self, *, writeback_fields: bool = True) -> None:
        self.schema = build_schema(writeback_fields=writeback_fields)
        self.accounts = ObjectStore(self.schema["Account"], ACCOUNT_PREFIX)
        self.opportunities = ObjectStore(self.schema["Opportunity"], OPPORTUNITY_PREFIX)
        self.stores: dict[str, ObjectStore] = {
            "Account": self.accounts,
            "Opportunity": self.opportunities,
        }
        self._stores_lower = {name.lower(): store for name, store in self.stores.items()}
        self.opportunities_by_account: dict[str, list[str]] = {}
        self.listeners: list[SaveListener] = []
        self.created_at = datetime.now(UTC)

    def store(self, name: str) -> ObjectStore | None:
        """The store of the object called ``name`` (any letter case), or None."""
        return self._stores_lower.get(name.lower())

    # -- seeding -----------------------------------------------------------------------------------

    def reset(
        self,
        *,
        seed: int,
        accounts: int,
        opportunities_per_account: int,
        writeback_fields: bool = True,
        now: datetime | None = None,
    ) -> dict[str, int]:
        """Replace everything with ``accounts`` seeded demo accounts and their opportunities.

        The schema is rebuilt too (custom fields removed through the admin come back, and the
        write-back fields exist only with ``writeback_fields``). Dates lie within the year before
        ``now``; everything else depends on ``seed`` alone, ids included.
        """
        self.schema = build_schema(writeback_fields=writeback_fields)
        for store in self.stores.values():
            store.schema = self.schema[store.name]
            store.clear()
        self.opportunities_by_account.clear()
        now = now or datetime.now(UTC)
        self.created_at = now - timedelta(days=400)
        # Long-lived dicts by the hundred thousand: cyclic GC passes would dominate seeding.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._seed(seed, accounts, opportunities_per_account, now)
        finally:
            if gc_was_enabled:
                gc.enable()

    def _seed(self, seed: int, count: int, per_account: int, now: datetime) -> dict[str, int]:
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        now_ms = int(now.timestamp() * 1000)
        year_ms = 365 * 86_400_000
        fields = self.accounts.schema.fields
        opportunities = 0
        for index, company in enumerate(
            generate_companies(seed, count, deals_per_company=per_account, today=now.date())
        ):
            # Spread over the last year, deterministically from the index.
            age = year_ms - (index * 7_919_993) % year_ms
            created_ms = now_ms - age - 86_400_000
            modified = format_epoch_ms(created_ms + (index * 104_729) % (age + 1))
            values = _account_values(index, company)
            account = self.accounts.add(
                {k: v for k, v in values.items() if k in fields},
                now=modified,
                created=format_epoch_ms(created_ms),
            )
            linked = []
            for deal in company["deals"]:
                deal_created = f"{deal['created_date'].isoformat()}T00:00:00.000+0000"
                opportunity = self.opportunities.add(
                    _opportunity_values(deal, account["Id"]),
                    now=max(modified, deal_created),
                    created=deal_created,
                )
                linked.append(opportunity["Id"])
            if linked:
                self.opportunities_by_account[account["Id"]] = linked
                opportunities += len(linked)
        return {"accounts": count, "opportunities": opportunities}

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
        if target is None:
            return None
        record_id = to_18(value)
        if record_id is None or not record_id.startswith(target.schema.key_prefix):
            return RecordError(
                "MALFORMED_ID", f"{spec.label}: id value of incorrect type: {value}", [spec.name]
            )
        record = target.records.get(record_id)
        if record is None:
            return RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
        if record["IsDeleted"]:
            return RecordError("ENTITY_IS_DELETED", "entity is deleted", [spec.name])
        return None

    def _target(
        self, store: ObjectStore, raw_id: Any
    ) -> tuple[dict[str, Any] | None, RecordError | None]:
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
            record: dict[str, Any] | None = None
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
            _derive_opportunity(values, item.record)
        if item.record is None:
            record = store.add(values, now=now)
            if store is self.opportunities and record["AccountId"]:
                self.opportunities_by_account.setdefault(record["AccountId"], []).append(
                    record["Id"]
                )
            return str(record["Id"])
        record = item.record
        old_account = record.get("AccountId") if store is self.opportunities else None
        record.update(values)
        # Every successful save is a modification, even one that changes no value.
        record["LastModifiedDate"] = record["SystemModstamp"] = now
        record["LastModifiedById"] = USER_ID
        if store is self.opportunities and record.get("AccountId") != old_account:
            if old_account in self.opportunities_by_account:
                self.opportunities_by_account[old_account].remove(record["Id"])
            if record["AccountId"]:
                self.opportunities_by_account.setdefault(record["AccountId"], []).append(
                    record["Id"]
                )
        return str(record["Id"])

    def delete(self, store: ObjectStore, raw_id: str, *, now: str) -> RecordError | None:
        """Move a record (and an account's opportunities) to the recycle bin."""
        record, error = self._target(store, raw_id)
        if record is None:
            return error
        self._delete(store, record, now)
        if store is self.accounts:
            for opportunity_id in self.opportunities_by_account.get(record["Id"], []):
                opportunity = self.opportunities.records[opportunity_id]
                if not opportunity["IsDeleted"]:
                    self._delete(self.opportunities, opportunity, now)
        return None

    @staticmethod
    def _delete(store: ObjectStore, record: dict[str, Any], now: str) -> None:
        record["IsDeleted"] = True
        record["LastModifiedDate"] = record["SystemModstamp"] = now
        store.deletions.append((now, record["Id"]))

    def _announce(self, object_name: str, ids: list[str]) -> None:
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


def _website(index: int, domain: str) -> str:
    """Websites as reps type them: with or without scheme, www, or a trailing slash."""
    return (
        f"https://www.{domain}",
        f"https://www.{domain}",
        f"www.{domain}",
        f"http://{domain}/",
        domain,
    )[index % 5]


def _account_type(index: int, lifecycle: str | None) -> str | None:
    if lifecycle == "customer":
        return "Customer - Channel" if index % 6 == 0 else "Customer - Direct"
    if lifecycle is None:
        return None
    return "Other" if lifecycle == "other" else "Prospect"


def _float(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def _account_values(index: int, company: dict[str, Any]) -> dict[str, Any]:
    stage = company["funding_stage"]
    return {
        "Name": company["name"],
        "Type": _account_type(index, company["lifecycle_stage"]),
        "Industry": company["industry"],
        "Website": _website(index, company["domain"]),
        "NumberOfEmployees": company["employees"],
        "AnnualRevenue": _float(company["annual_revenue"]),
        "BillingCity": company["city"],
        "BillingState": company["state"],
        "BillingCountry": _COUNTRY_NAMES.get(company["country"], company["country"]),
        "Funding_Stage__c": _FUNDING_LABELS.get(stage, stage) if stage else None,
        "Total_Funding__c": _float(company["total_funding"]),
        "Founded_Year__c": _float(company["founded_year"]),
        "Has_Inhouse_SEO__c": bool(company["has_inhouse_seo"]),
        "Is_Competitor__c": bool(company["is_competitor"]),
        "NPS__c": _float(company["nps"]),
        "Tech_Stack__c": ";".join(company["tech_stack"]) if company["tech_stack"] else None,
    }


def _opportunity_values(deal: dict[str, Any], account_id: str) -> dict[str, Any]:
    stage = _DEMO_STAGES[deal["stage"]]
    probability, closed, won = _STAGE_INFO[stage]
    kind = deal["name"].rsplit("— ", 1)[-1]
    return {
        "AccountId": account_id,
        "Name": deal["name"],
        "StageName": stage,
        "Amount": float(deal["amount"]),
        "Probability": float(probability),
        "CloseDate": deal["close_date"].isoformat(),
        "Type": _DEMO_DEAL_TYPES.get(kind),
        "IsClosed": closed,
        "IsWon": won,
    }


def now_string() -> str:
    """The current time as the REST API writes datetimes."""
    return format_datetime(datetime.now(UTC))
