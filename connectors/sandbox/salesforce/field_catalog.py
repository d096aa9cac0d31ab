"""The standard and custom fields of the org's objects, and their picklists: data, as
Salesforce documents them (the behaviour is FieldSpec's, in fields.py)."""

from __future__ import annotations

from typing import Final

from connectors.sandbox.common.demo_data import INDUSTRIES, TECHNOLOGIES
from connectors.sandbox.salesforce.fields import FieldSpec

__all__ = [
    "ACCOUNT_TYPES",
    "CUSTOM_DEMO_FIELDS",
    "STAGES",
    "WRITEBACK_FIELDS",
    "account_fields",
    "custom_field_catalog",
    "opportunity_fields",
]

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


def account_fields(*, writeback: bool) -> list[FieldSpec]:
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


def opportunity_fields() -> list[FieldSpec]:
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


def custom_field_catalog() -> dict[str, FieldSpec]:
    """Every custom Account field the sandbox knows how to (re)create, by name."""
    return {spec.name: spec for spec in (*CUSTOM_DEMO_FIELDS, *WRITEBACK_FIELDS)}
