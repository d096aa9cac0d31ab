"""HubSpot company properties ⇄ canonical accounts (DESIGN §3.1) and ``icp_*`` write-back (§3.4).

Mostly tables: which property feeds which canonical field and how its string is parsed, which
properties the write-back needs and how they are defined. HubSpot sends enumeration *codes*
(``ONLINE_MEDIA``, ``adobe_experience_manager;wordpress``); :class:`PropertyDefinitions` turns
them into their option labels (``Online Media``), which is what ICPs are written in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
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
    extra_attribute_sources,
    mapped_sources,
)

__all__ = [
    "ICP_GROUP",
    "ICP_PROPERTIES",
    "LIFECYCLE_ORDER",
    "PropertyDefinitions",
    "PropertyMapping",
    "PropertySpec",
    "parse_hubspot_datetime",
    "writeback_properties",
]

log = logging.getLogger(__name__)

# -- reading ---------------------------------------------------------------------------------

# Canonical field → HubSpot property, when a connection's field_map says nothing else.
DEFAULT_FIELD_MAP: Final[Mapping[str, str]] = {
    "name": "name",
    "domain": "domain",
    "industry": "industry",
    "employees": "numberofemployees",
    "annual_revenue": "annualrevenue",
    "country": "country",
    "region": "state",
    "city": "city",
    "total_funding": "total_money_raised",
    "founded_year": "founded_year",
    "tech_stack": "web_technologies",
    "lifecycle_stage": "lifecyclestage",
    "is_customer": "lifecyclestage",
    "open_deals": "hs_num_open_deals",
    "lifetime_value": "total_revenue",
}


MODIFIED_PROPERTY: Final = "hs_lastmodifieddate"
LIFECYCLE_PROPERTY: Final = "lifecyclestage"
CUSTOMER_STAGE: Final = "customer"
IDEAL_CUSTOMER_PROFILE_PROPERTY: Final = "hs_ideal_customer_profile"
# Stages in the order a company moves through them; promotion never goes backwards.
LIFECYCLE_ORDER: Final = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
)


def parse_hubspot_datetime(value: Any) -> datetime | None:
    """A datetime property (ISO 8601, or epoch milliseconds) as an aware UTC datetime."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if text.isascii() and text.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class PropertyInfo:
    """What the properties API says about one property."""

    type: str
    field_type: str
    labels: Mapping[str, str]  # option value (code) → label


@dataclass
class PropertyDefinitions:
    """The portal's company property definitions: types, and enumeration codes → labels."""

    properties: dict[str, PropertyInfo] = field(default_factory=dict)

    @classmethod
    def from_api(cls, results: Iterable[Any]) -> PropertyDefinitions:
        """From ``GET /crm/v3/properties/companies`` results (client models)."""
        properties = {}
        for prop in results:
            labels = {
                str(option.value): str(option.label or option.value)
                for option in prop.options or []
                if option.value is not None
            }
            properties[prop.name] = PropertyInfo(
                type=prop.type or "string", field_type=prop.field_type or "text", labels=labels
            )
        return cls(properties)

    def __contains__(self, name: object) -> bool:
        return name in self.properties

    def decode(self, name: str, raw: str | None) -> Any:
        """A raw property value with enumeration codes as labels: a list for multi-selects."""
        if raw is None or raw == "":
            return None
        info = self.properties.get(name)
        if info is None or info.type != "enumeration":
            return raw
        if info.field_type == "checkbox":
            return [info.labels.get(code, code) for code in raw.split(";") if code]
        return info.labels.get(raw, raw)

    def typed(self, name: str, raw: str | None) -> Any:
        """An extra property's value typed by its definition (bool, number, labels, text)."""
        value = self.decode(name, raw)
        info = self.properties.get(name)
        if value is None or info is None:
            return value
        try:
            if info.type == "bool":
                return normalize.to_bool(value)
            if info.type == "number":
                number = normalize.to_float(value)
                return int(number) if number is not None and number.is_integer() else number
        except ValueError:
            log.debug("HubSpot property %s: unreadable value %r", name, raw)
            return None
        return value

    def code_of(self, name: str, value: str) -> str:
        """The option code of a label or code (case-insensitive), or ``value`` unchanged."""
        info = self.properties.get(name)
        if info is None:
            return value
        wanted = normalize.norm_enum(value)
        for code, label in info.labels.items():
            if normalize.norm_enum(code) == wanted or normalize.norm_enum(label) == wanted:
                return code
        return value


# Properties icp-sync writes: reading them back into canonical fields would feed our own
# verdicts into the next score.
_OWN_PREFIX: Final = "icp_"


@dataclass(frozen=True)
class PropertyMapping:
    """One connection's read mapping: canonical field → property, plus extra properties."""

    sources: Mapping[str, str]
    extra_properties: dict[str, str]  # attribute name → HubSpot property

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> PropertyMapping:
        """The defaults overridden by ``field_map`` (a None source unmaps a field), plus
        ``extra_properties``; refuses unknown canonical fields and our own ``icp_*``."""
        sources = mapped_sources(DEFAULT_FIELD_MAP, settings.get("field_map"))
        extras = extra_attribute_sources(settings.get("extra_properties"))
        own = sorted(p for p in (*sources.values(), *extras.values()) if p.startswith(_OWN_PREFIX))
        if own:
            raise FatalError(
                f"field_map/extra_properties read {', '.join(own)}: icp_* properties are "
                "written by icp-sync and cannot be read back as account data"
            )
        return cls(sources=sources, extra_properties=extras)

    def properties_to_read(self, definitions: PropertyDefinitions | None = None) -> list[str]:
        """Every property a read must ask for; with the portal's definitions, also icp-sync's
        own verdict properties that exist there (read back to repair hand edits)."""
        own = (
            [spec.name for spec in VERDICT_PROPERTIES if spec.name in definitions]
            if definitions is not None
            else []
        )
        return sorted(
            {*self.sources.values(), *self.extra_properties.values(), MODIFIED_PROPERTY, *own}
        )

    def to_record(
        self,
        external_id: str,
        properties: Mapping[str, str | None],
        *,
        archived: bool,
        definitions: PropertyDefinitions,
    ) -> AccountRecord:
        """One company as canonical fields; a value that cannot be parsed becomes None."""
        properties = normalize.without_nul(dict(properties))
        fields: dict[str, Any] = {}
        for canonical, prop in self.sources.items():
            raw = properties.get(prop)
            if canonical == "is_customer" and prop == LIFECYCLE_PROPERTY:
                # Derived from the stage's code, whatever its label says.
                fields[canonical] = None if not raw else raw == CUSTOMER_STAGE
                continue
            try:
                fields[canonical] = FIELD_PARSERS[canonical](definitions.decode(prop, raw))
            except (ValueError, TypeError):
                log.debug("company %s: %s=%r is not a valid %s", external_id, prop, raw, canonical)
                fields[canonical] = None
        attributes = {}
        for name, prop in self.extra_properties.items():
            value = definitions.typed(prop, properties.get(prop))
            if value is not None:
                attributes[name] = value
        fields["attributes"] = attributes
        try:
            updated = parse_hubspot_datetime(properties.get(MODIFIED_PROPERTY))
        except ValueError:
            updated = None
        # A property asked for comes back, null or not: its key says the verdict was read.
        verdict = (
            CrmVerdict.parse({k: properties.get(ICP_PROPERTIES[k].name) for k in VERDICT_KEYS})
            if ICP_PROPERTIES["score"].name in properties
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

ICP_GROUP: Final = ("icp_sync", "ICP Sync")
TIERS: Final = ("A", "B", "C", "D")
_BOOL_OPTIONS: Final = (("true", "Yes"), ("false", "No"))


@dataclass(frozen=True)
class PropertySpec:
    """A property icp-sync creates on companies."""

    name: str
    label: str
    type: str
    field_type: str
    description: str
    options: tuple[tuple[str, str], ...] = ()  # (value, label)


ICP_PROPERTIES: Final[Mapping[str, PropertySpec]] = {
    "score": PropertySpec(
        "icp_fit_score", "ICP fit score", "number", "number", "Fit with the active ICP, 0–100."
    ),
    "tier": PropertySpec(
        "icp_tier",
        "ICP tier",
        "enumeration",
        "select",
        "A (best fit) to D.",
        tuple((tier, tier) for tier in TIERS),
    ),
    "is_mql": PropertySpec(
        "icp_is_mql",
        "ICP MQL",
        "bool",
        "booleancheckbox",
        "Marketing-qualified by the ICP.",
        _BOOL_OPTIONS,
    ),
    "is_sql": PropertySpec(
        "icp_is_sql",
        "ICP SQL",
        "bool",
        "booleancheckbox",
        "Sales-qualified by the ICP.",
        _BOOL_OPTIONS,
    ),
    "reasons": PropertySpec(
        "icp_fit_reasons",
        "ICP fit reasons",
        "string",
        "textarea",
        "Why this score, strongest first.",
    ),
    "version": PropertySpec(
        "icp_version", "ICP version", "string", "text", "The ICP name and version that scored it."
    ),
    "scored_at": PropertySpec(
        "icp_scored_at", "ICP scored at", "datetime", "date", "When icp-sync last scored it."
    ),
}
assert tuple(ICP_PROPERTIES) == WRITEBACK_FIELDS
VERDICT_PROPERTIES: Final = tuple(ICP_PROPERTIES[key] for key in VERDICT_KEYS)

IDEAL_CUSTOMER_PROFILE_TIERS: Final = {"A": "tier_1", "B": "tier_2", "C": "tier_3", "D": ""}
# Hard limit of a HubSpot string property.
_MAX_TEXT: Final = 65_536


def _flag(value: Any) -> str:
    parsed = normalize.to_bool(value)
    if parsed is None:
        raise ValueError(f"expected true or false, got {value!r}")
    return "true" if parsed else "false"


def _score(value: Any) -> str:
    number = normalize.to_float(value)
    if number is None or not 0 <= number <= 100:
        raise ValueError(f"score must be a number from 0 to 100, got {value!r}")
    return str(int(number)) if number.is_integer() else repr(number)


def _tier(value: Any) -> str:
    tier = str(value).strip().upper()
    if tier not in TIERS:
        raise ValueError(f"tier must be one of A, B, C, D, got {value!r}")
    return tier


def _datetime(value: Any) -> str:
    moment = value if isinstance(value, datetime) else parse_hubspot_datetime(value)
    if moment is None:
        raise ValueError(f"expected an ISO 8601 datetime, got {value!r}")
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _string(value: Any) -> str:
    return str(value)[:_MAX_TEXT]


_WRITERS: Final[Mapping[str, Callable[[Any], str]]] = {
    "score": _score,
    "tier": _tier,
    "is_mql": _flag,
    "is_sql": _flag,
    "reasons": _string,
    "version": _string,
    "scored_at": _datetime,
}


def _stage_rank(stage: str | None) -> int | None:
    return LIFECYCLE_ORDER.index(stage) if stage in LIFECYCLE_ORDER else None


def promoted_stage(values: Mapping[str, Any], *, definitions: PropertyDefinitions) -> str | None:
    """The lifecycle stage to write when the flags (or an explicit ``lifecycle_stage`` target)
    move the company forward; None to leave the stage alone.

    The caller passes the record's stage as last read (label or code) in
    ``current_lifecycle_stage``; without that key the current stage is unknown and nothing is
    written, since "never backwards" cannot be promised. A present but empty value means the
    company has no stage yet.
    """
    if "current_lifecycle_stage" not in values:
        return None
    target = values.get("lifecycle_stage")
    if target:
        target = definitions.code_of(LIFECYCLE_PROPERTY, str(target))
    elif normalize.to_bool(values.get("is_sql")):
        target = "salesqualifiedlead"
    elif normalize.to_bool(values.get("is_mql")):
        target = "marketingqualifiedlead"
    target_rank = _stage_rank(target)
    if target_rank is None:
        return None
    current = values["current_lifecycle_stage"]
    if current:
        current_rank = _stage_rank(definitions.code_of(LIFECYCLE_PROPERTY, str(current)))
        # A stage outside the funnel ("other", custom ones) is somebody's decision: keep it.
        if current_rank is None or current_rank >= target_rank:
            return None
    return target


def writeback_properties(
    values: Mapping[str, Any],
    *,
    ideal_customer_profile: bool,
    promote_lifecycle: bool,
    definitions: PropertyDefinitions,
) -> dict[str, str]:
    """The property values to send for one WriteBack; keys not in ``values`` are not written.

    Raises ValueError naming the first value HubSpot would refuse.
    """
    properties: dict[str, str] = {}
    for key, writer in _WRITERS.items():
        if key not in values:
            continue
        raw = values[key]
        name = ICP_PROPERTIES[key].name
        try:
            properties[name] = "" if raw is None else writer(raw)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    if ideal_customer_profile and properties.get("icp_tier"):
        properties[IDEAL_CUSTOMER_PROFILE_PROPERTY] = IDEAL_CUSTOMER_PROFILE_TIERS[
            properties["icp_tier"]
        ]
    if promote_lifecycle:
        stage = promoted_stage(values, definitions=definitions)
        if stage is not None:
            properties[LIFECYCLE_PROPERTY] = stage
    return properties
