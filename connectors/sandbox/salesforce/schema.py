"""The org's objects and fields: what describe reports, what SOQL may name, what writes accept.

Values are kept JSON-typed as the REST API returns them: numbers as numbers, checkboxes as
booleans (never null), dates as ``YYYY-MM-DD``, datetimes as ``YYYY-MM-DDTHH:MM:SS.sss+0000``
in UTC, multi-select picklists as ``;``-separated strings, blank text as null.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Final

from connectors.sandbox.common.demo_data import INDUSTRIES, TECHNOLOGIES
from connectors.sandbox.salesforce.errors import RecordError, SalesforceError
from connectors.sandbox.salesforce.ids import ACCOUNT_PREFIX, OPPORTUNITY_PREFIX

__all__ = [
    "ACCOUNT_TYPES",
    "CUSTOM_DEMO_FIELDS",
    "NUMBER_TYPES",
    "STAGES",
    "TEXT_TYPES",
    "WRITEBACK_FIELDS",
    "FieldSpec",
    "ObjectSchema",
    "build_schema",
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
}

ACCOUNT_TYPES: Final = (
    "Prospect",
    "Customer - Direct",
    "Customer - Channel",
    "Channel Partner / Reseller",
    "Installation Partner",
    "Technology Partner",
    "Other",
)
FUNDING_STAGES: Final = (
    "Bootstrapped",
    "Seed",
    "Series A",
    "Series B",
    "Series C",
    "Growth",
    "IPO",
)
# Stage, probability, closed, won: Salesforce's default sales process.
STAGES: Final[tuple[tuple[str, int, bool, bool], ...]] = (
    ("Prospecting", 10, False, False),
    ("Qualification", 10, False, False),
    ("Needs Analysis", 20, False, False),
    ("Value Proposition", 50, False, False),
    ("Id. Decision Makers", 60, False, False),
    ("Perception Analysis", 70, False, False),
    ("Proposal/Price Quote", 75, False, False),
    ("Negotiation/Review", 90, False, False),
    ("Closed Won", 100, True, True),
    ("Closed Lost", 0, True, False),
)
OPPORTUNITY_TYPES: Final = (
    "New Customer",
    "Existing Customer - Upgrade",
    "Existing Customer - Replacement",
    "Existing Customer - Downgrade",
)


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

    @property
    def is_text(self) -> bool:
        """Compared and sorted case-insensitively, as SOQL does for text."""
        return self.type in TEXT_TYPES

    def describe(self) -> dict[str, Any]:
        """The field as an element of describe's ``fields``."""
        text = self.type in TEXT_TYPES or self.type in ID_TYPES
        system = not (self.createable or self.updateable)
        return {
            "aggregatable": self.type not in ("textarea", "multipicklist"),
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
            "filterable": self.type != "textarea" or self.length <= 255,
            "filteredLookupInfo": None,
            "groupable": self.type not in NUMBER_TYPES
            and self.type not in ("textarea", "datetime"),
            "highScaleNumber": False,
            "htmlFormatted": False,
            "idLookup": self.type == "id" or self.name_field,
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
            "sortable": self.type not in ("textarea", "multipicklist") or self.length <= 255,
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


def _system_fields() -> list[FieldSpec]:
    def reference(name: str, label: str, relationship: str) -> FieldSpec:
        return FieldSpec(
            name,
            "reference",
            label,
            length=18,
            nillable=False,
            reference_to=("User",),
            relationship_name=relationship,
            createable=False,
            updateable=False,
        )

    def stamp(name: str, label: str) -> FieldSpec:
        return FieldSpec(
            name, "datetime", label, nillable=False, createable=False, updateable=False
        )

    return [
        reference("OwnerId", "Owner ID", "Owner"),
        stamp("CreatedDate", "Created Date"),
        reference("CreatedById", "Created By ID", "CreatedBy"),
        stamp("LastModifiedDate", "Last Modified Date"),
        reference("LastModifiedById", "Last Modified By ID", "LastModifiedBy"),
        stamp("SystemModstamp", "System Modstamp"),
    ]


def _head(label: str) -> list[FieldSpec]:
    return [
        FieldSpec(
            "Id", "id", f"{label} ID", length=18, nillable=False, createable=False, updateable=False
        ),
        FieldSpec(
            "IsDeleted", "boolean", "Deleted", nillable=False, createable=False, updateable=False
        ),
    ]


CUSTOM_DEMO_FIELDS: Final[tuple[FieldSpec, ...]] = (
    FieldSpec(
        "Funding_Stage__c",
        "picklist",
        "Funding Stage",
        custom=True,
        length=255,
        picklist=FUNDING_STAGES,
    ),
    FieldSpec("Total_Funding__c", "currency", "Total Funding", custom=True, precision=18),
    FieldSpec("Founded_Year__c", "double", "Founded Year", custom=True, precision=4),
    FieldSpec("Has_Inhouse_SEO__c", "boolean", "Has In-house SEO", custom=True, nillable=False),
    FieldSpec("Is_Competitor__c", "boolean", "Is Competitor", custom=True, nillable=False),
    FieldSpec("NPS__c", "double", "NPS", custom=True, precision=2),
    FieldSpec(
        "Tech_Stack__c",
        "multipicklist",
        "Tech Stack",
        custom=True,
        length=4099,
        picklist=TECHNOLOGIES,
    ),
)
WRITEBACK_FIELDS: Final[tuple[FieldSpec, ...]] = (
    FieldSpec("ICP_Fit_Score__c", "double", "ICP Fit Score", custom=True, precision=3),
    FieldSpec(
        "ICP_Tier__c",
        "picklist",
        "ICP Tier",
        custom=True,
        length=255,
        picklist=("A", "B", "C", "D"),
        restricted=True,
    ),
    FieldSpec("ICP_Is_MQL__c", "boolean", "ICP Is MQL", custom=True, nillable=False),
    FieldSpec("ICP_Is_SQL__c", "boolean", "ICP Is SQL", custom=True, nillable=False),
    FieldSpec(
        "ICP_Fit_Reasons__c",
        "textarea",
        "ICP Fit Reasons",
        custom=True,
        length=32768,
        extra_type_info="plaintextarea",
    ),
    FieldSpec("ICP_Version__c", "string", "ICP Version", custom=True, length=255),
    FieldSpec("ICP_Scored_At__c", "datetime", "ICP Scored At", custom=True),
)


def _account_fields(*, writeback: bool) -> list[FieldSpec]:
    return [
        *_head("Account"),
        FieldSpec(
            "Name",
            "string",
            "Account Name",
            length=255,
            nillable=False,
            required=True,
            name_field=True,
        ),
        FieldSpec("Type", "picklist", "Account Type", length=255, picklist=ACCOUNT_TYPES),
        FieldSpec(
            "Industry",
            "picklist",
            "Industry",
            length=255,
            picklist=tuple(label for label, _ in INDUSTRIES),
        ),
        FieldSpec("Website", "url", "Website", length=255),
        FieldSpec("NumberOfEmployees", "int", "Employees", digits=8),
        FieldSpec("AnnualRevenue", "currency", "Annual Revenue", precision=18),
        FieldSpec("BillingCity", "string", "Billing City", length=40, compound="BillingAddress"),
        FieldSpec(
            "BillingState", "string", "Billing State/Province", length=80, compound="BillingAddress"
        ),
        FieldSpec(
            "BillingCountry", "string", "Billing Country", length=80, compound="BillingAddress"
        ),
        *_system_fields(),
        *CUSTOM_DEMO_FIELDS,
        *(WRITEBACK_FIELDS if writeback else ()),
    ]


def _opportunity_fields() -> list[FieldSpec]:
    return [
        *_head("Opportunity"),
        FieldSpec(
            "AccountId",
            "reference",
            "Account ID",
            length=18,
            reference_to=("Account",),
            relationship_name="Account",
        ),
        FieldSpec(
            "Name", "string", "Name", length=120, nillable=False, required=True, name_field=True
        ),
        FieldSpec(
            "StageName",
            "picklist",
            "Stage",
            length=255,
            nillable=False,
            required=True,
            picklist=tuple(stage for stage, *_ in STAGES),
            restricted=True,
        ),
        FieldSpec("Amount", "currency", "Amount", precision=18, scale=2),
        FieldSpec("Probability", "percent", "Probability (%)", precision=3),
        FieldSpec("CloseDate", "date", "Close Date", nillable=False, required=True),
        FieldSpec("Type", "picklist", "Opportunity Type", length=255, picklist=OPPORTUNITY_TYPES),
        FieldSpec(
            "IsClosed", "boolean", "Closed", nillable=False, createable=False, updateable=False
        ),
        FieldSpec("IsWon", "boolean", "Won", nillable=False, createable=False, updateable=False),
        *_system_fields(),
    ]


class ObjectSchema:
    """The fields of one object, in describe order; names resolve case-insensitively."""

    def __init__(
        self, name: str, label_plural: str, key_prefix: str, fields: Iterable[FieldSpec]
    ) -> None:
        self.name = name
        self.label_plural = label_plural
        self.key_prefix = key_prefix
        self.fields: dict[str, FieldSpec] = {}
        self._by_lower: dict[str, FieldSpec] = {}
        self._template: dict[str, Any] = {}
        for spec in fields:
            self.add(spec)

    def add(self, spec: FieldSpec) -> None:
        """Add (or replace) a field."""
        self.fields[spec.name] = spec
        self._by_lower[spec.name.lower()] = spec
        self._template[spec.name] = False if spec.type == "boolean" else None

    def remove(self, name: str) -> FieldSpec:
        """Delete a custom field; standard fields cannot be deleted."""
        spec = self.resolve(name)
        if spec is None:
            raise ValueError(f"{self.name} has no field {name!r}")
        if not spec.custom:
            raise ValueError(f"{spec.name} is a standard field and cannot be deleted")
        del self.fields[spec.name]
        del self._by_lower[spec.name.lower()]
        del self._template[spec.name]
        return spec

    def resolve(self, name: str) -> FieldSpec | None:
        """The field called ``name`` in any letter case, or None."""
        return self._by_lower.get(name.lower())

    def empty_record(self) -> dict[str, Any]:
        """Every field of a new record at its default (false for checkboxes, else null)."""
        return self._template.copy()

    def urls(self, version: str) -> dict[str, str]:
        """The object's REST resources, as describe lists them."""
        base = f"/services/data/v{version}/sobjects/{self.name}"
        return {
            "compactLayouts": f"{base}/describe/compactLayouts",
            "rowTemplate": f"{base}/{{ID}}",
            "approvalLayouts": f"{base}/describe/approvalLayouts",
            "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
            "listviews": f"{base}/listviews",
            "describe": f"{base}/describe",
            "quickActions": f"{base}/quickActions",
            "layouts": f"{base}/describe/layouts",
            "sobject": base,
        }

    def summary(self, version: str) -> dict[str, Any]:
        """The object as describeGlobal lists it."""
        return {
            "activateable": False,
            "createable": True,
            "custom": False,
            "customSetting": False,
            "deepCloneable": False,
            "deletable": True,
            "deprecatedAndHidden": False,
            "feedEnabled": True,
            "hasSubtypes": False,
            "isInterface": False,
            "isSubtype": False,
            "keyPrefix": self.key_prefix,
            "label": self.name,
            "labelPlural": self.label_plural,
            "layoutable": True,
            "mergeable": self.name == "Account",
            "mruEnabled": True,
            "name": self.name,
            "queryable": True,
            "replicateable": True,
            "retrieveable": True,
            "searchable": True,
            "triggerable": True,
            "undeletable": True,
            "updateable": True,
            "urls": self.urls(version),
        }

    def describe(self, version: str) -> dict[str, Any]:
        """``GET sobjects/<name>/describe``: the object and all its fields."""
        children = []
        if self.name == "Account":
            children.append(
                {
                    "cascadeDelete": True,
                    "childSObject": "Opportunity",
                    "deprecatedAndHidden": False,
                    "field": "AccountId",
                    "junctionIdListNames": [],
                    "junctionReferenceTo": [],
                    "relationshipName": "Opportunities",
                    "restrictedDelete": False,
                }
            )
        return {
            **self.summary(version),
            "actionOverrides": [],
            "associateEntityType": None,
            "associateParentEntity": None,
            "childRelationships": children,
            "compactLayoutable": True,
            "defaultImplementation": None,
            "extendedBy": None,
            "extendsInterfaces": None,
            "fields": [spec.describe() for spec in self.fields.values()],
            "implementedBy": None,
            "implementsInterfaces": None,
            "listviewable": None,
            "lookupLayoutable": None,
            "namedLayoutInfos": [],
            "networkScopeFieldName": None,
            "recordTypeInfos": [
                {
                    "active": True,
                    "available": True,
                    "defaultRecordTypeMapping": True,
                    "developerName": "Master",
                    "master": True,
                    "name": "Master",
                    "recordTypeId": "012000000000000AAA",
                    "urls": {
                        "layout": f"/services/data/v{version}/sobjects/{self.name}"
                        "/describe/layouts/012000000000000AAA"
                    },
                }
            ],
            "searchLayoutable": True,
            "sobjectDescribeOption": "FULL",
            "supportedScopes": [
                {"label": "All " + self.label_plural.lower(), "name": "everything"},
                {"label": "My " + self.label_plural.lower(), "name": "mine"},
            ],
            "urls": self.urls(version),
        }


def build_schema(*, writeback_fields: bool) -> dict[str, ObjectSchema]:
    """A fresh org's objects; the ICP write-back fields exist only if ``writeback_fields``."""
    return {
        "Account": ObjectSchema(
            "Account", "Accounts", ACCOUNT_PREFIX, _account_fields(writeback=writeback_fields)
        ),
        "Opportunity": ObjectSchema(
            "Opportunity", "Opportunities", OPPORTUNITY_PREFIX, _opportunity_fields()
        ),
    }


def custom_field_catalog() -> dict[str, FieldSpec]:
    """Every custom Account field the sandbox knows how to (re)create, by name."""
    return {spec.name: spec for spec in (*CUSTOM_DEMO_FIELDS, *WRITEBACK_FIELDS)}
