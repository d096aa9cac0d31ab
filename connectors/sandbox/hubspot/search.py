"""``POST /crm/v3/objects/{objectType}/search``: filters, sorts, offsets and the 10,000 cap."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from connectors.sandbox.hubspot.errors import HubSpotError
from connectors.sandbox.hubspot.objects import OBJECT_TYPES, resolve
from connectors.sandbox.hubspot.properties import (
    PropertyCatalog,
    format_datetime,
    parse_datetime_ms,
)
from connectors.sandbox.hubspot.store import CrmObject, ObjectStore

__all__ = ["SEARCH_RESULT_CAP", "SearchRequest", "run_search"]

SEARCH_RESULT_CAP: Final = 10_000
MAX_LIMIT: Final = 200
MAX_GROUPS: Final = 5
MAX_FILTERS_PER_GROUP: Final = 10
MAX_FILTERS: Final = 25
OPERATORS: Final = frozenset(
    {
        "EQ",
        "NEQ",
        "LT",
        "LTE",
        "GT",
        "GTE",
        "BETWEEN",
        "IN",
        "NOT_IN",
        "HAS_PROPERTY",
        "NOT_HAS_PROPERTY",
        "CONTAINS_TOKEN",
        "NOT_CONTAINS_TOKEN",
    }
)
_TOKEN_SPLIT: Final = re.compile(r"[^\w]+")
ASSOCIATION_PREFIX: Final = "associations."

Predicate = Callable[[dict[str, str]], bool]
# (linked object type, its record id, searched object type) → ids of the searched records linked
LinkedIds = Callable[[str, str, str], set[str]]


@dataclass(frozen=True)
class SearchRequest:
    """A parsed, validated search body."""

    match: Predicate | None
    sorts: list[tuple[str, bool]]  # (property, descending)
    query: str | None
    properties: list[str] | None
    limit: int
    after: int


def _comparable(type_: str, raw: Any, name: str) -> Any:
    """A filter value in the form stored values are compared in."""
    if type_ == "number":
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise HubSpotError.validation(
                f"{raw!r} is not a valid number for property {name}"
            ) from None
    if type_ in ("datetime", "date"):
        millis = parse_datetime_ms(raw)
        try:
            moment = datetime.fromtimestamp(millis / 1000, tz=UTC) if millis is not None else None
        except (OverflowError, OSError):
            moment = None
        if moment is None:
            raise HubSpotError.validation(f"{raw!r} is not a valid date for property {name}")
        # Stored datetimes are uniform ISO strings, so string order is time order.
        return format_datetime(moment) if type_ == "datetime" else moment.strftime("%Y-%m-%d")
    text = (
        raw
        if isinstance(raw, str)
        else ("true" if raw is True else "false" if raw is False else str(raw))
    )
    return text.lower() if type_ in ("string", "bool", "phone_number") else text


def _stored(type_: str) -> Callable[[str], Any]:
    if type_ == "number":
        return float
    if type_ in ("string", "bool", "phone_number"):
        return str.lower
    return str


def _association_filter(
    catalog: PropertyCatalog, name: str, operator: Any, spec: dict[str, Any], linked: LinkedIds
) -> Predicate:
    """``associations.<object> EQ <id>`` (or ``IN``): the records linked to those records.

    Matched on ``hs_object_id`` against the linked ids gathered once, so the scan stays a
    dict lookup per record."""
    other = resolve(name[len(ASSOCIATION_PREFIX) :])
    if other is None:
        raise HubSpotError.validation(f"Unknown association filter {name!r}")
    if operator == "EQ" and "value" in spec:
        values = [spec["value"]]
    elif operator == "IN" and isinstance(spec.get("values"), list) and spec["values"]:
        values = spec["values"]
    else:
        raise HubSpotError.validation(
            f"Association filters take EQ with a 'value' or IN with 'values', not {operator!r}"
        )
    ids: set[str] = set()
    for value in values:
        ids |= linked(other, str(value), catalog.object_type)
    return lambda props: props.get("hs_object_id") in ids


def _compile_filter(catalog: PropertyCatalog, spec: Any, linked: LinkedIds | None) -> Predicate:
    if not isinstance(spec, dict):
        raise HubSpotError.validation("Each filter must be an object")
    name, operator = spec.get("propertyName"), spec.get("operator")
    if isinstance(name, str) and name.startswith(ASSOCIATION_PREFIX) and linked is not None:
        return _association_filter(catalog, name, operator, spec, linked)
    if not isinstance(name, str) or not catalog.exists(name):
        raise HubSpotError.validation(f"Property '{name}' does not exist on {catalog.object_type}")
    if operator not in OPERATORS:
        raise HubSpotError.validation(
            f"Unknown filter operator {operator!r}; expected one of {sorted(OPERATORS)}"
        )
    type_ = catalog.type_of(name)
    multi = type_ == "enumeration" and catalog.definitions[name]["fieldType"] == "checkbox"
    stored = _stored(type_)

    def values_of(props: dict[str, str]) -> list[Any]:
        raw = props.get(name)
        if raw is None or raw == "":
            return []
        if multi:
            return raw.split(";")
        try:
            return [stored(raw)]
        except ValueError:
            return []

    if operator == "HAS_PROPERTY":
        return lambda props: bool(props.get(name))
    if operator == "NOT_HAS_PROPERTY":
        return lambda props: not props.get(name)
    if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        pattern = str(spec.get("value", "")).lower()
        negate = operator == "NOT_CONTAINS_TOKEN"

        def contains(props: dict[str, str]) -> bool:
            text = (props.get(name) or "").lower()
            tokens = [t for t in _TOKEN_SPLIT.split(text) if t]
            if "*" in pattern:
                found = fnmatch.fnmatchcase(text, pattern) or any(
                    fnmatch.fnmatchcase(t, pattern) for t in tokens
                )
            else:
                found = pattern in tokens or (" " in pattern and pattern in text)
            return found != negate

        return contains
    if operator in ("IN", "NOT_IN"):
        raw_values = spec.get("values")
        if not isinstance(raw_values, list) or not raw_values:
            raise HubSpotError.validation(f"Operator {operator} needs a non-empty 'values' list")
        wanted = {_comparable(type_, v, name) for v in raw_values}
        if operator == "IN":
            return lambda props: any(v in wanted for v in values_of(props))
        return lambda props: not any(v in wanted for v in values_of(props))
    if operator == "BETWEEN":
        if "value" not in spec or "highValue" not in spec:
            raise HubSpotError.validation("Operator BETWEEN needs 'value' and 'highValue'")
        low, high = (
            _comparable(type_, spec["value"], name),
            _comparable(type_, spec["highValue"], name),
        )
        return lambda props: any(low <= v <= high for v in values_of(props))
    if "value" not in spec:
        raise HubSpotError.validation(f"Operator {operator} needs a 'value'")
    target = _comparable(type_, spec["value"], name)
    if operator == "EQ":
        return lambda props: target in values_of(props)
    if operator == "NEQ":
        return lambda props: target not in values_of(props)
    compare: Callable[[Any], bool] = {
        "LT": lambda v: v < target,
        "LTE": lambda v: v <= target,
        "GT": lambda v: v > target,
        "GTE": lambda v: v >= target,
    }[operator]
    return lambda props: any(compare(v) for v in values_of(props))


def _compile_groups(
    catalog: PropertyCatalog, groups: Any, linked: LinkedIds | None
) -> Predicate | None:
    if groups in (None, []):
        return None
    if not isinstance(groups, list):
        raise HubSpotError.validation("filterGroups must be a list")
    if len(groups) > MAX_GROUPS:
        raise HubSpotError.validation(f"Too many filter groups: {len(groups)} > {MAX_GROUPS}")
    compiled: list[list[Predicate]] = []
    total = 0
    for group in groups:
        filters = group.get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, list):
            raise HubSpotError.validation("Each filter group needs a 'filters' list")
        if len(filters) > MAX_FILTERS_PER_GROUP:
            raise HubSpotError.validation(
                f"Too many filters in a group: {len(filters)} > {MAX_FILTERS_PER_GROUP}"
            )
        total += len(filters)
        compiled.append([_compile_filter(catalog, f, linked) for f in filters])
    if total > MAX_FILTERS:
        raise HubSpotError.validation(f"Too many filters: {total} > {MAX_FILTERS}")
    compiled = [g for g in compiled if g]
    if not compiled:
        return None
    if len(compiled) == 1 and len(compiled[0]) == 1:
        return compiled[0][0]
    return lambda props: any(all(p(props) for p in group) for group in compiled)


def _parse_sorts(catalog: PropertyCatalog, sorts: Any) -> list[tuple[str, bool]]:
    if not sorts:
        return []
    if not isinstance(sorts, list):
        raise HubSpotError.validation("sorts must be a list")
    parsed = []
    for sort in sorts:
        name: Any
        if isinstance(sort, str):
            name, descending = sort.lstrip("-"), sort.startswith("-")
        elif isinstance(sort, dict):
            name = sort.get("propertyName")
            direction = str(sort.get("direction", "ASCENDING")).upper()
            if direction not in ("ASC", "ASCENDING", "DESC", "DESCENDING"):
                raise HubSpotError.validation(f"Invalid sort direction {direction!r}")
            descending = direction.startswith("DESC")
        else:
            raise HubSpotError.validation("Each sort must be an object or a property name")
        if not isinstance(name, str) or not catalog.exists(name):
            raise HubSpotError.validation(
                f"Property '{name}' does not exist on {catalog.object_type}"
            )
        parsed.append((name, descending))
    return parsed


def parse_search(
    catalog: PropertyCatalog, body: Any, linked: LinkedIds | None = None
) -> SearchRequest:
    """Validate a search body as HubSpot does, 400 on anything it would refuse; ``linked``
    answers ``associations.<object>`` filters."""
    if not isinstance(body, dict):
        raise HubSpotError.validation("Invalid input JSON: expected an object")
    try:
        raw_limit = body.get("limit")
        limit = int(raw_limit if raw_limit is not None else 10)
        after = int(body.get("after") or 0)
    except (TypeError, ValueError):
        raise HubSpotError.validation("limit and after must be integers") from None
    if limit < 0 or after < 0:
        raise HubSpotError.validation("limit and after must not be negative")
    if limit > MAX_LIMIT:
        raise HubSpotError.validation(
            f"limit must be less than or equal to {MAX_LIMIT}, was {limit}"
        )
    if after + limit > SEARCH_RESULT_CAP:
        raise HubSpotError.validation(
            f"Search results are limited to {SEARCH_RESULT_CAP} per query: after ({after}) + limit "
            f"({limit}) must not exceed {SEARCH_RESULT_CAP}. Narrow the filters to page further."
        )
    properties = body.get("properties")
    if properties is not None and not (
        isinstance(properties, list) and all(isinstance(p, str) for p in properties)
    ):
        raise HubSpotError.validation("properties must be a list of property names")
    query = body.get("query")
    return SearchRequest(
        match=_compile_groups(catalog, body.get("filterGroups"), linked),
        sorts=_parse_sorts(catalog, body.get("sorts")),
        query=str(query).lower().strip() or None if query else None,
        properties=properties,
        limit=limit,
        after=after,
    )


def run_search(store: ObjectStore, request: SearchRequest) -> tuple[int, list[CrmObject]]:
    """The total number of matches and the requested page of them."""
    match, records = request.match, store.live()
    if request.query:
        words = request.query.split()
        fields = OBJECT_TYPES[store.object_type].query_properties

        def matches_query(props: dict[str, str]) -> bool:
            text = " ".join((props.get(f) or "") for f in fields).lower()
            return all(w in text for w in words)

        base = match
        match = (
            matches_query if base is None else (lambda props: base(props) and matches_query(props))
        )
    hits = list(records) if match is None else [r for r in records if match(r.properties)]
    catalog = store.catalog
    for name, descending in reversed(request.sorts):
        stored = _stored(catalog.type_of(name))
        zero: Any = 0.0 if catalog.type_of(name) == "number" else ""

        def key(
            record: CrmObject,
            name: str = name,
            stored: Any = stored,
            zero: Any = zero,
            descending: bool = descending,
        ) -> tuple[int, Any]:
            raw = record.properties.get(name)
            if raw is None or raw == "":
                return (0, zero) if descending else (1, zero)
            try:
                value = stored(raw)
            except ValueError:
                return (0, zero) if descending else (1, zero)
            return (1, value) if descending else (0, value)

        # Stable sorts, last key first; ties keep id order, even descending.
        hits.sort(key=key, reverse=descending)
    return len(hits), hits[request.after : request.after + request.limit]
