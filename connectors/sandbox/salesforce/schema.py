"""The org's objects: what describe reports, what SOQL may name, what writes accept."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from connectors.sandbox.salesforce.field_catalog import account_fields, opportunity_fields
from connectors.sandbox.salesforce.fields import FieldSpec
from connectors.sandbox.salesforce.ids import ACCOUNT_PREFIX, OPPORTUNITY_PREFIX

__all__ = ["ObjectSchema", "build_schema"]


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
            "Account", "Accounts", ACCOUNT_PREFIX, account_fields(writeback=writeback_fields)
        ),
        "Opportunity": ObjectSchema(
            "Opportunity", "Opportunities", OPPORTUNITY_PREFIX, opportunity_fields()
        ),
    }
