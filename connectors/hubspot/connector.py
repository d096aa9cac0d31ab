"""The HubSpot connector: companies, deals and contacts in, ``icp_*`` verdicts out, through
hubspot-api-client.

Reads (companies, deals and contacts alike)
    ``full``: the list (``GET /crm/v3/objects/{type}``, 100 a page), then the archived list, so
    records deleted in HubSpot come back with ``archived=True``. Deals and contacts ask for
    their company associations inline (``associations=companies``): no extra call.
    Incremental: search for ``hs_lastmodifieddate >= since - lookback`` (contacts:
    ``lastmodifieddate``), sorted by ``hs_object_id`` and paged by keyset (each page asks for
    ``hs_object_id > last id``), so the 10,000-result cap of one search is never reached however
    many records share a timestamp. Search results carry no associations: a page of deals or
    contacts costs one search and one v4 association batch read. Search never returns archived
    records: deletions arrive by webhook, and the next full sync marks any that were missed.
    Deals' won/lost comes from the deal pipelines (``GET /crm/v3/pipelines/deals``), read once
    per connector instance (see ``connectors.hubspot.outcomes``).

Cursors are small JSON dicts. Between syncs: ``{"modified_since": "<ISO 8601>"}``. Inside a
read, each page's cursor resumes right after it::

    {"phase": "live" | "archived", "after": "<list paging token or null>", ...}
    {"phase": "changed", "since": "<ISO, lookback applied>", "after_id": "<id or null>", ...}

both with ``"started_at"`` and ``"max_modified"`` (ISO or null). The last page of every read
(possibly empty) carries the resting cursor: the latest ``hs_lastmodifieddate`` seen, capped at
the read's start so changes made while it ran are read next time; the start time if nothing
was seen.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Final, Generic

import orjson
from hubspot import HubSpot
from hubspot.crm.properties import OptionInput, PropertyCreate, PropertyGroupCreate

from connectors.base import (
    AccountRecord,
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
from connectors.hubspot.mapping import (
    ICP_GROUP,
    ICP_PROPERTIES,
    IDEAL_CUSTOMER_PROFILE_PROPERTY,
    LIFECYCLE_PROPERTY,
    MODIFIED_PROPERTY,
    PropertyDefinitions,
    PropertyInfo,
    PropertyMapping,
    PropertySpec,
    parse_hubspot_datetime,
    writeback_properties,
)
from connectors.hubspot.outcomes import (
    CONTACT_MODIFIED_PROPERTY,
    DEAL_PROPERTIES,
    DEFAULT_DEPARTMENT_PROPERTY,
    DealStages,
    associated_ids,
    contact_properties,
    contact_record,
    deal_record,
)
from connectors.hubspot.retry import HubSpotCaller, HubSpotRequestError
from connectors.normalize import without_nul

__all__ = ["HubSpotConnector"]

log = logging.getLogger(__name__)

COMPANIES: Final = "companies"
LIST_LIMIT: Final = 100
SEARCH_LIMIT: Final = 200
BATCH_LIMIT: Final = 100
ASSOCIATION_BATCH_LIMIT: Final = 1000
DEFAULT_LOOKBACK_SECONDS: Final = 300.0
# Per-record batch errors worth retrying; anything else (not found, invalid value) needs a fix.
_TRANSIENT_CATEGORIES: Final = frozenset(
    {"RATE_LIMITS", "INTERNAL_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT", "GATEWAY_TIMEOUT"}
)
# Types a property may already have and still take what icp-sync writes into it.
_COMPATIBLE_TYPES: Final = {
    "number": {"number"},
    "enumeration": {"enumeration"},
    "bool": {"bool", "enumeration"},  # older portals define booleans as enumerations
    "string": {"string"},
    "datetime": {"datetime"},
}


def _epoch_ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Progress(ReadProgress):
    """A HubSpot read of one object type: the live list, then the archived list (full); or a
    search on the modification date keyset-paged on ``hs_object_id`` (changed)."""

    FULL_READ_PHASES = ("live", "archived")

    def __init__(self, cursor: Mapping[str, Any]) -> None:
        super().__init__(cursor)
        self.after: str | None = cursor.get("after")
        self.after_id: str | None = cursor.get("after_id")

    def position(self) -> dict[str, Any]:
        if self.phase == "changed":
            return {"since": self.since, "after_id": self.after_id}
        return {"after": self.after}


class _Apis:
    """One object type's client APIs (``basic_api``, ``search_api``, ``batch_api``), each
    made once. hubspot-api-client makes a new API client on every attribute access, with its
    own connection pool: a new TCP connection, and the package's metadata read again, for
    every call."""

    def __init__(self, discovery: Any) -> None:
        self._discovery = discovery
        self._made: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        with self._lock:
            if name not in self._made:
                self._made[name] = getattr(self._discovery, name)
            return self._made[name]


# Builds one record from a raw JSON item and the ids of the companies it is associated to.
_Build = Callable[[Mapping[str, Any], Sequence[str]], RecordT]


@dataclass(frozen=True, slots=True)
class _ObjectReads(Generic[RecordT]):
    """How one object type is read: its client APIs (``basic_api``, ``search_api``,
    ``batch_api``), the scope a token needs for it, its modification date, whether its
    company associations are read with it, and ``prepare``, which says (once per read, after
    any lookup it needs: property definitions, pipelines) what to ask for and how to build a
    record from an answer."""

    plural: str
    singular: str
    scope: str
    modified_property: str
    apis: _Apis
    associated: bool
    prepare: Callable[[], tuple[list[str], _Build[RecordT]]]


class HubSpotConnector:
    """Companies of one HubSpot portal (private-app access token), per DESIGN §3.1 and §3.4,
    and its deals and contacts (§8).

    Settings: ``field_map`` ({canonical field: property}, over the defaults; None unmaps),
    ``extra_properties`` (read into ``attributes`` by property name, typed by definition),
    ``lookback_seconds`` (300), ``write_ideal_customer_profile`` (also set the native
    ``hs_ideal_customer_profile``: A→tier_1, B→tier_2, C→tier_3, D→unset) and
    ``promote_lifecycle`` (move ``lifecyclestage`` forward to MQL/SQL, never backwards: the
    write-back values must carry the stage as last read in ``current_lifecycle_stage``),
    ``contact_department_property`` (the contact property holding a department: HubSpot has
    none of its own; ``department`` by default, read as None where the portal lacks it).
    """

    kind: ClassVar[str] = "hubspot"
    max_write_batch: ClassVar[int] = BATCH_LIMIT

    def __init__(
        self,
        *,
        access_token: str,
        base_url: str = "https://api.hubapi.com",
        settings: Mapping[str, Any] | None = None,
        rate_limiter: RateLimiter | None = None,
        timeout: float = 30.0,
        max_attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
        observe_call: CallObserver = ignore_call,
    ) -> None:
        settings = settings or {}
        self.mapping = PropertyMapping.from_settings(settings)
        self.lookback = timedelta(
            seconds=float(settings.get("lookback_seconds", DEFAULT_LOOKBACK_SECONDS))
        )
        self.write_ideal_customer_profile = bool(settings.get("write_ideal_customer_profile"))
        self.promote_lifecycle = bool(settings.get("promote_lifecycle"))
        department = settings.get("contact_department_property", DEFAULT_DEPARTMENT_PROPERTY)
        self.department_property: str | None = str(department) if department else None
        # retry=False: urllib3 must not retry behind our back (uncounted, and never for POST).
        client = HubSpot(access_token=access_token, host=base_url.rstrip("/"), retry=False)
        crm = client.crm
        self._batch_api = crm.companies.batch_api
        self._properties_api = crm.properties.core_api
        self._groups_api = crm.properties.groups_api
        self._pipelines_api = crm.pipelines.pipelines_api
        self._associations_api = crm.associations.v4.batch_api
        self._companies: _ObjectReads[AccountRecord] = _ObjectReads(
            plural=COMPANIES,
            singular="company",
            scope="crm.objects.companies.read",
            modified_property=MODIFIED_PROPERTY,
            apis=_Apis(crm.companies),
            associated=False,
            prepare=self._companies_prepared,
        )
        self._deals: _ObjectReads[DealRecord] = _ObjectReads(
            plural="deals",
            singular="deal",
            scope="crm.objects.deals.read",
            modified_property=MODIFIED_PROPERTY,
            apis=_Apis(crm.deals),
            associated=True,
            prepare=self._deals_prepared,
        )
        self._contacts: _ObjectReads[ContactRecord] = _ObjectReads(
            plural="contacts",
            singular="contact",
            scope="crm.objects.contacts.read",
            modified_property=CONTACT_MODIFIED_PROPERTY,
            apis=_Apis(crm.contacts),
            associated=True,
            prepare=self._contacts_prepared,
        )
        self._call = HubSpotCaller(
            rate_limiter=rate_limiter,
            sleep=sleep,
            max_attempts=max_attempts,
            timeout=timeout,
            observe_call=observe_call,
        )
        self._definitions: PropertyDefinitions | None = None
        self._stages: DealStages | None = None

    @property
    def api_calls(self) -> int:
        """HTTP attempts made so far by this instance, retries included."""
        return self._call.calls

    # -- reading ---------------------------------------------------------------------------

    def read_pages(self, *, cursor: dict[str, Any] | None, full: bool) -> Iterator[Page]:
        """Companies changed since ``cursor`` (or all, live then archived, when ``full`` or
        when there is no cursor yet), page by page; a page's cursor resumes after it."""
        return self._read_pages(self._companies, cursor, full=full)

    def read_deal_pages(
        self, *, cursor: dict[str, Any] | None, full: bool
    ) -> Iterator[Page[DealRecord]]:
        """Deals changed since ``cursor`` (or all, live then archived), with the companies
        they are associated to and won/lost from their pipeline stage, page by page."""
        with self._scope(self._deals):
            yield from self._read_pages(self._deals, cursor, full=full)

    def read_contact_pages(
        self, *, cursor: dict[str, Any] | None, full: bool
    ) -> Iterator[Page[ContactRecord]]:
        """Contacts changed since ``cursor`` (or all, live then archived), with the companies
        they are associated to, page by page."""
        with self._scope(self._contacts):
            yield from self._read_pages(self._contacts, cursor, full=full)

    def _read_pages(
        self, reads: _ObjectReads[RecordT], cursor: Mapping[str, Any] | None, *, full: bool
    ) -> Iterator[Page[RecordT]]:
        progress = _Progress.start(cursor, full=full, lookback=self.lookback)
        if progress.phase == "changed":
            yield from self._read_changed(reads, progress)
            return
        if progress.phase == "live":
            yield from self._read_list(reads, progress, archived=False)
        yield from self._read_list(reads, progress, archived=True)

    def _read_list(
        self, reads: _ObjectReads[RecordT], progress: _Progress, *, archived: bool
    ) -> Iterator[Page[RecordT]]:
        properties, build = reads.prepare()
        what = f"archived {reads.plural} list" if archived else f"{reads.plural} list"
        # The companies come inline with each page: no association call for a full read.
        inline = {"associations": [COMPANIES]} if reads.associated else {}
        while True:
            response = self._read_json(
                what,
                reads.apis.basic_api.get_page,
                limit=LIST_LIMIT,
                after=progress.after,
                properties=properties,
                archived=archived,
                **inline,
            )
            records = self._build(reads, response.get("results") or [], build, inline=True)
            progress.saw(records)
            progress.after = ((response.get("paging") or {}).get("next") or {}).get("after")
            if progress.after is not None:
                yield Page(records, progress.cursor())
                continue
            if archived:
                yield Page(records, progress.resting_cursor())
            else:
                progress.phase = "archived"
                yield Page(records, progress.cursor())
            return

    def _read_changed(
        self, reads: _ObjectReads[RecordT], progress: _Progress
    ) -> Iterator[Page[RecordT]]:
        properties, build = reads.prepare()
        since = parse_hubspot_datetime(progress.since)
        assert since is not None
        while True:
            filters = [
                {
                    "propertyName": reads.modified_property,
                    "operator": "GTE",
                    "value": _epoch_ms(since),
                }
            ]
            if progress.after_id is not None:
                # Keyset paging: every page is a fresh search starting after the last id, so
                # no search ever pages near the 10,000-result cap, and no offset can shift
                # when records change mid-read.
                filters.insert(
                    0,
                    {"propertyName": "hs_object_id", "operator": "GT", "value": progress.after_id},
                )
            # A plain dict in the request model's JSON shape, as for batch updates.
            request = {
                "filterGroups": [{"filters": filters}],
                "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
                "properties": properties,
                "limit": SEARCH_LIMIT,
            }
            response = self._read_json(
                f"{reads.plural} search",
                reads.apis.search_api.do_search,
                public_object_search_request=request,
            )
            results = response.get("results") or []
            # Search results carry no associations: one v4 batch read for the whole page.
            records = self._build(reads, results, build, inline=False)
            progress.saw(records)
            if not results or not response.get("paging"):
                yield Page(records, progress.resting_cursor())
                return
            last_id = str(results[-1]["id"])
            if progress.after_id is not None and int(last_id) <= int(progress.after_id):
                raise FatalError(
                    f"HubSpot search did not advance past {reads.singular} {progress.after_id}; "
                    "refusing to loop"
                )
            progress.after_id = last_id
            yield Page(records, progress.cursor())

    def _build(
        self,
        reads: _ObjectReads[RecordT],
        items: Sequence[Mapping[str, Any]],
        build: _Build[RecordT],
        *,
        inline: bool,
    ) -> list[RecordT]:
        """Records from raw JSON items, with their companies: those listed inline, the rest
        (all of them, when ``inline`` is False) from one v4 association batch read."""
        if not reads.associated:
            return [build(item, ()) for item in items]
        links: dict[str, list[str]] = {}
        unlisted: list[str] = []
        for item in items:
            listed = associated_ids(item, COMPANIES) if inline else None
            if listed is None:
                unlisted.append(str(item["id"]))
            else:
                links[str(item["id"])] = listed
        if unlisted:
            links.update(self._company_links(reads, unlisted))
        return [build(item, links.get(str(item["id"]), ())) for item in items]

    def _company_links(self, reads: _ObjectReads[Any], ids: Sequence[str]) -> dict[str, list[str]]:
        """The companies each record is associated to (v4 batch read, 1,000 ids a call; a
        record with more links than one answer holds is asked again from where it stopped).
        Records without companies are left out (HubSpot lists them as errors of a 207)."""
        links: dict[str, list[str]] = {}
        pending: list[dict[str, str]] = [{"id": i} for i in ids]
        while pending:
            inputs, pending = pending[:ASSOCIATION_BATCH_LIMIT], pending[ASSOCIATION_BATCH_LIMIT:]
            response = self._read_json(
                f"{reads.singular}-company associations read",
                self._associations_api.get_page,
                from_object_type=reads.plural,
                to_object_type=COMPANIES,
                batch_input_public_fetch_associations_batch_request={"inputs": inputs},
            )
            for result in response.get("results") or []:
                from_id = str(result["from"]["id"])
                found = links.setdefault(from_id, [])
                found.extend(str(link["toObjectId"]) for link in result.get("to") or [])
                after = ((result.get("paging") or {}).get("next") or {}).get("after")
                if after:
                    pending.append({"id": from_id, "after": str(after)})
        return {i: list(dict.fromkeys(found)) for i, found in links.items()}

    def read_by_ids(self, external_ids: Sequence[str]) -> list[AccountRecord]:
        """The given companies as they are now, in the order asked; archived ones come back
        with ``archived=True``, ids HubSpot does not know are left out."""
        return self._read_by_ids(self._companies, external_ids)

    def read_deals_by_ids(self, external_ids: Sequence[str]) -> list[DealRecord]:
        """The given deals as they are now, with their companies, in the order asked;
        archived ones come back with ``archived=True``, unknown ids are left out."""
        with self._scope(self._deals):
            return self._read_by_ids(self._deals, external_ids)

    def read_contacts_by_ids(self, external_ids: Sequence[str]) -> list[ContactRecord]:
        """The given contacts as they are now, with their companies, in the order asked;
        archived ones come back with ``archived=True``, unknown ids are left out."""
        with self._scope(self._contacts):
            return self._read_by_ids(self._contacts, external_ids)

    def _read_by_ids(
        self, reads: _ObjectReads[RecordT], external_ids: Sequence[str]
    ) -> list[RecordT]:
        ids = list(dict.fromkeys(str(i) for i in external_ids))
        if not ids:
            return []
        properties, build = reads.prepare()
        found: dict[str, Mapping[str, Any]] = {}
        for archived in (False, True):
            wanted = [i for i in ids if i not in found]
            for chunk in _chunks(wanted, BATCH_LIMIT):
                found.update(self._batch_read(reads, chunk, properties, archived=archived))
        records = self._build(reads, list(found.values()), build, inline=False)
        by_id = {record.external_id: record for record in records}
        return [by_id[i] for i in ids if i in by_id]

    def _batch_read(
        self,
        reads: _ObjectReads[Any],
        ids: Sequence[str],
        properties: list[str],
        *,
        archived: bool,
    ) -> dict[str, Mapping[str, Any]]:
        request = {
            "inputs": [{"id": i} for i in ids],
            "properties": properties,
            "propertiesWithHistory": [],
        }
        # A 207 lists the ids HubSpot could not find: those are simply not returned.
        response = self._read_json(
            f"{reads.plural} batch read",
            reads.apis.batch_api.read,
            batch_read_input_simple_public_object_id=request,
            archived=archived,
        )
        return {str(item["id"]): item for item in response.get("results") or []}

    @contextlib.contextmanager
    def _scope(self, reads: _ObjectReads[Any]) -> Iterator[None]:
        """Turn HubSpot's 403 into the scope the private app lacks."""
        try:
            yield
        except HubSpotRequestError as exc:
            if exc.status != 403:
                raise
            raise FatalError(
                f"HubSpot refused to read {reads.plural} (403): grant the private app the "
                f"{reads.scope} scope ({exc.detail})"
            ) from exc

    def _companies_prepared(self) -> tuple[list[str], _Build[AccountRecord]]:
        definitions = self._property_definitions()

        def build(item: Mapping[str, Any], companies: Sequence[str]) -> AccountRecord:
            return self._record(item, definitions)

        return self.mapping.properties_to_read(definitions), build

    def _deals_prepared(self) -> tuple[list[str], _Build[DealRecord]]:
        stages = self._deal_stages()

        def build(item: Mapping[str, Any], companies: Sequence[str]) -> DealRecord:
            return deal_record(item, companies, stages)

        return list(DEAL_PROPERTIES), build

    def _contacts_prepared(self) -> tuple[list[str], _Build[ContactRecord]]:
        department = self.department_property

        def build(item: Mapping[str, Any], companies: Sequence[str]) -> ContactRecord:
            return contact_record(item, companies, department_property=department)

        return contact_properties(department), build

    def _deal_stages(self) -> DealStages:
        """The portal's deal pipeline stages, read once per instance."""
        if self._stages is None:
            response = self._read_json(
                "deal pipelines read", self._pipelines_api.get_all, object_type="deals"
            )
            self._stages = DealStages.from_api(without_nul(response.get("results") or []))
        return self._stages

    def _read_json(self, what: str, method: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
        """A call's JSON body as plain data. The generated models would double the cost of a
        page, and triple a batch update's (they parse every timestamp), for nothing we use."""
        response = self._call(what, method, _preload_content=False, **kwargs)
        body = orjson.loads(response.data)
        if not isinstance(body, dict):
            raise FatalError(f"HubSpot answered {what} with unexpected JSON: {body!r:.200}")
        return body

    def _record(self, item: Mapping[str, Any], definitions: PropertyDefinitions) -> AccountRecord:
        return self.mapping.to_record(
            str(item["id"]),
            item.get("properties") or {},
            archived=bool(item.get("archived")),
            definitions=definitions,
        )

    def _property_definitions(self, *, refresh: bool = False) -> PropertyDefinitions:
        """The portal's company properties, read once per instance (labels, types)."""
        if self._definitions is None or refresh:
            response = self._call(
                "company properties read", self._properties_api.get_all, COMPANIES
            )
            self._definitions = PropertyDefinitions.from_api(response.results or [])
            absent = [p for p in self.mapping.properties_to_read() if p not in self._definitions]
            if absent:
                log.warning("HubSpot has no company properties %s: they read as empty", absent)
        return self._definitions

    # -- writing ---------------------------------------------------------------------------

    def write_batch(self, updates: Sequence[WriteBack]) -> list[WriteResult]:
        """Write up to 100 verdicts in one batch update; one result per update, in order.

        Raises RetriableError when HubSpot stays unavailable, FatalError when it refuses the
        token. Values HubSpot would refuse fail their record without being sent.
        """
        if len(updates) > self.max_write_batch:
            raise ValueError(
                f"at most {self.max_write_batch} updates per batch, got {len(updates)}"
            )
        definitions = (
            self._property_definitions() if self.promote_lifecycle else PropertyDefinitions()
        )
        refused: dict[int, WriteResult] = {}
        # Duplicate ids would make HubSpot refuse the whole batch: merge them, later wins.
        payload: dict[str, dict[str, str]] = {}
        for index, update in enumerate(updates):
            try:
                properties = writeback_properties(
                    update.values,
                    ideal_customer_profile=self.write_ideal_customer_profile,
                    promote_lifecycle=self.promote_lifecycle,
                    definitions=definitions,
                )
            except ValueError as exc:
                refused[index] = WriteResult(update.external_id, ok=False, error=str(exc))
                continue
            payload.setdefault(update.external_id, {}).update(properties)
        outcomes = self._send_updates({i: p for i, p in payload.items() if p})
        return [
            refused.get(index)
            or outcomes.get(update.external_id)
            or WriteResult(update.external_id, ok=True)
            for index, update in enumerate(updates)
        ]

    def _send_updates(self, payload: Mapping[str, dict[str, str]]) -> dict[str, WriteResult]:
        if not payload:
            return {}
        # A plain dict in the request model's JSON shape: the client serialises it as is,
        # and building a model per record would cost more than the HTTP call.
        request = {
            "inputs": [
                {"id": object_id, "properties": properties}
                for object_id, properties in payload.items()
            ]
        }
        try:
            response = self._read_json(
                "companies batch update",
                self._batch_api.update,
                batch_input_simple_public_object_batch_input=request,
            )
        except HubSpotRequestError as exc:
            if exc.status in (401, 403):
                raise
            # HubSpot validates a batch as a whole: one bad value fails every record.
            message = f"HubSpot refused the batch ({exc.status}): {exc.detail}"
            return {i: WriteResult(i, ok=False, error=message) for i in payload}
        failures: dict[str, WriteResult] = {}
        unattributed: list[Any] = []
        for error in response.get("errors") or []:
            ids = (error.get("context") or {}).get("ids") or []
            retriable = error.get("category") in _TRANSIENT_CATEGORIES
            if not ids:
                unattributed.append(error)
            for object_id in ids:
                failures[str(object_id)] = WriteResult(
                    str(object_id), ok=False, error=error.get("message"), retriable=retriable
                )
        succeeded = {str(item["id"]) for item in response.get("results") or []}
        outcomes: dict[str, WriteResult] = {}
        for object_id in payload:
            if object_id in failures:
                outcomes[object_id] = failures[object_id]
            elif object_id in succeeded or not (unattributed or failures):
                outcomes[object_id] = WriteResult(object_id, ok=True)
            else:
                first = unattributed[0] if unattributed else {}
                outcomes[object_id] = WriteResult(
                    object_id,
                    ok=False,
                    error=first.get("message") or "HubSpot returned no result",
                    retriable=not first or first.get("category") in _TRANSIENT_CATEGORIES,
                )
        return outcomes

    # -- schema ----------------------------------------------------------------------------

    def ensure_schema(self) -> SchemaReport:
        """Create the ``icp_sync`` group and ``icp_*`` properties that are missing (a 409 means
        someone just did); report the native properties the settings rely on."""
        report = SchemaReport()
        definitions = self._property_definitions(refresh=True)
        to_create: list[PropertySpec] = []
        for spec in ICP_PROPERTIES.values():
            existing = definitions.properties.get(spec.name)
            if existing is None:
                to_create.append(spec)
            elif problem := _mismatch(spec, existing):
                report.missing[spec.name] = problem
            else:
                report.present.append(spec.name)
        if to_create:
            blocked = self._create_group()
            for spec in to_create:
                if blocked:
                    report.missing[spec.name] = blocked
                else:
                    self._create_property(spec, report)
            self._definitions = None  # the new properties' options, on the next read
        native = []
        if self.write_ideal_customer_profile:
            native.append(IDEAL_CUSTOMER_PROFILE_PROPERTY)
        if self.promote_lifecycle:
            native.append(LIFECYCLE_PROPERTY)
        for name in native:
            if name in definitions:
                report.present.append(name)
            else:
                report.missing[name] = (
                    f"HubSpot's own {name} property is not available on companies in this "
                    "portal; turn off the setting that writes it"
                )
        return report

    def _create_group(self) -> str | None:
        """Create the ``icp_sync`` group; the reason nothing can be created, if so."""
        name, label = ICP_GROUP
        try:
            self._call(
                "property group create",
                self._groups_api.create,
                COMPANIES,
                PropertyGroupCreate(name=name, label=label, display_order=-1),
            )
        except HubSpotRequestError as exc:
            if exc.status == 409:
                return None
            if exc.status == 403:
                return _MISSING_SCOPE
            return f"could not create the property group {name} ({exc.status}): {exc.detail}"
        return None

    def _create_property(self, spec: PropertySpec, report: SchemaReport) -> None:
        create = PropertyCreate(
            name=spec.name,
            label=spec.label,
            type=spec.type,
            field_type=spec.field_type,
            group_name=ICP_GROUP[0],
            description=spec.description,
            options=[
                OptionInput(label=label, value=value, display_order=order, hidden=False)
                for order, (value, label) in enumerate(spec.options)
            ],
            form_field=False,
            display_order=-1,
        )
        try:
            self._call("property create", self._properties_api.create, COMPANIES, create)
        except HubSpotRequestError as exc:
            if exc.status == 409:
                report.present.append(spec.name)
            elif exc.status == 403:
                report.missing[spec.name] = _MISSING_SCOPE
            else:
                report.missing[spec.name] = (
                    f"could not create it ({exc.status}): {exc.detail}; create it by hand as "
                    f"{spec.type}/{spec.field_type} in the {ICP_GROUP[1]} group"
                )
        else:
            report.created.append(spec.name)


_MISSING_SCOPE: Final = (
    "the access token may not create properties: grant the private app the "
    "crm.schemas.companies.write scope, or create the icp_* properties by hand"
)


def _mismatch(spec: PropertySpec, existing: PropertyInfo) -> str | None:
    """Why an existing property cannot take what icp-sync writes, or None if it can."""
    if existing.type not in _COMPATIBLE_TYPES[spec.type]:
        return (
            f"exists as a {existing.type} property, icp-sync writes a {spec.type}: delete it or "
            "change its type in HubSpot's property settings"
        )
    if spec.type == "enumeration":
        absent = [value for value, _ in spec.options if value not in existing.labels]
        if absent:
            return f"lacks the options {', '.join(absent)}: add them in HubSpot's property settings"
    return None
