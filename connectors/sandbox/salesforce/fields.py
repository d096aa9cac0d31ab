"""A Salesforce field: its describe entry and the rules a write to it must follow.

Values are kept JSON-typed as the REST API returns them: numbers as numbers, checkboxes as
booleans (never null), dates as ``YYYY-MM-DD``, datetimes as ``YYYY-MM-DDTHH:MM:SS.sss+0000``
in UTC, multi-select picklists as ``;``-separated strings, blank text as null.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Final

from connectors.sandbox.salesforce.errors import RecordError, SalesforceError

__all__ = [
    "ID_TYPES",
    "NUMBER_TYPES",
    "TEXT_TYPES",
    "FieldSpec",
    "format_datetime",
    "format_epoch_ms",
    "parse_datetime",
]

TEXT_TYPES: Final = frozenset(
    {"string", "textarea", "url", "picklist", "multipicklist", "phone", "email", "combobox"}
)
ID_TYPES: Final = frozenset({"id", "reference"})
NUMBER_TYPES: Final = frozenset({"int", "double", "currency", "percent"})
_SOAP_TYPES: Final = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "address": "urn:address",
    "anyType": "xsd:anyType",
}
# Compound and polymorphic values: neither filtered, sorted, grouped nor aggregated by SOQL.
_OPAQUE_TYPES: Final = frozenset({"address", "anyType"})


def format_datetime(moment: datetime) -> str:
    """``2026-11-23T10:00:00.000+0000``: how the REST API writes a datetime."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def format_epoch_ms(epoch_ms: int) -> str:
    """A datetime given in milliseconds since the epoch, formatted as the REST API does."""
    return format_datetime(datetime.fromtimestamp(epoch_ms / 1000, UTC))


def parse_datetime(text: str) -> datetime | None:
    """An ISO 8601 datetime (``Z``, ``+0000`` or ``+00:00``; no offset means UTC), or None."""
    if not isinstance(text, str) or "T" not in text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class FieldSpec:
    """One field of an object: its type and the rules writes must follow."""

    name: str
    type: str
    label: str
    custom: bool = False
    length: int = 0
    precision: int = 0
    scale: int = 0
    digits: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    required: bool = False  # must have a value: on create, and cannot be cleared
    picklist: tuple[str, ...] = ()
    restricted: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    name_field: bool = False
    extra_type_info: str | None = None
    compound: str | None = None
    id_lookup: bool = False

    @property
    def is_text(self) -> bool:
        """Compared and sorted case-insensitively, as SOQL does for text."""
        return self.type in TEXT_TYPES

    @property
    def filterable(self) -> bool:
        """Whether a WHERE may name it (long text areas and compound values: no)."""
        return self.type not in _OPAQUE_TYPES and (self.type != "textarea" or self.length <= 255)

    @property
    def sortable(self) -> bool:
        """Whether an ORDER BY may name it."""
        if self.type in _OPAQUE_TYPES:
            return False
        return self.type not in ("textarea", "multipicklist") or self.length <= 255

    @property
    def groupable(self) -> bool:
        """Whether a GROUP BY may name it (not fractional numbers, long text or datetimes)."""
        return self.type not in (
            "double",
            "currency",
            "percent",
            "textarea",
            "datetime",
            "multipicklist",
            *_OPAQUE_TYPES,
        )

    def describe(self) -> dict[str, Any]:
        """The field as an element of describe's ``fields``."""
        text = self.type in TEXT_TYPES or self.type in ID_TYPES
        system = not (self.createable or self.updateable)
        return {
            "aggregatable": self.type not in ("textarea", "multipicklist", *_OPAQUE_TYPES),
            "aiPredictionField": False,
            "autoNumber": False,
            "byteLength": self.length * 3 if text else 0,
            "calculated": False,
            "calculatedFormula": None,
            "cascadeDelete": False,
            "caseSensitive": False,
            "compoundFieldName": self.compound,
            "controllerName": None,
            "createable": self.createable,
            "custom": self.custom,
            "defaultValue": False if self.type == "boolean" else None,
            "defaultValueFormula": None,
            "defaultedOnCreate": self.type == "boolean" or system or self.name == "OwnerId",
            "dependentPicklist": False,
            "deprecatedAndHidden": False,
            "digits": self.digits,
            "displayLocationInDecimal": False,
            "encrypted": False,
            "externalId": False,
            "extraTypeInfo": self.extra_type_info,
            "filterable": self.filterable,
            "filteredLookupInfo": None,
            "groupable": self.groupable,
            "highScaleNumber": False,
            "htmlFormatted": False,
            "idLookup": self.type == "id" or self.name_field or self.id_lookup,
            "inlineHelpText": None,
            "label": self.label,
            "length": self.length,
            "mask": None,
            "maskType": None,
            "name": self.name,
            "nameField": self.name_field,
            "namePointing": False,
            "nillable": self.nillable,
            "permissionable": self.custom and self.nillable,
            "picklistValues": [
                {
                    "active": True,
                    "defaultValue": False,
                    "label": value,
                    "validFor": None,
                    "value": value,
                }
                for value in self.picklist
            ],
            "polymorphicForeignKey": False,
            "precision": self.precision,
            "queryByDistance": False,
            "referenceTargetField": None,
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "relationshipOrder": None,
            "restrictedDelete": False,
            "restrictedPicklist": self.restricted,
            "scale": self.scale,
            "searchPrefilterable": self.type == "reference",
            "soapType": _SOAP_TYPES.get(self.type, "xsd:string"),
            "sortable": self.sortable,
            "type": self.type,
            "unique": False,
            "updateable": self.updateable,
            "writeRequiresMasterRead": False,
        }

    # -- writes ------------------------------------------------------------------------------

    def _unreadable(self, raw: Any) -> SalesforceError:
        kind = "VALUE_STRING" if isinstance(raw, str) else "VALUE_" + type(raw).__name__.upper()
        soap = _SOAP_TYPES.get(self.type, "xsd:string").split(":")[1]
        return SalesforceError.json_parser(
            f"Cannot deserialize instance of {soap} from {kind} value {raw} "
            "or request may be missing a required field"
        )

    def parse(self, raw: Any) -> Any:
        """A JSON value as this field stores it; a value of the wrong kind refuses the call."""
        kind = self.type
        if raw is None:
            return False if kind == "boolean" else None
        if isinstance(raw, (list, dict)):
            raise self._unreadable(raw)
        if kind in TEXT_TYPES:
            if isinstance(raw, bool):
                raw = "true" if raw else "false"
            elif not isinstance(raw, str):
                raw = repr(raw) if isinstance(raw, float) else str(raw)
            return raw or None
        if kind == "boolean":
            if isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and raw.lower() in ("true", "false"):
                return raw.lower() == "true"
            raise self._unreadable(raw)
        if kind in NUMBER_TYPES:
            if isinstance(raw, bool):
                raise self._unreadable(raw)
            try:
                number = float(raw) if isinstance(raw, str) else raw
            except ValueError:
                raise self._unreadable(raw) from None
            if kind == "int":
                if isinstance(number, float):
                    if not number.is_integer():
                        raise self._unreadable(raw)
                    number = int(number)
                return number
            return float(number)
        if kind == "datetime":
            moment = parse_datetime(raw) if isinstance(raw, str) else None
            if moment is None:
                raise self._unreadable(raw)
            return format_datetime(moment)
        if kind == "date":
            try:
                return date.fromisoformat(str(raw)[:10]).isoformat()
            except ValueError:
                raise self._unreadable(raw) from None
        if kind in ID_TYPES:
            if not isinstance(raw, str):
                raise self._unreadable(raw)
            return raw or None
        return raw

    def check(self, value: Any) -> tuple[Any, RecordError | None]:
        """The value as stored (numbers rounded to the field's scale), or why it is refused."""
        if value is None:
            if self.required:
                return value, RecordError(
                    "REQUIRED_FIELD_MISSING",
                    f"Required fields are missing: [{self.name}]",
                    [self.name],
                )
            return value, None
        kind = self.type
        if kind in TEXT_TYPES:
            if self.restricted and value not in self.picklist:
                return value, RecordError(
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    f"bad value for restricted picklist field: {value}",
                    [self.name],
                )
            if self.length and len(value) > self.length:
                return value, RecordError(
                    "STRING_TOO_LONG",
                    f"{self.label}: data value too large: {value[:40]} (max length={self.length})",
                    [self.name],
                )
        elif kind in NUMBER_TYPES:
            limit_digits = self.digits if kind == "int" else self.precision - self.scale
            if kind != "int":
                try:
                    quantum = Decimal(1).scaleb(-self.scale)
                    value = float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))
                except InvalidOperation:
                    limit_digits = 0
            if limit_digits and abs(value) >= 10**limit_digits:
                return value, RecordError(
                    "NUMBER_OUTSIDE_VALID_RANGE",
                    f"{self.label}: value outside of valid range on numeric field: {value}",
                    [self.name],
                )
        return value, None
