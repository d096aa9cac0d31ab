"""The contract between icp-sync and a CRM: canonical records and the Connector protocol.

Nothing here imports ``app``: a connector knows CRMs, not our database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar, runtime_checkable
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors import normalize

_BARE_HOST = re.compile(r"[a-z0-9.-]+")


def domain_of(value: Any) -> str | None:
    """``https://www.Acme.com/about`` → ``acme.com``: the host of a website, lower-cased."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if not text:
        return None
    # A bare host (most CRM domains, every e-mail's) is its own host: urlsplit would say so
    # too, at ten times the cost, for every company and contact a sync reads.
    host = (
        text
        if _BARE_HOST.fullmatch(text)
        else urlsplit(text if "//" in text else f"//{text}").hostname or ""
    )
    return host.removeprefix("www.") or None


class CanonicalAccount(BaseModel):
    """A company in the one shape every connector maps to (DESIGN §3.1).

    Values are normalised at the edge: numbers and booleans parsed from CRM strings,
    countries to ISO alpha-2, ``;``-separated lists split.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: str | None = None
    name: str | None = None
    domain: str | None = None
    industry: str | None = None
    employees: int | None = None
    annual_revenue: float | None = None
    country: str | None = None
    region: str | None = None
    city: str | None = None
    funding_stage: str | None = None
    total_funding: float | None = None
    founded_year: int | None = None
    tech_stack: list[str] | None = None
    lifecycle_stage: str | None = None
    is_customer: bool | None = None
    open_deals: int | None = None
    # Roll-ups of synced deals and contacts (DESIGN §8); given here for what-if and CSV.
    won_deals: int | None = None
    lost_deals: int | None = None
    won_amount: float | None = None
    last_won_at: datetime | None = None
    contacts: int | None = None
    lifetime_value: float | None = None
    nps: int | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    crm_updated_at: datetime | None = None
    archived: bool = False

    @field_validator(
        "employees",
        "founded_year",
        "open_deals",
        "won_deals",
        "lost_deals",
        "contacts",
        "nps",
        mode="before",
    )
    @classmethod
    def _int(cls, value: Any) -> int | None:
        return normalize.to_int(value)

    @field_validator(
        "annual_revenue", "total_funding", "won_amount", "lifetime_value", mode="before"
    )
    @classmethod
    def _float(cls, value: Any) -> float | None:
        return normalize.to_float(value)

    @field_validator("is_customer", "archived", mode="before")
    @classmethod
    def _bool(cls, value: Any) -> bool | None:
        return normalize.to_bool(value)

    @field_validator("country", mode="before")
    @classmethod
    def _country(cls, value: Any) -> str | None:
        return normalize.to_country(value) if value is not None else None

    @field_validator("tech_stack", mode="before")
    @classmethod
    def _list(cls, value: Any) -> list[str] | None:
        return normalize.to_str_list(value)

    @field_validator("domain", mode="before")
    @classmethod
    def _domain(cls, value: Any) -> str | None:
        return domain_of(value)

    def scoring_view(self) -> dict[str, Any]:
        """The plain dict the scoring core reads (no Nones, JSON-ready)."""
        return self.model_dump(mode="json", exclude_none=True, exclude={"external_id"})


def text_value(value: Any) -> str | None:
    """A CRM value as trimmed text (a list joined with ``; ``); blank is None."""
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    text = str(value).strip() if value is not None else ""
    return text or None


# How each mappable canonical field is parsed from a CRM value (enumeration codes already turned
# into labels); external_id, archived and crm_updated_at come from each record's envelope.
FIELD_PARSERS: Mapping[str, Callable[[Any], Any]] = {
    "name": text_value,
    "domain": domain_of,
    "industry": text_value,
    "employees": normalize.to_int,
    "annual_revenue": normalize.to_float,
    "country": normalize.to_country,
    "region": text_value,
    "city": text_value,
    "funding_stage": text_value,
    "total_funding": normalize.to_float,
    "founded_year": normalize.to_int,
    "tech_stack": normalize.to_str_list,
    "lifecycle_stage": text_value,
    "is_customer": normalize.to_bool,
    "open_deals": normalize.to_int,
    "lifetime_value": normalize.to_float,
    "nps": normalize.to_int,
}


# Canonical fields that come from a record's envelope, never from a mapped CRM field.
UNMAPPABLE_FIELDS = frozenset({"external_id", "archived", "crm_updated_at", "attributes"})


def mapped_sources(defaults: Mapping[str, str], field_map: Any) -> dict[str, str]:
    """A connector's default sources overridden by a connection's ``field_map`` (a None or
    empty source unmaps the field); FatalError for a field that cannot be mapped."""
    sources = dict(defaults)
    for canonical, source in dict(field_map or {}).items():
        if canonical in UNMAPPABLE_FIELDS or canonical not in FIELD_PARSERS:
            raise FatalError(
                f"field_map names {canonical!r}, which is not a mappable canonical field; "
                f"use one of {', '.join(sorted(FIELD_PARSERS))}"
            )
        if source in (None, ""):
            sources.pop(canonical, None)
        else:
            sources[canonical] = str(source).strip()
    return sources


def extra_attribute_sources(setting: Any) -> dict[str, str]:
    """A connection's ``extra_properties`` as {attribute name: CRM property}: a list keeps the
    CRM's names (``["Has_SEO__c"]`` → ``attributes.Has_SEO__c``), a dict renames
    (``{"has_inhouse_seo": "Has_SEO__c"}`` → ``attributes.has_inhouse_seo``), so one ICP can
    read the same fact from CRMs that name it differently."""
    if not setting:
        return {}
    if isinstance(setting, Mapping):
        return {str(name): str(source) for name, source in setting.items()}
    return {str(source): str(source) for source in setting}


@dataclass(frozen=True, slots=True)
class CrmVerdict:
    """The verdict a CRM record holds in icp-sync's own fields, as read back (None: empty).

    A full sync compares it with the verdict icp-sync stands by and writes again wherever they
    differ: a rep's hand edit, or a CRM restore, is repaired. Values that do not parse (a score
    of "high", a flag of "maybe") read as None, which differs from anything icp-sync writes.
    """

    score: float | None = None
    tier: str | None = None
    is_mql: bool | None = None
    is_sql: bool | None = None
    version: str | None = None

    @classmethod
    def parse(cls, values: Mapping[str, Any]) -> CrmVerdict:
        """From raw CRM values keyed by canonical write-back name (``score``, ``tier``, ...)."""

        def flag(value: Any) -> bool | None:
            try:
                return normalize.to_bool(value)
            except ValueError:
                return None

        try:
            score = normalize.to_float(values.get("score"))
        except ValueError:
            score = None
        return cls(
            score=score,
            tier=text_value(values.get("tier")),
            is_mql=flag(values.get("is_mql")),
            is_sql=flag(values.get("is_sql")),
            version=text_value(values.get("version")),
        )


@dataclass(slots=True)
class AccountRecord:
    """One CRM record mapped to canonical fields, as a connector hands it over; with the
    verdict its icp-sync fields hold when the connector read them (None when it did not)."""

    external_id: str
    fields: dict[str, Any]
    archived: bool = False
    crm_updated_at: datetime | None = None
    crm_verdict: CrmVerdict | None = None


@dataclass(slots=True)
class DealRecord:
    """One CRM deal (HubSpot deal, Salesforce Opportunity), as DESIGN §8 stores it.

    Won and lost come from the CRM's own stage metadata (HubSpot pipeline stages' ``isClosed``
    and ``probability``, Salesforce ``IsClosed``/``IsWon``), never from stage names. A stage the
    CRM no longer knows (a deleted stage) reads as open with ``stage_known=False``.
    """

    external_id: str
    account_external_ids: list[str]
    name: str | None = None
    pipeline: str | None = None
    stage: str | None = None
    is_closed: bool = False
    is_won: bool = False
    amount: float | None = None
    created_at: datetime | None = None
    closed_at: datetime | None = None
    crm_updated_at: datetime | None = None
    archived: bool = False
    stage_known: bool = True
    # The deal's people and their explicit role on it (Salesforce OpportunityContactRole.Role),
    # by contact id; HubSpot's deal-contact associations carry no role (None).
    contact_roles: dict[str, str | None] = field(default_factory=dict)


@dataclass(slots=True)
class ContactRecord:
    """One CRM contact (HubSpot contact, Salesforce Contact), as DESIGN §8 stores it."""

    external_id: str
    account_external_ids: list[str]
    name: str | None = None
    email_domain: str | None = None
    title: str | None = None
    department: str | None = None
    # The CRM's explicit buying role, where it has one on the contact (HubSpot hs_buying_role;
    # Salesforce keeps roles per deal, in DealRecord.contact_roles).
    buying_role: str | None = None
    crm_updated_at: datetime | None = None
    archived: bool = False


RecordT = TypeVar("RecordT", AccountRecord, DealRecord, ContactRecord)
AnyRecord = AccountRecord | DealRecord | ContactRecord


@dataclass(slots=True)
class Page(Generic[RecordT]):
    """One page of a read, and the cursor to resume after it."""

    records: list[RecordT]
    cursor: dict[str, Any]


# The verdict fields written back to the CRM (DESIGN §3.4), by their canonical key. Each
# connector maps them to its own field names (icp_fit_score, ICP_Fit_Score__c, ...).
WRITEBACK_FIELDS = ("score", "tier", "is_mql", "is_sql", "reasons", "version", "scored_at")
# The ones read back and compared with what icp-sync stands by (reasons and scored_at are not:
# a change of wording or of time alone costs no write, DESIGN §3.4).
VERDICT_KEYS = ("score", "tier", "is_mql", "is_sql", "version")


def iso_utc(moment: datetime) -> str:
    """A timestamp as read cursors hold it: UTC, milliseconds, ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso_utc(value: Any) -> datetime | None:
    """A timestamp written by ``iso_utc`` (or any ISO 8601), as an aware UTC datetime."""
    if value is None or value == "":
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class ReadProgress:
    """Where an account read is, as the cursor its sync run stores after every page: the
    phase, when the read began, since when it reads changes, the latest modification seen,
    and where the CRM's paging stands (``position``, per connector).

    A read begins in ``FULL_READ_PHASES[0]`` (every account) or ``"changed"`` (accounts
    modified since the last read's resting cursor, minus a lookback)."""

    FULL_READ_PHASES: ClassVar[tuple[str, ...]]

    def __init__(self, cursor: Mapping[str, Any]) -> None:
        self.phase: str = cursor["phase"]
        self.since: str | None = cursor.get("since")
        self.started_at: str = cursor["started_at"]
        self.max_modified: datetime | None = parse_iso_utc(cursor.get("max_modified"))

    @classmethod
    def start(cls, cursor: Mapping[str, Any] | None, *, full: bool, lookback: timedelta) -> Self:
        """Resume ``cursor``, or begin a new read: an interrupted full read always resumes;
        an interrupted incremental one unless a full read is asked for now."""
        phase = (cursor or {}).get("phase")
        if cursor and (phase in cls.FULL_READ_PHASES or (phase == "changed" and not full)):
            return cls(cursor)
        now = iso_utc(datetime.now(UTC))
        since = parse_iso_utc((cursor or {}).get("modified_since"))
        if full or since is None:
            return cls({"phase": cls.FULL_READ_PHASES[0], "started_at": now})
        return cls({"phase": "changed", "started_at": now, "since": iso_utc(since - lookback)})

    def saw(self, records: Sequence[AnyRecord]) -> None:
        """Raise the high-water mark to the latest modification in ``records``."""
        for record in records:
            moment = record.crm_updated_at
            if moment is not None and (self.max_modified is None or moment > self.max_modified):
                self.max_modified = moment

    def position(self) -> dict[str, Any]:
        """Where the CRM's paging stands, for resuming."""
        raise NotImplementedError

    def cursor(self) -> dict[str, Any]:
        """Resume right here."""
        return {
            "phase": self.phase,
            "started_at": self.started_at,
            "max_modified": iso_utc(self.max_modified) if self.max_modified else None,
        } | self.position()

    def resting_cursor(self) -> dict[str, Any]:
        """Where the next incremental read starts once this one is done: the latest change
        seen, or when this read began if that is earlier (changes made while it ran)."""
        started = parse_iso_utc(self.started_at)
        assert started is not None
        mark = min(self.max_modified, started) if self.max_modified else started
        return {"modified_since": iso_utc(mark)}


@dataclass(slots=True, frozen=True)
class WriteBack:
    """The verdict to write onto one CRM record: ``values`` keyed by WRITEBACK_FIELDS
    (score int, tier "A"-"D", is_mql/is_sql bool, reasons str, version str, scored_at
    ISO 8601 str), plus ``"lifecycle_stage"`` when the connection promotes stages."""

    external_id: str
    values: dict[str, Any]


@dataclass(slots=True, frozen=True)
class WriteResult:
    """The CRM's verdict on one record of a batch write."""

    external_id: str
    ok: bool
    error: str | None = None
    retriable: bool = False


@dataclass(slots=True)
class SchemaReport:
    """What ``ensure_schema`` found: fields created, present, and missing with how to fix."""

    created: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every write-back field exists."""
        return not self.missing


class ConnectorError(Exception):
    """Base of connector failures."""


class RetriableError(ConnectorError):
    """Worth retrying later: 429, 5xx, timeouts, daily limits."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FatalError(ConnectorError):
    """Retrying will not help until someone fixes something: 400, 401, 403, missing fields."""


class RateLimiter(Protocol):
    """Spaces a connection's API calls; shared by every worker of that connection."""

    def acquire(self) -> None:
        """Block until one more call may be made now."""
        ...

    def penalise(self, seconds: float) -> None:
        """The CRM said 'slow down' (429): make every worker wait ``seconds``."""
        ...


# Told the outcome of every HTTP attempt a connector makes: the status code the CRM answered
# ("200", "429", "503", ...) or NO_ANSWER when none came (timeout, dropped connection). The
# service counts them for /metrics; connectors stay free of any metrics library.
CallObserver = Callable[[str], None]
NO_ANSWER = "no_answer"


def ignore_call(status: str) -> None:
    """The observer of a connector nobody watches."""


class Connector(Protocol):
    """What a CRM connector does; the sync pipeline needs nothing else."""

    kind: ClassVar[str]
    max_write_batch: ClassVar[int]

    @property
    def api_calls(self) -> int:
        """CRM API calls made so far by this instance."""
        ...

    def read_pages(self, *, cursor: dict[str, Any] | None, full: bool) -> Iterator[Page]:
        """Companies changed since ``cursor`` (or all, when ``full``), page by page."""
        ...

    def read_by_ids(self, external_ids: Sequence[str]) -> list[AccountRecord]:
        """The current state of the given records (missing ones are left out)."""
        ...

    def write_batch(self, updates: Sequence[WriteBack]) -> list[WriteResult]:
        """Write up to ``max_write_batch`` updates; one result per update, in order."""
        ...

    def ensure_schema(self) -> SchemaReport:
        """Create the ``icp_*`` fields when the CRM allows it; report what is missing."""
        ...


@runtime_checkable
class OutcomeReader(Protocol):
    """What a connector reads besides companies: deals and contacts (DESIGN §8)."""

    def read_deal_pages(
        self, *, cursor: dict[str, Any] | None, full: bool
    ) -> Iterator[Page[DealRecord]]:
        """Deals changed since ``cursor`` (or all, when ``full``), deleted ones archived, with
        the companies they are associated to, page by page."""
        ...

    def read_contact_pages(
        self, *, cursor: dict[str, Any] | None, full: bool
    ) -> Iterator[Page[ContactRecord]]:
        """Contacts changed since ``cursor`` (or all, when ``full``), deleted ones archived,
        with the companies they are associated to, page by page."""
        ...

    def read_deals_by_ids(self, external_ids: Sequence[str]) -> list[DealRecord]:
        """The current state of the given deals (missing ones are left out)."""
        ...

    def read_contacts_by_ids(self, external_ids: Sequence[str]) -> list[ContactRecord]:
        """The current state of the given contacts (missing ones are left out)."""
        ...
