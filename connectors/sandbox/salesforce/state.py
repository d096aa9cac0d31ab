"""The state behind one Salesforce fake: the org, its query engine, sessions, daily allocation,
faults, call counts and Outbound Messages, and the writes that go through composite
collections."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any, Final

from connectors.sandbox.common.faults import CallCounter, FaultInjector
from connectors.sandbox.salesforce.auth import Credentials, SessionRegistry
from connectors.sandbox.salesforce.bulk import QueryJobs
from connectors.sandbox.salesforce.bulk1 import BulkJobs
from connectors.sandbox.salesforce.errors import RecordError, SalesforceError
from connectors.sandbox.salesforce.fields import format_datetime, parse_datetime
from connectors.sandbox.salesforce.ids import to_18
from connectors.sandbox.salesforce.limits import DailyAllocation
from connectors.sandbox.salesforce.outbound import OutboundDispatcher
from connectors.sandbox.salesforce.query import QueryEngine
from connectors.sandbox.salesforce.seed import seed_org
from connectors.sandbox.salesforce.store import (
    ObjectStore,
    Org,
    SaveResult,
    now_string,
    rolled_back,
)

__all__ = [
    "JSON_MEDIA_TYPE",
    "MAX_COLLECTION",
    "RECORD_OBJECTS",
    "SalesforceSandbox",
    "admin_time",
]

JSON_MEDIA_TYPE: Final = "application/json;charset=UTF-8"
MAX_COLLECTION: Final = 200
OLDEST_VERSION: Final = 31
# The admin's ``/_sandbox/<record type>/<id>`` names, and the objects they read.
RECORD_OBJECTS: Final = {
    "accounts": "Account",
    "opportunities": "Opportunity",
    "contacts": "Contact",
    "users": "User",
}


def admin_time(payload: dict[str, Any]) -> str:
    """When an admin-simulated change happens: now, or the given ``at`` (not in the future)."""
    raw = payload.get("at")
    if raw is None:
        return now_string()
    moment = parse_datetime(str(raw))
    if moment is None or moment > datetime.now(UTC):
        raise ValueError(f"at must be a datetime in the past, was {raw!r}")
    return format_datetime(moment)


class SalesforceSandbox:
    """The state behind one app: the org, its sessions and allocation, and the sandbox's knobs
    (the :class:`~connectors.sandbox.common.admin_routes.SandboxControls` of ``/_sandbox/``)."""

    media_type: Final = JSON_MEDIA_TYPE

    def __init__(
        self,
        *,
        token: str,
        api_version: str,
        daily_limit: int,
        custom_fields: bool,
        credentials: Credentials,
    ) -> None:
        self.api_version = api_version
        newest = int(float(api_version))
        self.versions = [f"{v}.0" for v in range(OLDEST_VERSION, newest + 1)]
        self._known_versions = frozenset(self.versions)
        self.default_custom_fields = custom_fields
        self.org = Org(writeback_fields=custom_fields)
        seed_org(
            self.org,
            seed=1,
            accounts=0,
            opportunities_per_account=0,
            writeback_fields=custom_fields,
            api_username=credentials.username,
        )
        self.queries = QueryEngine(self.org)
        self.query_jobs = QueryJobs(self.org)
        self.bulk_jobs = BulkJobs(self.org, self.queries)
        self.allocation = DailyAllocation(daily_limit)
        self.sessions = SessionRegistry(token, credentials)
        self.faults = FaultInjector()
        self.calls = CallCounter()
        self.outbound = OutboundDispatcher(self.org.store, self.sessions.issue)
        self.outbound.version = api_version
        self.org.listeners.append(self.outbound.saved)
        self._edit_rng = random.Random(0)

    def reset(
        self,
        *,
        seed: int,
        accounts: int,
        opportunities_per_account: int,
        contacts_per_account: int = 0,
        custom_fields: bool | None = None,
    ) -> dict[str, Any]:
        """Reseed the org; forget call counts, usage, query locators, sessions and pending
        outbound messages (the outbound target stays)."""
        writeback = self.default_custom_fields if custom_fields is None else custom_fields
        counts = seed_org(
            self.org,
            seed=seed,
            accounts=accounts,
            opportunities_per_account=opportunities_per_account,
            contacts_per_account=contacts_per_account,
            writeback_fields=writeback,
            api_username=self.sessions.credentials.username,
        )
        self.queries.reset()
        self.query_jobs.reset()
        self.bulk_jobs.reset()
        self.calls.reset()
        self.allocation.configure(used=0)
        self.sessions.reset()
        self.outbound.reset()
        self._edit_rng = random.Random(seed)
        return {**counts, "custom_fields": writeback}

    def known_version(self, version: str) -> bool:
        """Whether ``/services/data/v<version>`` exists."""
        return version in self._known_versions

    def store_for(self, name: str) -> ObjectStore:
        """The object a route names, or 404 ``NOT_FOUND``."""
        store = self.org.store(name)
        if store is None:
            raise SalesforceError.not_found()
        return store

    def collection(self, payload: Any, *, creating: bool) -> list[dict[str, Any]]:
        """``POST``/``PATCH composite/sobjects``: up to 200 records, one SaveResult each."""
        if not isinstance(payload, dict) or not isinstance(payload.get("records"), list):
            raise SalesforceError.json_parser("The request body needs a records list")
        records = payload["records"]
        if len(records) > MAX_COLLECTION:
            raise SalesforceError.bad_request(
                "EXCEEDED_ID_LIMIT",
                f"record limit reached. cannot submit more than {MAX_COLLECTION} records into "
                "this call",
            )
        all_or_none = payload.get("allOrNone", False) is True
        # Records are processed in chunks of consecutive records of one object.
        chunks: list[tuple[ObjectStore, list[tuple[Any, dict[str, Any] | RecordError]]]] = []
        for record in records:
            if not isinstance(record, dict):
                raise SalesforceError.json_parser("Each record must be a JSON object")
            kind = (record.get("attributes") or {}).get("type")
            if not kind:
                raise SalesforceError.bad_request(
                    "INVALID_TYPE", "Must send a concrete entity type.", []
                )
            store = self.org.store(str(kind))
            if store is None:
                raise SalesforceError.bad_request(
                    "INVALID_TYPE", f"sObject type '{kind}' is not supported.", []
                )
            values: dict[str, Any] | RecordError = self.org.parse_values(store, record)
            raw_id = record.get("id", record.get("Id"))
            if creating:
                if raw_id is not None:
                    values = RecordError(
                        "INVALID_FIELD", "cannot specify Id in an insert call", ["Id"]
                    )
                raw_id = None
            if chunks and chunks[-1][0] is store:
                chunks[-1][1].append((raw_id, values))
            else:
                chunks.append((store, [(raw_id, values)]))
        if len(chunks) > 10:
            raise SalesforceError.bad_request(
                "INVALID_BATCH_REQUEST", "Request can't contain more than 10 chunks", []
            )
        checked = [
            (store, *self.org.validate(store, items, creating=creating)) for store, items in chunks
        ]
        failed = any(r.error for _, _, results in checked for r in results)
        outcome: list[SaveResult] = []
        now = now_string()
        for store, pending, results in checked:
            if all_or_none and failed:
                outcome.extend(rolled_back(results))
            else:
                outcome.extend(self.org.apply(store, pending, results, now=now))
        return [result.as_dict() for result in outcome]

    def delete_collection(self, ids: list[str], *, all_or_none: bool) -> list[dict[str, Any]]:
        """``DELETE composite/sobjects?ids=``: up to 200 records, one DeleteResult each."""
        if len(ids) > MAX_COLLECTION:
            raise SalesforceError.bad_request(
                "EXCEEDED_ID_LIMIT",
                f"record limit reached. cannot submit more than {MAX_COLLECTION} records into "
                "this call",
            )
        targets: list[tuple[str, ObjectStore | None, RecordError | None]] = []
        for raw_id in ids:
            record_id = to_18(raw_id)
            store = self.org.store_of_id(record_id)
            error = None
            if store is None:
                error = RecordError("MALFORMED_ID", f"malformed id {raw_id}", [])
            elif not store.schema.writable:
                error = RecordError(
                    "INVALID_TYPE_FOR_OPERATION",
                    f"entity type cannot be deleted: {store.schema.label}",
                )
            else:
                record = store.records.get(record_id or "")
                if record is None:
                    error = RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
                elif record["IsDeleted"]:
                    error = RecordError("ENTITY_IS_DELETED", "entity is deleted")
            targets.append((record_id or raw_id, store, error))
        results = [SaveResult(record_id, error) for record_id, _, error in targets]
        if all_or_none and any(r.error for r in results):
            return [r.as_dict() for r in rolled_back(results)]
        now = now_string()
        for record_id, store, error in targets:
            if error is None and store is not None:
                self.org.delete(store, record_id, now=now)
        return [r.as_dict() for r in results]

    def rep_edits(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """Change accounts as a rep would: given values, or ``count`` random plausible edits;
        ``at`` backdates them."""
        store, now = self.org.accounts, admin_time(payload)
        if "ids" in payload:
            values = self.org.parse_values(
                store, payload.get("fields") or payload.get("properties") or {}
            )
            items: list[tuple[Any, dict[str, Any] | RecordError]] = [
                (raw_id, dict(values)) for raw_id in payload["ids"]
            ]
            results = self.org.save(store, items, creating=False, all_or_none=True, now=now)
            problems = [
                f"{raw_id}: {r.error.status_code} {r.error.message}"
                for (raw_id, _), r in zip(items, results, strict=True)
                if r.error is not None
                and r.error.status_code != "ALL_OR_NONE_OPERATION_ROLLED_BACK"
            ]
            if problems:
                raise ValueError("no account was edited: " + "; ".join(problems))
            return [{"id": r.id, "fields": values} for r in results]
        return self.org.rep_edits(self._edit_rng, int(payload.get("count", 1)), now)

    # -- admin (SandboxControls) -------------------------------------------------------------------

    def reset_from(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Reseed from a ``POST /_sandbox/reset`` body (HubSpot's names accepted too:
        ``companies``, ``deals_per_company``, ``contacts_per_company``); ``daily_limit`` sets the
        allocation."""
        custom = payload.get("custom_fields")
        counts = self.reset(
            seed=int(payload.get("seed", 1)),
            accounts=int(payload.get("accounts", payload.get("companies", 0))),
            opportunities_per_account=int(
                payload.get("opportunities_per_account", payload.get("deals_per_company", 2))
            ),
            contacts_per_account=int(
                payload.get("contacts_per_account", payload.get("contacts_per_company", 0))
            ),
            custom_fields=None if custom is None else bool(custom),
        )
        if payload.get("daily_limit") is not None:
            self.allocation.configure(maximum=int(payload["daily_limit"]))
        return counts

    def stats(self) -> dict[str, Any]:
        """Calls per path template, their total, how many were refused, and the API usage."""
        return {**self.calls.snapshot(), "api_usage": self.allocation.snapshot()}

    def set_rate_limit(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Only ``{"per_10s": 0}``: Salesforce has no 10-second limit."""
        # HubSpot's 10-second window has no Salesforce counterpart; 0 ("none") is accepted so
        # that code driving both fakes alike can switch limits off.
        if int(payload.get("per_10s", 0)) != 0:
            raise ValueError(
                "Salesforce has no 10-second rate limit; set the daily allocation with "
                'POST /_sandbox/limits {"used", "max"}'
            )
        return {"per_10s": 0, "daily": self.allocation.snapshot()}

    def set_webhooks(self, payload: dict[str, Any], base_url: str) -> dict[str, Any]:
        """Where Outbound Messages go, and their settings (``base_url``: the URLs they name)."""
        settings = {k: v for k, v in payload.items() if k != "target_url"}
        settings.setdefault("base_url", base_url)
        self.outbound.configure(payload.get("target_url"), **settings)
        return self.outbound.snapshot()

    def webhooks_state(self) -> dict[str, Any]:
        """The outbound settings and delivery counts."""
        return self.outbound.snapshot()

    def raw_record(self, record_type: str, record_id: str) -> dict[str, Any]:
        """A record as stored (every field), deleted ones included."""
        store = self.org.stores[RECORD_OBJECTS[record_type]]
        record = store.get(record_id)
        if record is None:
            raise SalesforceError.not_found()
        return {
            "IsDeleted": record["IsDeleted"],
            **{name: record[name] for name in store.schema.fields},
        }

    def admin_error(self, exc: Exception) -> tuple[int, Any] | None:
        """Salesforce's error list, inside the admin's own error body."""
        if isinstance(exc, SalesforceError):
            return exc.status_code, {"error": "InvalidSandboxRequest", "detail": exc.body()}
        return None
