"""The Salesforce connector: Accounts, Opportunities and Contacts in, ``ICP_*__c`` verdicts out,
through simple-salesforce.

Reads (every object the same way; Opportunities and Contacts are mapped in
:mod:`connectors.salesforce.outcomes` and select standard fields without a describe first, so
a full read of N of them costs ⌈N/2000⌉ query/queryMore calls)
    SOQL over Account through ``queryAll``, so accounts deleted into the recycle bin come back
    with ``IsDeleted = true`` and are marked archived; 2,000 rows a page
    (``Sforce-Query-Options: batchSize=2000``), following ``nextRecordsUrl``.
    ``full``: every account, ``ORDER BY Id``. Incremental: ``WHERE SystemModstamp >= since -
    lookback ORDER BY SystemModstamp, Id``. SOQL has no result cap, so no keyset paging is
    needed; the stable order is what lets a read restart where it was when its query locator
    expired (``INVALID_QUERY_LOCATOR``, after 15 idle minutes): a full read from the last Id it
    saw, an incremental one from the latest SystemModstamp it saw.

Cursors are small JSON dicts. Between syncs: ``{"modified_since": "<ISO 8601>"}``. Inside a
read, each page's cursor resumes right after it::

    {"phase": "full", "next_records_url": "/services/data/v59.0/query/01g…-2000",
     "last_id": "001…", ...}
    {"phase": "changed", "next_records_url": "…", "since": "<ISO, lookback applied>", ...}

both with ``"started_at"`` and ``"max_modified"`` (ISO or null). The last page of every read
(possibly empty) carries the resting cursor: the latest ``SystemModstamp`` seen, capped at the
read's start so changes made while it ran are read next time; the start time if nothing was
seen.

Writes go to ``PATCH composite/sobjects`` (200 records, ``allOrNone: false``), one SaveResult
per record. The ``ICP_*__c`` fields are custom fields an admin creates (the Metadata API is out
of scope): ``ensure_schema`` checks them and says how to create each missing one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Final, Generic

import requests
from simple_salesforce import Salesforce

from connectors.base import (
    AccountRecord,
    AnyRecord,
    CallObserver,
    ContactRecord,
    DealRecord,
    FatalError,
    Page,
    RateLimiter,
    ReadProgress,
    RecordT,
    SchemaReport,
    WriteBack,
    WriteResult,
    ignore_call,
)
from connectors.salesforce.auth import SalesforceAuth
from connectors.salesforce.mapping import (
    ICP_FIELDS,
    ID_FIELD,
    MODIFIED_FIELD,
    OBJECT_NAME,
    FieldDefinitions,
    FieldMapping,
    parse_salesforce_datetime,
    save_results,
    schema_problem,
    soql_datetime,
    update_records,
    writeback_fields,
)
from connectors.salesforce.outcomes import (
    CONTACT_OBJECT,
    OPPORTUNITY_OBJECT,
    contact_columns,
    opportunity_columns,
    to_contact,
    to_deal,
)
from connectors.salesforce.retry import (
    ApiMeter,
    SalesforceCaller,
    SalesforceRequestError,
    meter_session,
)

__all__ = ["SalesforceConnector"]

log = logging.getLogger(__name__)

DEFAULT_API_VERSION: Final = "59.0"
DEFAULT_LOOKBACK_SECONDS: Final = 300.0
DEFAULT_DAILY_LIMIT_SHARE: Final = 0.8
QUERY_BATCH_SIZE: Final = 2000
# Ids per ``WHERE Id IN (...)``: 200 18-character ids keep the query URL near 5,000 characters.
IDS_PER_QUERY: Final = 200
WRITE_LIMIT: Final = 200
_QUERY_OPTIONS: Final = {"Sforce-Query-Options": f"batchSize={QUERY_BATCH_SIZE}"}
_LOCATOR_GONE: Final = "INVALID_QUERY_LOCATOR"
_HUBSPOT_ONLY_SETTINGS: Final = ("promote_lifecycle", "write_ideal_customer_profile")


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _query(soql: str) -> Callable[[Salesforce], Any]:
    """A queryAll (deleted rows included), 2,000 rows a page."""
    return lambda sf: sf.query(soql, include_deleted=True, headers=_QUERY_OPTIONS)


def _query_more(next_records_url: str) -> Callable[[Salesforce], Any]:
    """The next page of a query, by its ``nextRecordsUrl``."""
    return lambda sf: sf.query_more(next_records_url, identifier_is_url=True)


def _is_record_id(value: str) -> bool:
    """A 15- or 18-character Salesforce id: anything else cannot exist (nor be quoted in SOQL)."""
    return len(value) in (15, 18) and value.isascii() and value.isalnum()


@dataclass(slots=True)
class _ObjectRead(Generic[RecordT]):
    """What one object's read selects, and how a row of it becomes a record."""

    object_name: str
    columns: list[str]
    to_record: Callable[[Mapping[str, Any]], RecordT]
    # The columns as the object's describe allows them, when ``columns`` are the standard ones
    # unchecked: asked for once, if Salesforce refuses those.
    described_columns: Callable[[], list[str]] | None = None

    def select(self) -> str:
        """``SELECT … FROM <object>``."""
        return f"SELECT {', '.join(self.columns)} FROM {self.object_name}"


# Salesforce's answers to a field or child relationship the user cannot see (or the org lacks).
_UNSEEN_COLUMN_CODES: Final = frozenset({"INVALID_FIELD", "INVALID_TYPE"})
# Salesforce's answers when the signed-in user may not read an object: a query names it an
# unknown type (INVALID_TYPE) or refuses it (INSUFFICIENT_ACCESS); a describe finds no such
# resource (NOT_FOUND).
_NO_ACCESS_CODES: Final = frozenset(
    {"INSUFFICIENT_ACCESS", "INSUFFICIENT_ACCESS_OR_READONLY", "INVALID_TYPE", "NOT_FOUND"}
)
_PLURALS: Final = {OPPORTUNITY_OBJECT: "Opportunities", CONTACT_OBJECT: "Contacts"}


@contextlib.contextmanager
def _object_access(object_name: str) -> Iterator[None]:
    """A refusal to read ``object_name`` as a FatalError that says what to grant."""
    try:
        yield
    except SalesforceRequestError as exc:
        if exc.error_code not in _NO_ACCESS_CODES and exc.status != 404:
            raise
        plural = _PLURALS.get(object_name, object_name)
        raise FatalError(
            f"the Salesforce user icp-sync signs in as cannot read {object_name} "
            f"({exc.error_code}: {exc.detail}); grant it Read on {plural} (and on Opportunity "
            "Contact Roles through Opportunity, for buying roles): Setup → Profiles or "
            f"Permission Sets → Object Settings → {plural} → Read"
        ) from exc


class _Progress(ReadProgress):
    """A Salesforce read of one object: queryAll over every record (full), or records by
    SystemModstamp (changed); resumed from the query locator, or past the last id seen when
    it expired."""

    FULL_READ_PHASES = ("full",)

    def __init__(self, cursor: Mapping[str, Any]) -> None:
        super().__init__(cursor)
        self.next_records_url: str | None = cursor.get("next_records_url")
        self.last_id: str | None = cursor.get("last_id")

    def saw(self, records: Sequence[AnyRecord]) -> None:
        super().saw(records)
        if records:
            self.last_id = records[-1].external_id

    def restart_from(self) -> datetime | None:
        """Where an incremental query starts again: rows are in SystemModstamp order, so every
        one before the latest seen was read (rows changed since have a later stamp)."""
        since = parse_salesforce_datetime(self.since)
        if since is None or (self.max_modified is not None and self.max_modified > since):
            return self.max_modified
        return since

    def position(self) -> dict[str, Any]:
        if self.phase == "changed":
            return {"next_records_url": self.next_records_url, "since": self.since}
        return {"next_records_url": self.next_records_url, "last_id": self.last_id}


class SalesforceConnector:
    """Accounts of one Salesforce org, per DESIGN §3.1 and §3.4, through simple-salesforce.

    ``credentials``: see :mod:`connectors.salesforce.auth`. Settings: ``field_map``
    ({canonical field: Account field API name}, over the defaults; None unmaps),
    ``extra_properties`` (Account fields read into ``attributes``: a list by API name, so an
    ICP says ``attributes.Has_Inhouse_SEO__c``; or {attribute name: API name}),
    ``lookback_seconds`` (300), ``ca_bundle`` (PEM text of
    a private CA to trust, such as the sandbox's), ``api_version`` ("59.0") and
    ``daily_limit_share`` (0.8: stop before the org's daily API allocation is used past this
    share). ``promote_lifecycle`` and ``write_ideal_customer_profile`` are HubSpot's and are
    ignored: Salesforce's Account ``Type`` is not a funnel stage icp-sync should move.

    ``session`` may carry proxies or adapters of its own; the connector wraps its adapters to
    meter, time out and verify every request.
    """

    kind: ClassVar[str] = "salesforce"
    max_write_batch: ClassVar[int] = WRITE_LIMIT

    def __init__(
        self,
        *,
        credentials: Mapping[str, Any],
        settings: Mapping[str, Any] | None = None,
        rate_limiter: RateLimiter | None = None,
        timeout: float = 30.0,
        max_attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        observe_call: CallObserver = ignore_call,
    ) -> None:
        settings = settings or {}
        self.mapping = FieldMapping.from_settings(settings)
        self.lookback = timedelta(
            seconds=float(settings.get("lookback_seconds", DEFAULT_LOOKBACK_SECONDS))
        )
        ignored = [k for k in _HUBSPOT_ONLY_SETTINGS if settings.get(k)]
        if ignored:
            log.debug("Salesforce connections ignore the settings %s", ", ".join(ignored))
        share = float(settings.get("daily_limit_share") or DEFAULT_DAILY_LIMIT_SHARE)
        if not 0 < share <= 1:
            raise FatalError(f"daily_limit_share must be above 0 and at most 1, got {share}")
        self.session = session or requests.Session()
        meter = ApiMeter(
            rate_limiter=rate_limiter,
            timeout=timeout,
            verify=self._ca_file(settings.get("ca_bundle")),
            observe_call=observe_call,
        )
        meter_session(self.session, meter)
        auth = SalesforceAuth(
            credentials,
            session=self.session,
            api_version=str(settings.get("api_version") or DEFAULT_API_VERSION).lstrip("v"),
        )
        self._call = SalesforceCaller(
            login=auth,
            meter=meter,
            sleep=sleep,
            max_attempts=max_attempts,
            daily_limit_share=share,
        )
        self._described: dict[str, FieldDefinitions] = {}

    def _ca_file(self, pem: Any) -> str | None:
        """The CA bundle written to a file requests can read, removed with the connector."""
        if not pem:
            return None
        text = str(pem)
        if "-----BEGIN CERTIFICATE-----" not in text:
            raise FatalError("ca_bundle must be PEM text (-----BEGIN CERTIFICATE----- ...)")
        handle, path = tempfile.mkstemp(prefix="icp-sync-salesforce-ca-", suffix=".pem")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        weakref.finalize(self, _remove, path)
        return path

    def close(self) -> None:
        """Close the session's open connections (a server waits for idle TLS ones to go)."""
        self.session.close()

    @property
    def api_calls(self) -> int:
        """HTTP attempts made so far by this instance: retries, logins and refreshes included."""
        return self._call.calls

    # -- reading ---------------------------------------------------------------------------

    def read_pages(self, *, cursor: dict[str, Any] | None, full: bool) -> Iterator[Page]:
        """Accounts changed since ``cursor`` (or all, when ``full`` or when there is no cursor
        yet), deleted ones included, page by page; a page's cursor resumes after it."""
        return self._read_pages(self._account_read, cursor=cursor, full=full)

    def read_deal_pages(
        self, *, cursor: dict[str, Any] | None, full: bool
    ) -> Iterator[Page[DealRecord]]:
        """Opportunities changed since ``cursor`` (or all), deleted ones archived, with their
        account and contact roles, page by page; as ``read_pages`` reads accounts."""
        with _object_access(OPPORTUNITY_OBJECT):
            yield from self._read_pages(self._opportunity_read, cursor=cursor, full=full)

    def read_contact_pages(
        self, *, cursor: dict[str, Any] | None, full: bool
    ) -> Iterator[Page[ContactRecord]]:
        """Contacts changed since ``cursor`` (or all), deleted ones archived, with their
        account and buying role, page by page; as ``read_pages`` reads accounts."""
        with _object_access(CONTACT_OBJECT):
            yield from self._read_pages(self._contact_read, cursor=cursor, full=full)

    def _account_read(self) -> _ObjectRead[AccountRecord]:
        definitions = self._field_definitions()
        return _ObjectRead(
            OBJECT_NAME,
            self.mapping.fields_to_read(definitions),
            lambda row: self.mapping.to_record(row, definitions=definitions),
        )

    def _opportunity_read(self) -> _ObjectRead[DealRecord]:
        return self._outcome_read(OPPORTUNITY_OBJECT, opportunity_columns, to_deal)

    def _contact_read(self) -> _ObjectRead[ContactRecord]:
        return self._outcome_read(CONTACT_OBJECT, contact_columns, to_contact)

    def _outcome_read(
        self,
        object_name: str,
        columns_of: Callable[[FieldDefinitions | None], list[str]],
        to_record: Callable[[Mapping[str, Any]], RecordT],
    ) -> _ObjectRead[RecordT]:
        """A read of standard fields only: no describe first (a call per object and sync),
        unless Salesforce refuses one of them (see ``_select``)."""
        described = self._described.get(object_name)
        if described is not None:
            return _ObjectRead(object_name, columns_of(described), to_record)
        return _ObjectRead(
            object_name,
            columns_of(None),
            to_record,
            described_columns=lambda: columns_of(self._describe(object_name)),
        )

    def _read_pages(
        self,
        build: Callable[[], _ObjectRead[RecordT]],
        *,
        cursor: dict[str, Any] | None,
        full: bool,
    ) -> Iterator[Page[RecordT]]:
        """One object's records, changed since ``cursor`` or all, page by page."""
        progress = self._start(cursor, full=full)
        read = build()
        response = self._resume(progress, read)
        while True:
            records = [read.to_record(row) for row in response.get("records") or []]
            progress.saw(records)
            next_url = None if response.get("done", True) else response.get("nextRecordsUrl")
            if not next_url:
                yield Page(records, progress.resting_cursor())
                return
            if next_url == progress.next_records_url:
                raise FatalError(
                    f"Salesforce returned the same nextRecordsUrl twice ({next_url}); "
                    "refusing to loop"
                )
            progress.next_records_url = str(next_url)
            yield Page(records, progress.cursor())
            response = self._resume(progress, read)

    def _start(self, cursor: Mapping[str, Any] | None, *, full: bool) -> _Progress:
        return _Progress.start(cursor, full=full, lookback=self.lookback)

    def _resume(self, progress: _Progress, read: _ObjectRead[Any]) -> dict[str, Any]:
        """The next page: from the query locator when there is one, else a new query from
        where the read is."""
        url = progress.next_records_url
        if url:
            try:
                return self._query_json(f"{read.object_name} query (more)", _query_more(url))
            except SalesforceRequestError as exc:
                if exc.error_code != _LOCATOR_GONE:
                    raise
                log.info("Salesforce query locator expired; querying again from where it was")
        return self._select(read, f"{read.object_name} query", self._where(progress))

    def _select(self, read: _ObjectRead[Any], what: str, where: str) -> dict[str, Any]:
        """The first page of ``SELECT … FROM <object> <where>``. When Salesforce refuses
        standard columns selected unchecked (a field hidden by field-level security, contact
        roles the user cannot read), the object is described and the query asks only for what
        it has."""
        try:
            return self._query_json(what, _query(f"{read.select()} {where}"))
        except SalesforceRequestError as exc:
            if read.described_columns is None or exc.error_code not in _UNSEEN_COLUMN_CODES:
                raise
            log.info("Salesforce refused a %s column (%s); describing it", what, exc.detail)
            read.columns, read.described_columns = read.described_columns(), None
        return self._query_json(what, _query(f"{read.select()} {where}"))

    def _where(self, progress: _Progress) -> str:
        """The filter and order of a read's next query, from where it is."""
        if progress.phase == "changed":
            since = progress.restart_from()
            assert since is not None
            return (
                f"WHERE {MODIFIED_FIELD} >= {soql_datetime(since)} "
                f"ORDER BY {MODIFIED_FIELD}, {ID_FIELD}"
            )
        if progress.last_id is not None and _is_record_id(progress.last_id):
            return f"WHERE {ID_FIELD} > '{progress.last_id}' ORDER BY {ID_FIELD}"
        return f"ORDER BY {ID_FIELD}"

    def read_by_ids(self, external_ids: Sequence[str]) -> list[AccountRecord]:
        """The given accounts as they are now, in the order asked; deleted ones come back with
        ``archived=True``, ids Salesforce does not know are left out."""
        return self._read_by_ids(self._account_read, external_ids)

    def read_deals_by_ids(self, external_ids: Sequence[str]) -> list[DealRecord]:
        """The given Opportunities as they are now, as ``read_by_ids`` reads accounts."""
        with _object_access(OPPORTUNITY_OBJECT):
            return self._read_by_ids(self._opportunity_read, external_ids)

    def read_contacts_by_ids(self, external_ids: Sequence[str]) -> list[ContactRecord]:
        """The given Contacts as they are now, as ``read_by_ids`` reads accounts."""
        with _object_access(CONTACT_OBJECT):
            return self._read_by_ids(self._contact_read, external_ids)

    def _read_by_ids(
        self, build: Callable[[], _ObjectRead[RecordT]], external_ids: Sequence[str]
    ) -> list[RecordT]:
        ids = list(dict.fromkeys(str(i).strip() for i in external_ids))
        wanted = [i for i in ids if _is_record_id(i)]
        if not wanted:
            return []
        read = build()
        found: dict[str, RecordT] = {}
        for chunk in _chunks(wanted, IDS_PER_QUERY):
            where = f"WHERE {ID_FIELD} IN ({', '.join(repr(i) for i in chunk)})"
            what = f"{read.object_name} read by id"
            response = self._select(read, what, where)
            while True:
                for row in response.get("records") or []:
                    record = read.to_record(row)
                    # Asked by its 15-character id, a record answers with 18 characters.
                    found[record.external_id] = found[record.external_id[:15]] = record
                next_url = response.get("nextRecordsUrl")
                if response.get("done", True) or not next_url:
                    break
                response = self._query_json(f"{what} (more)", _query_more(next_url))
        return [found[i] for i in ids if i in found]

    def _query_json(self, what: str, operation: Callable[[Salesforce], Any]) -> dict[str, Any]:
        body = self._call(what, operation)
        if not isinstance(body, dict):
            raise FatalError(f"Salesforce answered {what} with unexpected JSON: {body!r:.200}")
        return body

    def _describe(self, object_name: str, *, refresh: bool = False) -> FieldDefinitions:
        """An object's fields and child relationships, described once per instance."""
        if object_name not in self._described or refresh:
            describe = self._call(
                f"{object_name} describe",
                lambda sf: sf.restful(f"sobjects/{object_name}/describe"),
            )
            self._described[object_name] = FieldDefinitions.from_describe(describe or {})
        return self._described[object_name]

    def _field_definitions(self, *, refresh: bool = False) -> FieldDefinitions:
        """The org's Account fields, described once per instance."""
        described = OBJECT_NAME in self._described
        definitions = self._describe(OBJECT_NAME, refresh=refresh)
        if refresh or not described:
            absent = [name for name in self.mapping.fields_to_read() if name not in definitions]
            if absent:
                log.warning("Salesforce Account has no fields %s: they read as empty", absent)
        return definitions

    # -- writing ---------------------------------------------------------------------------

    def write_batch(self, updates: Sequence[WriteBack]) -> list[WriteResult]:
        """Write up to 200 verdicts in one sObject Collections update; one result per update,
        in order.

        Raises RetriableError when Salesforce stays unavailable or the API allocation is used
        up, FatalError when it refuses the session. Values Salesforce would refuse fail their
        record without being sent.
        """
        if len(updates) > self.max_write_batch:
            raise ValueError(
                f"at most {self.max_write_batch} updates per batch, got {len(updates)}"
            )
        refused: dict[int, WriteResult] = {}
        # One record per id: later updates of the same account win.
        payload: dict[str, dict[str, Any]] = {}
        for index, update in enumerate(updates):
            if not _is_record_id(update.external_id):
                refused[index] = WriteResult(
                    update.external_id,
                    ok=False,
                    error=f"{update.external_id!r} is not a Salesforce record id",
                )
                continue
            try:
                fields = writeback_fields(update.values)
            except ValueError as exc:
                refused[index] = WriteResult(update.external_id, ok=False, error=str(exc))
                continue
            payload.setdefault(update.external_id, {}).update(fields)
        outcomes = self._send_updates({i: f for i, f in payload.items() if f})
        return [
            refused.get(index)
            or outcomes.get(update.external_id)
            or WriteResult(update.external_id, ok=True)
            for index, update in enumerate(updates)
        ]

    def _send_updates(self, payload: Mapping[str, dict[str, Any]]) -> dict[str, WriteResult]:
        if not payload:
            return {}
        body = update_records(payload)
        try:
            response = self._call(
                "Account update",
                lambda sf: sf.restful("composite/sobjects", method="PATCH", json=body),
            )
        except SalesforceRequestError as exc:
            if exc.status in (401, 403):
                raise
            # A request Salesforce cannot parse (an unknown field, say) fails every record.
            message = f"Salesforce refused the update ({exc.status} {exc.error_code}): {exc.detail}"
            return {i: WriteResult(i, ok=False, error=message) for i in payload}
        return save_results(list(payload), response)

    # -- schema ----------------------------------------------------------------------------

    def ensure_schema(self) -> SchemaReport:
        """Check the ``ICP_*__c`` Account fields: present and writable, or missing with how to
        create (or fix) each one. Nothing is created: custom fields are an admin's change."""
        report = SchemaReport()
        definitions = self._field_definitions(refresh=True)
        for spec in ICP_FIELDS.values():
            problem = schema_problem(spec, definitions.fields.get(spec.name))
            if problem is None:
                report.present.append(spec.name)
            else:
                report.missing[spec.name] = problem
        return report


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
