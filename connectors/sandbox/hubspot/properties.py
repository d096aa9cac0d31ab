"""Property definitions (the properties API) and the checks HubSpot applies to property values.

Values are strings on the wire and in the store. Writes are normalised the way HubSpot does it:
booleans to ``true``/``false``, datetimes to ISO 8601 with milliseconds and ``Z``, dates to
``YYYY-MM-DD``; an empty string or ``null`` clears the property.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from connectors.sandbox.hubspot.errors import HubSpotError
from connectors.sandbox.hubspot.property_specs import (
    BOOL_OPTIONS,
    DEFAULT_SPECS,
    DEMO_COMPANY_GROUP,
    DEMO_COMPANY_SPECS,
    Spec,
)

__all__ = [
    "PropertyCatalog",
    "format_datetime",
    "parse_datetime_ms",
]

SANDBOX_EPOCH: Final = "2020-01-01T00:00:00.000Z"  # createdAt of every built-in definition

TYPES: Final = frozenset(
    {"string", "number", "date", "datetime", "enumeration", "bool", "phone_number"}
)
FIELD_TYPES: Final = frozenset(
    {
        "text",
        "textarea",
        "number",
        "date",
        "select",
        "radio",
        "checkbox",
        "booleancheckbox",
        "calculation_equation",
        "html",
        "phonenumber",
        "file",
    }
)
_NAME_RE: Final = re.compile(r"^[a-z][a-z0-9_]*$")
_MAX_STRING: Final = 65_536


def format_datetime(value: datetime) -> str:
    """``2024-05-01T12:00:00.123Z``: how HubSpot writes datetimes."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


@functools.lru_cache(maxsize=4096)
def _day(days_since_epoch: int) -> str:
    return (date(1970, 1, 1) + timedelta(days=days_since_epoch)).isoformat()


def format_epoch_ms(millis: int) -> str:
    """:func:`format_datetime` from epoch milliseconds, without a datetime (seeding is hot)."""
    days, in_day = divmod(millis, 86_400_000)
    seconds, ms = divmod(in_day, 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{_day(days)}T{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}Z"


def parse_datetime_ms(raw: Any) -> int | None:
    """Epoch milliseconds from epoch ms (number or digits) or ISO 8601, else None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return int(raw) if math.isfinite(raw) else None
    text = str(raw).strip()
    if not text:
        return None
    if text.isascii() and text.lstrip("-").isdigit():
        return int(text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def _options(pairs: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    return [
        {"label": label, "value": value, "description": "", "displayOrder": order, "hidden": False}
        for order, (value, label) in enumerate(pairs)
    ]


def _definition(spec: Spec, order: int) -> dict[str, Any]:
    return {
        "updatedAt": SANDBOX_EPOCH,
        "createdAt": SANDBOX_EPOCH,
        "name": spec.name,
        "label": spec.label,
        "type": spec.type,
        "fieldType": spec.field_type,
        "description": "",
        "groupName": spec.group,
        "options": _options(spec.options),
        "displayOrder": order if not spec.hubspot_defined else -1,
        "calculated": spec.calculated,
        "externalOptions": spec.external_options,
        "hasUniqueValue": spec.unique,
        "hidden": spec.hidden,
        "hubspotDefined": spec.hubspot_defined,
        "modificationMetadata": {
            "archivable": not spec.hubspot_defined,
            "readOnlyDefinition": spec.hubspot_defined,
            "readOnlyValue": spec.read_only,
        },
        "formField": not spec.read_only,
        "archived": False,
    }


def v2_definition(definition: dict[str, Any]) -> dict[str, Any]:
    """A v3 definition in the legacy ``/properties/v2`` shape (epoch-millisecond dates, flat
    read-only flags, options with ``readOnly``)."""
    metadata = definition["modificationMetadata"]
    created = parse_datetime_ms(definition["createdAt"])
    return {
        "name": definition["name"],
        "label": definition["label"],
        "description": definition["description"],
        "groupName": definition["groupName"],
        "type": definition["type"],
        "fieldType": definition["fieldType"],
        "options": [
            {
                "label": o["label"],
                "value": o["value"],
                "description": o["description"],
                "displayOrder": o["displayOrder"],
                "hidden": o["hidden"],
                "readOnly": False,
            }
            for o in definition["options"]
        ],
        "displayOrder": definition["displayOrder"],
        "calculated": definition["calculated"],
        "externalOptions": definition["externalOptions"],
        "hasUniqueValue": definition["hasUniqueValue"],
        "hidden": definition["hidden"],
        "hubspotDefined": definition["hubspotDefined"],
        "formField": definition["formField"],
        "readOnlyValue": metadata["readOnlyValue"],
        "readOnlyDefinition": metadata["readOnlyDefinition"],
        "mutableDefinitionNotDeletable": not metadata["archivable"],
        "deleted": definition["archived"],
        "createdAt": created,
        "updatedAt": parse_datetime_ms(definition["updatedAt"]),
        "createdUserId": None,
        "updatedUserId": None,
        "showCurrencySymbol": False,
        "optionsAreMutable": not definition["hubspotDefined"],
        "searchableInGlobalSearch": False,
        "numberDisplayHint": None,
        "currencyPropertyName": None,
    }


def _problem(name: str, message: str, error: str) -> dict[str, Any]:
    return {
        "isValid": False,
        "message": message,
        "error": error,
        "name": name,
        "localizedErrorMessage": message,
    }


class PropertyCatalog:
    """The property definitions and groups of one object type, and the value rules they imply."""

    def __init__(self, object_type: str) -> None:
        self.object_type = object_type
        groups, specs = DEFAULT_SPECS[object_type]
        self.groups: dict[str, dict[str, Any]] = {}
        self.definitions: dict[str, dict[str, Any]] = {}
        self._rules: dict[str, tuple[str, str, frozenset[str], bool]] = {}
        self._add(groups, specs)

    def _add(self, groups: tuple[tuple[str, str], ...], specs: tuple[Spec, ...]) -> None:
        for name, label in groups:
            order = len(self.groups)
            self.groups[name] = {
                "name": name,
                "label": label,
                "displayOrder": order,
                "archived": False,
            }
        for spec in specs:
            self.definitions[spec.name] = _definition(spec, len(self.definitions))
        self._refresh_rules()

    def add_demo_properties(self) -> None:
        """Create the demo's custom company properties, as seeding demo data does."""
        if self.object_type == "companies":
            self._add((DEMO_COMPANY_GROUP,), DEMO_COMPANY_SPECS)

    def _refresh_rules(self) -> None:
        self._rules = {
            name: (
                d["type"],
                d["fieldType"],
                frozenset(o["value"] for o in d["options"]),
                d["modificationMetadata"]["readOnlyValue"],
            )
            for name, d in self.definitions.items()
            if not d["archived"]
        }

    def exists(self, name: str) -> bool:
        """Whether ``name`` is a live (not archived) property."""
        return name in self._rules

    def is_unique(self, name: str) -> bool:
        """Whether ``name`` is a live property whose values are unique (an upsert key)."""
        return self.exists(name) and bool(self.definitions[name]["hasUniqueValue"])

    def type_of(self, name: str) -> str:
        """The property's type (``string``, ``number``, ``datetime``, ...)."""
        return self._rules[name][0]

    # -- properties API ------------------------------------------------------------------------

    def list_definitions(self, *, archived: bool = False) -> list[dict[str, Any]]:
        """Every definition, live or archived."""
        return [d for d in self.definitions.values() if d["archived"] == archived]

    def get_definition(self, name: str) -> dict[str, Any]:
        """One definition, or 404 as HubSpot words it."""
        definition = self.definitions.get(name)
        if definition is None or definition["archived"]:
            raise HubSpotError.not_found(
                f"Unable to find property {name} for object type {self.object_type}"
            )
        return definition

    def create_definition(self, payload: dict[str, Any], *, now: str) -> dict[str, Any]:
        """``POST /crm/v3/properties/{objectType}``: 201 with the definition, 409 if it exists."""
        name = payload.get("name")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise HubSpotError.validation(
                f"Property name {name!r} is invalid: use lowercase letters, digits and "
                "underscores, starting with a letter."
            )
        if name in self.definitions and not self.definitions[name]["archived"]:
            raise HubSpotError(
                409,
                f"A property named '{name}' already exists.",
                "OBJECT_ALREADY_EXISTS",
                sub_category="PropertyValidationError.PROPERTY_ALREADY_EXISTS",
                context={"name": [name]},
            )
        missing = [
            key for key in ("label", "type", "fieldType", "groupName") if not payload.get(key)
        ]
        if missing:
            raise HubSpotError.validation(
                f"Missing required fields for property {name}: {', '.join(missing)}"
            )
        definition = self._checked_definition(name, payload, base=None, now=now)
        self.definitions[name] = definition
        self._refresh_rules()
        return definition

    def update_definition(self, name: str, payload: dict[str, Any], *, now: str) -> dict[str, Any]:
        """``PATCH /crm/v3/properties/{objectType}/{name}``."""
        base = self.get_definition(name)
        if base["hubspotDefined"] and {"type", "fieldType"} & payload.keys():
            changes = {k for k in ("type", "fieldType") if k in payload and payload[k] != base[k]}
            if changes:
                raise HubSpotError.validation(
                    f"Can't change the type of HubSpot-defined property {name}"
                )
        definition = self._checked_definition(name, {**base, **payload}, base=base, now=now)
        self.definitions[name] = definition
        self._refresh_rules()
        return definition

    def _checked_definition(
        self, name: str, payload: dict[str, Any], *, base: dict[str, Any] | None, now: str
    ) -> dict[str, Any]:
        type_, field_type, group = payload["type"], payload["fieldType"], payload["groupName"]
        if type_ not in TYPES:
            raise HubSpotError.validation(
                f"Invalid property type {type_!r}; expected one of {sorted(TYPES)}"
            )
        if field_type not in FIELD_TYPES:
            raise HubSpotError.validation(
                f"Invalid field type {field_type!r}; expected one of {sorted(FIELD_TYPES)}"
            )
        if group not in self.groups or self.groups[group]["archived"]:
            raise HubSpotError.validation(f"Property group {group} does not exist")
        raw_options = payload.get("options") or []
        if type_ == "bool" and not raw_options:
            raw_options = [{"label": label, "value": value} for value, label in BOOL_OPTIONS]
        if type_ == "enumeration" and not raw_options:
            raise HubSpotError.validation(f"Enumeration property {name} needs at least one option")
        options = []
        seen: set[str] = set()
        for order, option in enumerate(raw_options):
            if (
                not isinstance(option, dict)
                or not option.get("label")
                or option.get("value") in (None, "")
            ):
                raise HubSpotError.validation(
                    f"Every option of property {name} needs a label and a value"
                )
            value = str(option["value"])
            if value in seen:
                raise HubSpotError.validation(
                    f"Duplicate option value {value!r} for property {name}"
                )
            seen.add(value)
            options.append(
                {
                    "label": str(option["label"]),
                    "value": value,
                    "description": str(option.get("description") or ""),
                    "displayOrder": int(option.get("displayOrder", order)),
                    "hidden": bool(option.get("hidden", False)),
                }
            )
        metadata = (
            base["modificationMetadata"]
            if base
            else {
                "archivable": True,
                "readOnlyDefinition": False,
                "readOnlyValue": False,
            }
        )
        return {
            "updatedAt": now,
            "createdAt": base["createdAt"] if base else now,
            "name": name,
            "label": str(payload["label"]),
            "type": type_,
            "fieldType": field_type,
            "description": str(payload.get("description") or ""),
            "groupName": group,
            "options": options,
            "displayOrder": int(payload.get("displayOrder", -1)),
            "calculated": bool(base and base["calculated"]),
            "externalOptions": False,
            "hasUniqueValue": bool(payload.get("hasUniqueValue", False)),
            "hidden": bool(payload.get("hidden", False)),
            "hubspotDefined": bool(base and base["hubspotDefined"]),
            "modificationMetadata": metadata,
            "formField": bool(payload.get("formField", True)),
            "archived": False,
        }

    def archive_definition(self, name: str, *, now: str) -> None:
        """``DELETE /crm/v3/properties/{objectType}/{name}``: HubSpot's own properties refuse."""
        definition = self.get_definition(name)
        if not definition["modificationMetadata"]["archivable"]:
            raise HubSpotError.validation(
                f"Property {name} is HubSpot-defined and cannot be archived"
            )
        definition["archived"] = True
        definition["archivedAt"] = now
        self._refresh_rules()

    def update_group(self, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        """``PATCH /crm/v3/properties/{objectType}/groups/{groupName}``: label and display order."""
        group = self.get_group(name)
        if "label" in payload:
            group["label"] = str(payload["label"])
        if "displayOrder" in payload:
            group["displayOrder"] = int(payload["displayOrder"])
        return group

    def get_group(self, name: str) -> dict[str, Any]:
        """One live group, or 404."""
        group = self.groups.get(name)
        if group is None or group["archived"]:
            raise HubSpotError.not_found(f"Unable to find property group {name}")
        return group

    def archive_group(self, name: str) -> None:
        """``DELETE .../groups/{groupName}``: only a group without live properties."""
        group = self.get_group(name)
        if any(d["groupName"] == name and not d["archived"] for d in self.definitions.values()):
            raise HubSpotError.validation(f"Property group {name} still has properties")
        group["archived"] = True

    def create_group(self, payload: dict[str, Any]) -> dict[str, Any]:
        """``POST /crm/v3/properties/{objectType}/groups``: 201, or 409 if the group exists."""
        name, label = payload.get("name"), payload.get("label")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise HubSpotError.validation(f"Property group name {name!r} is invalid")
        if not label:
            raise HubSpotError.validation(
                f"Missing required field for property group {name}: label"
            )
        if name in self.groups and not self.groups[name]["archived"]:
            raise HubSpotError(
                409,
                f"A property group named '{name}' already exists.",
                "OBJECT_ALREADY_EXISTS",
                context={"name": [name]},
            )
        group = {
            "name": name,
            "label": str(label),
            "displayOrder": int(payload.get("displayOrder", -1)),
            "archived": False,
        }
        self.groups[name] = group
        return group

    # -- values ----------------------------------------------------------------------------------

    def normalize_values(
        self, values: Any, *, allow_read_only: bool = False
    ) -> tuple[dict[str, str | None], list[dict[str, Any]]]:
        """Check values to write; return them as stored strings (None clears) and the problems."""
        if not isinstance(values, dict):
            return {}, [_problem("properties", "properties must be an object", "INVALID_INPUT")]
        normalized: dict[str, str | None] = {}
        problems: list[dict[str, Any]] = []
        rules = self._rules
        for name, raw in values.items():
            rule = rules.get(name)
            if rule is None:
                problems.append(
                    _problem(name, f'Property "{name}" does not exist', "PROPERTY_DOESNT_EXIST")
                )
                continue
            type_, field_type, options, read_only = rule
            if read_only and not allow_read_only:
                problems.append(
                    _problem(
                        name,
                        f'"{name}" is a read only property; its value cannot be set.',
                        "READ_ONLY_VALUE",
                    )
                )
                continue
            if raw is None or raw == "":
                normalized[name] = None
                continue
            try:
                normalized[name] = _normalize(type_, field_type, options, raw)
            except ValueError as exc:
                code, message = exc.args if len(exc.args) == 2 else ("INVALID_INPUT", str(exc))
                problems.append(_problem(name, message, code))
            except (OverflowError, OSError):
                problems.append(_problem(name, f'"{raw}" is out of range', "INVALID_DATE"))
        return normalized, problems

    def checked_values(
        self, values: Any, *, allow_read_only: bool = False
    ) -> dict[str, str | None]:
        """:meth:`normalize_values`, raising HubSpot's 400 when any value is refused."""
        normalized, problems = self.normalize_values(values, allow_read_only=allow_read_only)
        if problems:
            raise property_error(problems)
        return normalized


def property_error(problems: list[dict[str, Any]]) -> HubSpotError:
    """The 400 HubSpot answers when property values are refused."""
    from connectors.sandbox.hubspot.errors import validation_message

    return HubSpotError.validation(
        validation_message(problems),
        errors=[
            {"message": p["message"], "code": p["error"], "context": {"propertyName": [p["name"]]}}
            for p in problems
        ],
    )


def _normalize(type_: str, field_type: str, options: frozenset[str], raw: Any) -> str:
    if type_ == "string" or type_ == "phone_number":
        text = raw if isinstance(raw, str) else _json_scalar(raw)
        if len(text) > _MAX_STRING:
            raise ValueError("MAX_CHARACTERS", f"Value is longer than {_MAX_STRING} characters")
        return text
    if type_ == "number":
        if isinstance(raw, bool):
            raise ValueError("INVALID_DECIMAL", f"{raw!r} is not a valid number")
        if isinstance(raw, int):
            return str(raw)
        if isinstance(raw, float):
            if not math.isfinite(raw):
                raise ValueError("INVALID_DECIMAL", f"{raw!r} is not a valid number")
            return str(int(raw)) if raw.is_integer() else repr(raw)
        text = str(raw).strip()
        try:
            number = float(text)
        except ValueError:
            raise ValueError("INVALID_DECIMAL", f'"{text}" is not a valid number') from None
        if not math.isfinite(number):
            raise ValueError("INVALID_DECIMAL", f'"{text}" is not a valid number')
        return text
    if type_ == "bool":
        text = _json_scalar(raw).strip().lower()
        if text not in ("true", "false"):
            raise ValueError(
                "INVALID_OPTION", f'"{raw}" was not one of the allowed options: [true, false]'
            )
        return text
    if type_ == "enumeration":
        text = raw if isinstance(raw, str) else _json_scalar(raw)
        parts = text.split(";") if field_type == "checkbox" else [text]
        for part in parts:
            if part not in options:
                allowed = ", ".join(sorted(options))
                raise ValueError(
                    "INVALID_OPTION", f'"{part}" was not one of the allowed options: [{allowed}]'
                )
        return text
    if type_ in ("datetime", "date"):
        millis = parse_datetime_ms(raw)
        if millis is None:
            raise ValueError(
                "INVALID_DATE", f'"{raw}" is not a valid date; use epoch milliseconds or ISO 8601'
            )
        moment = datetime.fromtimestamp(millis / 1000, tz=UTC)
        if type_ == "datetime":
            return format_datetime(moment)
        if millis % 86_400_000:
            raise ValueError(
                "INVALID_DATE", f'"{raw}" is not midnight UTC, as a date property requires'
            )
        return moment.strftime("%Y-%m-%d")
    raise ValueError("INVALID_INPUT", f"unsupported property type {type_}")


def _json_scalar(raw: Any) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int | float | str):
        return str(raw)
    raise ValueError("INVALID_INPUT", f"{raw!r} is not a valid property value")
