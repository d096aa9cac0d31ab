"""The org's objects: what describe reports, what SOQL may name, what writes accept.

Records are dicts of the object's record type: a field a record does not hold reads as its
default (null; false for a checkbox; the integration user for who created, modified and owns
it). Most fields of most records are empty, so objects seeded by the hundred thousand keep only
what they hold; Account records are kept whole (the sync's hot path reads them field by field).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from connectors.sandbox.salesforce.field_catalog import (
    CHILD_RELATIONSHIPS,
    CUSTOM_DEMO_FIELDS,
    OBJECTS,
    WRITEBACK_FIELDS,
    ObjectInfo,
    standard_fields,
)
from connectors.sandbox.salesforce.fields import FieldSpec
from connectors.sandbox.salesforce.ids import USER_ID

__all__ = ["ChildRelationship", "ObjectSchema", "Record", "build_schema"]

# Fields every record has a value for, whoever wrote it: the integration user unless stated.
_USER_DEFAULTS = frozenset({"OwnerId", "CreatedById", "LastModifiedById"})


class Record(dict[str, Any]):
    """A record: absent fields read as the object's defaults (see the module docstring)."""

    __slots__ = ()
    defaults: ClassVar[dict[str, Any]] = {}

    def __missing__(self, key: str) -> Any:
        return self.defaults[key]


class ChildRelationship:
    """A parent's named list of children (``Contacts`` of an Account): a child subquery's
    ``FROM``, and what deleting the parent takes with it."""

    def __init__(self, name: str, child: str, field: str, cascade_delete: bool) -> None:
        self.name = name
        self.child = child
        self.field = field
        self.cascade_delete = cascade_delete

    def describe(self) -> dict[str, Any]:
        """The relationship as describe's ``childRelationships`` lists it."""
        return {
            "cascadeDelete": self.cascade_delete,
            "childSObject": self.child,
            "deprecatedAndHidden": False,
            "field": self.field,
            "junctionIdListNames": [],
            "junctionReferenceTo": [],
            "relationshipName": self.name,
            "restrictedDelete": False,
        }


class ObjectSchema:
    """The fields of one object, in describe order; names resolve case-insensitively."""

    def __init__(
        self,
        info: ObjectInfo,
        fields: Iterable[FieldSpec],
        children: Iterable[ChildRelationship] = (),
        *,
        whole_records: bool = False,
    ) -> None:
        self.name = info.name
        self.label = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", info.name)
        self.label_plural = info.plural
        self.key_prefix = info.prefix
        self.writable = info.writable
        self.whole_records = whole_records
        self.fields: dict[str, FieldSpec] = {}
        self._by_lower: dict[str, FieldSpec] = {}
        # Objects without IsDeleted (User) still answer it for the store's bookkeeping.
        self._template: dict[str, Any] = {"IsDeleted": False}
        self.record_type: type[Record] = type(
            f"{info.name}Record", (Record,), {"__slots__": (), "defaults": self._template}
        )
        self.children = {child.name.lower(): child for child in children}
        self.relationships: dict[str, FieldSpec] = {}
        for spec in fields:
            self.add(spec)

    def add(self, spec: FieldSpec) -> None:
        """Add (or replace) a field."""
        self.fields[spec.name] = spec
        self._by_lower[spec.name.lower()] = spec
        if spec.name in _USER_DEFAULTS:
            self._template[spec.name] = USER_ID
        else:
            self._template[spec.name] = False if spec.type == "boolean" else None
        if spec.relationship_name:
            self.relationships[spec.relationship_name.lower()] = spec

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

    def relationship(self, name: str) -> FieldSpec | None:
        """The reference field whose relationship is called ``name`` (``Owner``), or None."""
        return self.relationships.get(name.lower())

    def child(self, name: str) -> ChildRelationship | None:
        """The child relationship called ``name`` (``Contacts``), or None."""
        return self.children.get(name.lower())

    def new_record(self, values: dict[str, Any]) -> Record:
        """A record holding ``values``, every other field at its default."""
        if self.whole_records:
            record = self.record_type(self._template)
            record.update(values)
            return record
        return self.record_type(values)

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
        writable = self.writable
        # History objects are written by the platform alone and have no layouts or feeds.
        business = "History" not in self.name
        return {
            "activateable": False,
            "createable": writable,
            "custom": False,
            "customSetting": False,
            "deepCloneable": False,
            "deletable": writable,
            "deprecatedAndHidden": False,
            "feedEnabled": business and self.name != "OpportunityContactRole",
            "hasSubtypes": False,
            "isInterface": False,
            "isSubtype": False,
            "keyPrefix": self.key_prefix,
            "label": self.label,
            "labelPlural": self.label_plural,
            "layoutable": business,
            "mergeable": self.name in ("Account", "Contact"),
            "mruEnabled": business and self.name != "OpportunityContactRole",
            "name": self.name,
            "queryable": True,
            "replicateable": True,
            "retrieveable": True,
            "searchable": self.name in ("Account", "Contact", "Opportunity", "User"),
            "triggerable": business,
            "undeletable": writable,
            "updateable": writable,
            "urls": self.urls(version),
        }

    def describe(self, version: str) -> dict[str, Any]:
        """``GET sobjects/<name>/describe``: the object and all its fields."""
        return {
            **self.summary(version),
            "actionOverrides": [],
            "associateEntityType": None,
            "associateParentEntity": None,
            "childRelationships": [child.describe() for child in self.children.values()],
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
    schemas = {}
    for info in OBJECTS:
        fields = standard_fields(info)
        if info.name == "Account":
            fields += [*CUSTOM_DEMO_FIELDS, *(WRITEBACK_FIELDS if writeback_fields else ())]
        children = [
            ChildRelationship(name, child, field, cascade)
            for parent, name, child, field, cascade in CHILD_RELATIONSHIPS
            if parent == info.name
        ]
        schemas[info.name] = ObjectSchema(
            info, fields, children, whole_records=info.name == "Account"
        )
    return schemas
