"""Salesforce Account fields ⇄ canonical accounts (DESIGN §3.1) and ``ICP_*__c`` write-back (§3.4).

Mostly tables: which Account field feeds which canonical field and how its value is parsed,
which custom fields the write-back needs and how an admin creates them. Salesforce sends
JSON-typed values (numbers, booleans, ``null``), picklist *values* (which are what ICPs are
written in) and multi-select picklists as ``;``-separated strings.

Extra fields (``extra_properties``) land in ``attributes``: a list keeps their API names, so an
ICP refers to ``attributes.Has_Inhouse_SEO__c``; a dict renames them
(``{"has_inhouse_seo": "Has_Inhouse_SEO__c"}`` → ``attributes.has_inhouse_seo``), so one ICP
reads the same fact from HubSpot and Salesforce.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from connectors import normalize
from connectors.base import (
    FIELD_PARSERS,
    VERDICT_KEYS,
    WRITEBACK_FIELDS,
    AccountRecord,
    CrmVerdict,
    FatalError,
    WriteResult,
    extra_attribute_sources,
    mapped_sources,
    text_value,
)

__all__ = [
    "DEFAULT_FIELD_MAP",
    "ICP_FIELDS",
    "FieldDefinitions",
    "FieldMapping",
    "FieldSpec",
    "parse_salesforce_datetime",
    "save_results",
    "schema_problem",
    "update_records",
    "writeback_fields",
]

log = logging.getLogger(__name__)

OBJECT_NAME: Final = "Account"
ID_FIELD: Final = "Id"
MODIFIED_FIELD: Final = "SystemModstamp"
DELETED_FIELD: Final = "IsDeleted"
TYPE_FIELD: Final = "Type"

# -- reading ---------------------------------------------------------------------------------

# Canonical field → Account field, when a connection's field_map says nothing else. Funding,
# founding year, tech stack, open deals, lifetime value and NPS have no standard Account field:
# they are read only when field_map names the org's custom (or rollup) field.
DEFAULT_FIELD_MAP: Final[Mapping[str, str]] = {
    "name": "Name",
    "domain": "Website",
    "industry": "Industry",
    "employees": "NumberOfEmployees",
    "annual_revenue": "AnnualRevenue",
    "country": "BillingCountry",
    "region": "BillingState",
    "city": "BillingCity",
    "lifecycle_stage": TYPE_FIELD,
    "is_customer": TYPE_FIELD,
}


# An Account field's API name: also what keeps field names from smuggling SOQL into a query.
_API_NAME: Final = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# Fields icp-sync writes: reading them back into account data would feed our own verdicts
# into the next score.
_OWN_PREFIX: Final = "icp_"
_NUMBER_TYPES: Final = frozenset({"int", "double", "currency", "percent", "long"})


def parse_salesforce_datetime(value: Any) -> datetime | None:
    """A dateTime value (``2024-01-15T10:30:00.000+0000``, or any ISO 8601) as aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def soql_datetime(moment: datetime) -> str:
    """A SOQL dateTime literal, whole seconds rounded down (SOQL takes no fractions)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """What ``sobjects/Account/describe`` says about one field."""

    type: str
    length: int = 0
    precision: int = 0
    scale: int = 0
    updateable: bool = True
    picklist_values: tuple[str, ...] = ()

    @classmethod
    def from_describe(cls, entry: Mapping[str, Any]) -> FieldInfo:
        """From one element of the describe's ``fields`` list."""
        values = tuple(
            str(option["value"])
            for option in entry.get("picklistValues") or ()
            if option.get("value") is not None and option.get("active", True)
        )
        return cls(
            type=str(entry.get("type") or "string"),
            length=int(entry.get("length") or 0),
            precision=int(entry.get("precision") or 0),
            scale=int(entry.get("scale") or 0),
            updateable=bool(entry.get("updateable", True)),
            picklist_values=values,
        )


@dataclass
class FieldDefinitions:
    """An object's fields by API name, and its child relationships' names, from
    ``sobjects/<object>/describe`` (both as the signed-in user may see them)."""

    fields: dict[str, FieldInfo] = field(default_factory=dict)
    relationships: frozenset[str] = frozenset()

    @classmethod
    def from_describe(cls, describe: Mapping[str, Any]) -> FieldDefinitions:
        """From the describe's JSON body."""
        return cls(
            {
                str(entry["name"]): FieldInfo.from_describe(entry)
                for entry in describe.get("fields") or ()
                if entry.get("name")
            },
            frozenset(
                str(entry["relationshipName"])
                for entry in describe.get("childRelationships") or ()
                if entry.get("relationshipName")
            ),
        )

    def __contains__(self, name: object) -> bool:
        return name in self.fields

    def typed(self, name: str, value: Any) -> Any:
        """An extra field's value as its type says: bool, int or float, list for multi-select
        picklists, text otherwise; None when empty or unreadable."""
        if value is None or value == "":
            return None
        info = self.fields.get(name)
        kind = info.type if info is not None else None
        try:
            if kind == "boolean" or isinstance(value, bool):
                return normalize.to_bool(value)
            if kind in _NUMBER_TYPES or isinstance(value, int | float):
                number = normalize.to_float(value)
                return int(number) if number is not None and number.is_integer() else number
            if kind == "multipicklist":
                return normalize.to_str_list(value)
        except ValueError:
            log.debug("Account field %s: unreadable value %r", name, value)
            return None
        return value


@dataclass(frozen=True)
class FieldMapping:
    """One connection's read mapping: canonical field → Account field, plus extra fields."""

    sources: Mapping[str, str]
    extra_fields: Mapping[str, str]  # attribute name → Account field

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> FieldMapping:
        """The defaults overridden by ``field_map`` (a None source unmaps a field), plus
        ``extra_properties``; refuses unknown canonical fields, names that are not API names,
        and our own ``ICP_*`` fields."""
        sources = mapped_sources(DEFAULT_FIELD_MAP, settings.get("field_map"))
        extras = {
            attribute: source.strip()
            for attribute, source in extra_attribute_sources(
                settings.get("extra_properties")
            ).items()
        }
        names = [*sources.values(), *extras.values()]
        invalid = sorted({name for name in names if not _API_NAME.match(name)})
        if invalid:
            raise FatalError(
                f"field_map/extra_properties name {', '.join(map(repr, invalid))}: not Account "
                "field API names (letters, digits and underscores, such as Funding_Stage__c)"
            )
        own = sorted({name for name in names if name.casefold().startswith(_OWN_PREFIX)})
        if own:
            raise FatalError(
                f"field_map/extra_properties read {', '.join(own)}: ICP_* fields are written "
                "by icp-sync and cannot be read back as account data"
            )
        return cls(sources=sources, extra_fields=extras)

    def fields_to_read(self, definitions: FieldDefinitions | None = None) -> list[str]:
        """The SELECT list: Id, IsDeleted, SystemModstamp and every mapped field (those the
        org has, and icp-sync's own verdict fields, when its definitions are known)."""
        wanted = dict.fromkeys([*self.sources.values(), *self.extra_fields.values()])
        if definitions is not None:
            # icp-sync's own verdict fields too, where the org has them: read back to repair
            # hand edits and restores.
            wanted.update((spec.name, None) for spec in VERDICT_FIELDS)
            wanted = {name: None for name in wanted if name in definitions}
        envelope = [ID_FIELD, DELETED_FIELD, MODIFIED_FIELD]
        return envelope + sorted(name for name in wanted if name not in envelope)

    def to_record(
        self, record: Mapping[str, Any], *, definitions: FieldDefinitions | None = None
    ) -> AccountRecord:
        """One Account (a SOQL result row) as canonical fields; unparseable values become None."""
        record = normalize.without_nul(dict(record))
        external_id = str(record[ID_FIELD])
        fields: dict[str, Any] = {}
        for canonical, name in self.sources.items():
            raw = record.get(name)
            if canonical == "is_customer" and name == TYPE_FIELD:
                # Salesforce's standard types are "Customer - Direct", "Customer - Channel".
                text = text_value(raw)
                fields[canonical] = None if text is None else text.casefold().startswith("customer")
                continue
            try:
                fields[canonical] = FIELD_PARSERS[canonical](raw)
            except (ValueError, TypeError):
                log.debug("Account %s: %s=%r is not a valid %s", external_id, name, raw, canonical)
                fields[canonical] = None
        attributes = {}
        known = definitions or FieldDefinitions()
        for attribute, name in self.extra_fields.items():
            value = known.typed(name, record.get(name))
            if value is not None:
                attributes[attribute] = value
        fields["attributes"] = attributes
        try:
            updated = parse_salesforce_datetime(record.get(MODIFIED_FIELD))
        except ValueError:
            updated = None
        try:
            archived = bool(normalize.to_bool(record.get(DELETED_FIELD)))
        except ValueError:
            archived = False
        verdict = (
            CrmVerdict.parse({k: record.get(ICP_FIELDS[k].name) for k in VERDICT_KEYS})
            if ICP_FIELDS["score"].name in record
            else None
        )
        return AccountRecord(
            external_id=external_id,
            fields=fields,
            archived=archived,
            crm_updated_at=updated,
            crm_verdict=verdict,
        )


# -- writing ---------------------------------------------------------------------------------

TIERS: Final = ("A", "B", "C", "D")
_FLS_NOTE: Final = (
    "then, on the field-level security step, make it Visible (and not Read-Only) for the "
    "profile or permission set of the Salesforce user icp-sync signs in as"
)
_WHERE: Final = "Setup → Object Manager → Account → Fields & Relationships → New"


@dataclass(frozen=True)
class FieldSpec:
    """A custom Account field icp-sync writes, and how an admin creates it."""

    name: str
    label: str
    ui_type: str  # as Setup's "New Custom Field" wizard names it
    types: frozenset[str]  # describe types that can take what icp-sync writes
    details: str  # length, precision, values: the wizard's second step
    max_length: int = 0  # text we send is cut to this (0: not text)
    min_length: int = 0  # a shorter text field would refuse our values
    picklist_values: tuple[str, ...] = ()

    def how_to_create(self) -> str:
        """The steps that create this field in Setup."""
        return (
            f"{_WHERE}: {self.ui_type}, Field Label '{self.label}', Field Name "
            f"{self.name.removesuffix('__c')} (API name {self.name}), {self.details}; "
            f"{_FLS_NOTE}"
        )


ICP_FIELDS: Final[Mapping[str, FieldSpec]] = {
    "score": FieldSpec(
        "ICP_Fit_Score__c",
        "ICP Fit Score",
        "Number",
        frozenset({"double", "int", "percent"}),
        "Length 3, Decimal Places 0",
    ),
    "tier": FieldSpec(
        "ICP_Tier__c",
        "ICP Tier",
        "Picklist",
        frozenset({"picklist", "string"}),
        "values A, B, C, D entered one per line, restricted to the defined values",
        max_length=1,
        picklist_values=TIERS,
    ),
    "is_mql": FieldSpec(
        "ICP_Is_MQL__c",
        "ICP MQL",
        "Checkbox",
        frozenset({"boolean"}),
        "Default Value Unchecked",
    ),
    "is_sql": FieldSpec(
        "ICP_Is_SQL__c",
        "ICP SQL",
        "Checkbox",
        frozenset({"boolean"}),
        "Default Value Unchecked",
    ),
    "reasons": FieldSpec(
        "ICP_Fit_Reasons__c",
        "ICP Fit Reasons",
        "Text Area (Long)",
        frozenset({"textarea"}),
        "Length 32768, # Visible Lines 3",
        max_length=32_768,
        min_length=1_000,
    ),
    "version": FieldSpec(
        "ICP_Version__c",
        "ICP Version",
        "Text",
        frozenset({"string"}),
        "Length 255",
        max_length=255,
        min_length=80,
    ),
    "scored_at": FieldSpec(
        "ICP_Scored_At__c",
        "ICP Scored At",
        "Date/Time",
        frozenset({"datetime"}),
        "no default value",
    ),
}
assert tuple(ICP_FIELDS) == WRITEBACK_FIELDS
VERDICT_FIELDS: Final = tuple(ICP_FIELDS[key] for key in VERDICT_KEYS)


def schema_problem(spec: FieldSpec, existing: FieldInfo | None) -> str | None:
    """Why the org's field cannot take what icp-sync writes (and how to fix it), or None."""
    if existing is None:
        return spec.how_to_create()
    if existing.type not in spec.types:
        return (
            f"exists as a {existing.type} field, icp-sync writes a {spec.ui_type}: delete it "
            f"and create it again ({spec.how_to_create()})"
        )
    if spec.min_length and existing.type != "picklist" and 0 < existing.length < spec.min_length:
        return (
            f"holds only {existing.length} characters, icp-sync writes up to {spec.min_length}: "
            f"in {_WHERE.removesuffix(' → New')}, edit it to {spec.details}"
        )
    if spec.picklist_values and existing.type == "picklist":
        absent = [v for v in spec.picklist_values if v not in existing.picklist_values]
        if absent:
            return (
                f"lacks the picklist values {', '.join(absent)}: add them under "
                f"{_WHERE.removesuffix(' → New')} → {spec.label} → Values → New"
            )
    if not existing.updateable:
        return (
            "exists but the Salesforce user icp-sync signs in as cannot edit it: in Setup → "
            f"Object Manager → Account → Fields & Relationships → {spec.label} → Set Field-Level "
            "Security, make it Visible and not Read-Only for that user's profile (or grant Edit "
            "in a permission set)"
        )
    return None


def _flag(value: Any) -> bool:
    parsed = normalize.to_bool(value)
    if parsed is None:
        raise ValueError(f"expected true or false, got {value!r}")
    return parsed


def _score(value: Any) -> int | float:
    number = normalize.to_float(value)
    if number is None or not 0 <= number <= 100:
        raise ValueError(f"score must be a number from 0 to 100, got {value!r}")
    return int(number) if number.is_integer() else number


def _tier(value: Any) -> str:
    tier = str(value).strip().upper()
    if tier not in TIERS:
        raise ValueError(f"tier must be one of A, B, C, D, got {value!r}")
    return tier


def _datetime(value: Any) -> str:
    moment = parse_salesforce_datetime(value)
    if moment is None:
        raise ValueError(f"expected an ISO 8601 datetime, got {value!r}")
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _text_writer(limit: int) -> Callable[[Any], str]:
    def write(value: Any) -> str:
        return str(value)[:limit]

    return write


_WRITERS: Final[Mapping[str, Callable[[Any], Any]]] = {
    "score": _score,
    "tier": _tier,
    "is_mql": _flag,
    "is_sql": _flag,
    "reasons": _text_writer(ICP_FIELDS["reasons"].max_length),
    "version": _text_writer(ICP_FIELDS["version"].max_length),
    "scored_at": _datetime,
}


def writeback_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """The Account field values to send for one WriteBack, JSON-typed; keys not in ``values``
    are not written, a None value clears its field. Other keys (``lifecycle_stage``) are
    ignored: the Salesforce connector promotes no stage.

    Raises ValueError naming the first value Salesforce would refuse.
    """
    fields: dict[str, Any] = {}
    for key, writer in _WRITERS.items():
        if key not in values:
            continue
        raw = values[key]
        name = ICP_FIELDS[key].name
        try:
            fields[name] = None if raw is None else writer(raw)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    return fields


def update_records(payload: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The body of ``PATCH composite/sobjects`` for {record id: field values}."""
    return {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": OBJECT_NAME}, "id": record_id, **fields}
            for record_id, fields in payload.items()
        ],
    }


# Per-record save errors that go away by themselves (a lock held by another transaction, a
# busy org); anything else (invalid value, deleted record, no access) needs a fix.
TRANSIENT_STATUS_CODES: Final = frozenset(
    {"UNABLE_TO_LOCK_ROW", "REQUEST_RUNNING_TOO_LONG", "SERVER_UNAVAILABLE", "QUERY_TIMEOUT"}
)


def _save_error(errors: Iterable[Mapping[str, Any]]) -> tuple[str, bool]:
    """One message for a record's errors, and whether all of them are transient."""
    parts, codes = [], []
    for error in errors:
        code = str(error.get("statusCode") or "UNKNOWN_ERROR")
        codes.append(code)
        text = f"{code}: {error.get('message') or 'no message'}"
        if error.get("fields"):
            text += f" (fields: {', '.join(map(str, error['fields']))})"
        parts.append(text)
    if not parts:
        return "Salesforce reported a failure without errors", True
    return "; ".join(parts), all(code in TRANSIENT_STATUS_CODES for code in codes)


def save_results(record_ids: Sequence[str], response: Any) -> dict[str, WriteResult]:
    """Each record's outcome from a ``composite/sobjects`` answer: a list of SaveResults
    (``{"id", "success", "errors": [{"statusCode", "message", "fields"}]}``) in request order."""
    results = response if isinstance(response, list) else []
    outcomes: dict[str, WriteResult] = {}
    for index, record_id in enumerate(record_ids):
        result = results[index] if index < len(results) else None
        if not isinstance(result, Mapping):
            outcomes[record_id] = WriteResult(
                record_id, ok=False, error="Salesforce returned no result", retriable=True
            )
        elif result.get("success"):
            outcomes[record_id] = WriteResult(record_id, ok=True)
        else:
            message, retriable = _save_error(result.get("errors") or ())
            outcomes[record_id] = WriteResult(
                record_id, ok=False, error=message, retriable=retriable
            )
    return outcomes
