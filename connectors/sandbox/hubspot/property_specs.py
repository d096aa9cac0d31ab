"""Property specs: the rows of ``default_properties`` parsed, the option lists they name, the
demo's custom company properties, and which properties a read returns by default.

``properties.PropertyCatalog`` turns these specs into definitions and enforces the value rules
they imply; nothing here has behaviour beyond spelling option values from labels.
"""

from __future__ import annotations

import functools
import re
from typing import Final, NamedTuple

from connectors.sandbox.common.demo_people import BUYING_ROLES
from connectors.sandbox.hubspot.default_properties import TABLES
from connectors.sandbox.hubspot.objects import OBJECT_TYPES
from connectors.sandbox.hubspot.owners import OWNER_RECORDS
from connectors.sandbox.hubspot.pipelines import PIPELINES

__all__ = [
    "BOOL_OPTIONS",
    "DEFAULT_PROPERTIES",
    "DEFAULT_SPECS",
    "DEMO_COMPANY_GROUP",
    "DEMO_COMPANY_SPECS",
    "INDUSTRY_LABELS",
    "LIFECYCLE_STAGES",
    "WEB_TECHNOLOGY_LABELS",
    "Spec",
    "always_returned",
    "industry_value",
    "option_value",
]


@functools.lru_cache(maxsize=1024)
def option_value(label: str) -> str:
    """``Adobe Experience Manager`` → ``adobe_experience_manager``: HubSpot-style option values."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


@functools.lru_cache(maxsize=1024)
def industry_value(label: str) -> str:
    """``Hospital & Health Care`` → ``HOSPITAL_HEALTH_CARE``: the industry property's values."""
    return re.sub(r"[^A-Z0-9]+", "_", label.upper()).strip("_")


class Spec(NamedTuple):
    """One property as a portal defines it."""

    name: str
    label: str
    type: str
    field_type: str
    group: str
    options: tuple[tuple[str, str], ...]  # (value, label)
    read_only: bool = False
    calculated: bool = False
    hubspot_defined: bool = True
    unique: bool = False
    external_options: bool = False
    hidden: bool = False


Options = tuple[tuple[str, str], ...]

BOOL_OPTIONS: Final[Options] = (("true", "Yes"), ("false", "No"))
# HubSpot's industry options (LinkedIn's industries); values are the labels spelled by
# industry_value().
INDUSTRY_LABELS: Final = (
    "Accounting", "Airlines/Aviation", "Alternative Dispute Resolution", "Alternative Medicine",
    "Animation", "Apparel & Fashion", "Architecture & Planning", "Arts and Crafts", "Automotive",
    "Aviation & Aerospace", "Banking", "Biotechnology", "Broadcast Media", "Building Materials",
    "Business Supplies and Equipment", "Capital Markets", "Chemicals",
    "Civic & Social Organization", "Civil Engineering", "Commercial Real Estate",
    "Computer & Network Security", "Computer Games", "Computer Hardware", "Computer Networking",
    "Computer Software", "Internet", "Construction", "Consumer Electronics", "Consumer Goods",
    "Consumer Services", "Cosmetics", "Dairy", "Defense & Space", "Design",
    "Education Management", "E-Learning", "Electrical/Electronic Manufacturing", "Entertainment",
    "Environmental Services", "Events Services", "Executive Office", "Facilities Services",
    "Farming", "Financial Services", "Fine Art", "Fishery", "Food & Beverages", "Food Production",
    "Fund-Raising", "Furniture", "Gambling & Casinos", "Glass, Ceramics & Concrete",
    "Government Administration", "Government Relations", "Graphic Design",
    "Health, Wellness and Fitness", "Higher Education", "Hospital & Health Care", "Hospitality",
    "Human Resources", "Import and Export", "Individual & Family Services",
    "Industrial Automation", "Information Services", "Information Technology and Services",
    "Insurance", "International Affairs", "International Trade and Development",
    "Investment Banking", "Investment Management", "Judiciary", "Law Enforcement",
    "Law Practice", "Legal Services", "Legislative Office", "Leisure, Travel & Tourism",
    "Libraries", "Logistics and Supply Chain", "Luxury Goods & Jewelry", "Machinery",
    "Management Consulting", "Maritime", "Market Research", "Marketing and Advertising",
    "Mechanical or Industrial Engineering", "Media Production", "Medical Devices",
    "Medical Practice", "Mental Health Care", "Military", "Mining & Metals",
    "Motion Pictures and Film", "Museums and Institutions", "Music", "Nanotechnology",
    "Newspapers", "Non-Profit Organization Management", "Oil & Energy", "Online Media",
    "Outsourcing/Offshoring", "Package/Freight Delivery", "Packaging and Containers",
    "Paper & Forest Products", "Performing Arts", "Pharmaceuticals", "Philanthropy",
    "Photography", "Plastics", "Political Organization", "Primary/Secondary Education",
    "Printing", "Professional Training & Coaching", "Program Development", "Public Policy",
    "Public Relations and Communications", "Public Safety", "Publishing",
    "Railroad Manufacture", "Ranching", "Real Estate", "Recreational Facilities and Services",
    "Religious Institutions", "Renewables & Environment", "Research", "Restaurants", "Retail",
    "Security and Investigations", "Semiconductors", "Shipbuilding", "Sporting Goods", "Sports",
    "Staffing and Recruiting", "Supermarkets", "Telecommunications", "Textiles", "Think Tanks",
    "Tobacco", "Translation and Localization", "Transportation/Trucking/Railroad", "Utilities",
    "Venture Capital & Private Equity", "Veterinary", "Warehousing", "Wholesale",
    "Wine and Spirits", "Wireless", "Writing and Editing", "Mobile Games",
)  # fmt: skip
WEB_TECHNOLOGY_LABELS: Final = (
    "Adobe Experience Manager", "Akamai", "Amazon Web Services", "Cloudflare", "Contentful",
    "Custom CMS", "Drupal", "Fastly", "Google Analytics", "Google Tag Manager", "Hotjar",
    "HubSpot CMS", "Intercom", "Marketo", "Next.js", "Optimizely", "React", "Salesforce",
    "Segment", "Shopify", "Sitecore", "Squarespace", "Stripe", "Webflow", "Wix", "WordPress",
    "Zendesk",
)  # fmt: skip
LIFECYCLE_STAGES: Final[Options] = (
    ("subscriber", "Subscriber"),
    ("lead", "Lead"),
    ("marketingqualifiedlead", "Marketing Qualified Lead"),
    ("salesqualifiedlead", "Sales Qualified Lead"),
    ("opportunity", "Opportunity"),
    ("customer", "Customer"),
    ("evangelist", "Evangelist"),
    ("other", "Other"),
)


def _upper(*labels: str) -> Options:
    return tuple((industry_value(label), label) for label in labels)


def _lower(*labels: str) -> Options:
    return tuple((option_value(label), label) for label in labels)


# The option lists the tables name; values as HubSpot's internal values.
OPTION_LISTS: Final[dict[str, Options]] = {
    "bool": BOOL_OPTIONS,
    "industry": tuple((industry_value(label), label) for label in INDUSTRY_LABELS),
    "web_technologies": _lower(*WEB_TECHNOLOGY_LABELS),
    "lifecyclestage": LIFECYCLE_STAGES,
    "lead_status": (
        ("NEW", "New"),
        ("OPEN", "Open"),
        ("IN_PROGRESS", "In Progress"),
        ("OPEN_DEAL", "Open Deal"),
        ("UNQUALIFIED", "Unqualified"),
        ("ATTEMPTED_TO_CONTACT", "Attempted to Contact"),
        ("CONNECTED", "Connected"),
        ("BAD_TIMING", "Bad Timing"),
    ),
    "company_type": _upper("Prospect", "Partner", "Reseller", "Vendor", "Other"),
    "employee_range": (
        *_lower("1", "2-5", "6-10", "11-25", "26-50", "51-200", "201-1000"),
        ("1001_10000", "1,001-10,000"),
        ("10001", "10,001+"),
    ),
    "revenue_range": _lower("0-1M", "1M-10M", "10M-50M", "50M-100M", "100M-1B", "1B+"),
    "ideal_customer_profile": (("tier_1", "Tier 1"), ("tier_2", "Tier 2"), ("tier_3", "Tier 3")),
    "target_account": _lower("Yes", "No"),
    "target_recommendation": _upper("Recommended", "Dismissed", "Added"),
    "company_pipeline": (("companies-lifecycle-pipeline", "Lifecycle Stage Pipeline"),),
    "contact_pipeline": (("contacts-lifecycle-pipeline", "Lifecycle Stage Pipeline"),),
    "analytics_source": _upper(
        "Organic Search",
        "Paid Search",
        "Email Marketing",
        "Social Media",
        "Referrals",
        "Other Campaigns",
        "Direct Traffic",
        "Offline Sources",
        "Paid Social",
        "AI Referrals",
    ),
    "object_source": _upper("CRM UI", "Integration", "Import", "Forms", "API"),
    "teams": (),
    "owners": tuple(
        (owner["id"], f"{owner['firstName']} {owner['lastName']}") for owner in OWNER_RECORDS
    ),
    "buying_role": tuple((role, role.replace("_", " ").title()) for role in BUYING_ROLES),
    "job_function": _upper(
        "Accounting",
        "Administrative",
        "Consulting",
        "Customer Success",
        "Design",
        "Engineering",
        "Finance",
        "Human Resources",
        "IT",
        "Legal",
        "Marketing",
        "Operations",
        "Product",
        "Sales",
        "Other",
    ),
    "employment_role": _lower(
        "Customer Service",
        "Design",
        "Education",
        "Engineering",
        "Finance",
        "Health Professional",
        "Human Resources",
        "Legal",
        "Marketing",
        "Operations",
        "Product",
        "Public Relations",
        "Real Estate",
        "Recruiting",
        "Research",
        "Sales",
    ),
    "employment_seniority": _lower("Executive", "Director", "Manager", "Employee", "Owner"),
    "numemployees": _lower("1-5", "5-25", "25-50", "50-100", "100-500", "500-1000", "1000+"),
    "language": (("en", "English"), ("de", "German"), ("fr", "French"), ("es", "Spanish")),
    "persona": (("persona_1", "Persona 1"),),
    "marketable_status": (("true", "Marketing contact"), ("false", "Non-marketing contact")),
    "scoring_tier": _lower("tier_1", "tier_2", "tier_3", "tier_4"),
    "email_confirmation": _upper("Confirmed", "Pending", "Not Applicable"),
    "currency": (("USD", "US Dollar"), ("EUR", "Euro"), ("GBP", "British Pound")),
    "dealstage": tuple(
        (stage.id, stage.label) for pipeline in PIPELINES["deals"] for stage in pipeline.stages
    ),
    "pipeline": tuple((pipeline.id, pipeline.label) for pipeline in PIPELINES["deals"]),
    "dealtype": (("newbusiness", "New Business"), ("existingbusiness", "Existing Business")),
    "priority": _lower("Low", "Medium", "High"),
    "forecast_category": _upper("Omit", "Pipeline", "Best Case", "Commit", "Closed"),
    "amount_preference": _upper("Amount", "Line items"),
    "ticket_pipeline": tuple((p.id, p.label) for p in PIPELINES["tickets"]),
    "ticket_stage": tuple((s.id, s.label) for p in PIPELINES["tickets"] for s in p.stages),
    "ticket_priority": _upper("Low", "Medium", "High", "Urgent"),
    "ticket_category": _upper(
        "Product Issue", "Billing Issue", "Feature Request", "General Inquiry"
    ),
    "ticket_source": _upper("Chat", "Email", "Form", "Phone"),
    "product_type": _lower("Inventory", "Non-inventory", "Service"),
    "billing_frequency": _lower("weekly", "biweekly", "monthly", "quarterly", "annually"),
    "call_direction": _upper("Inbound", "Outbound"),
    "call_status": _upper("Busy", "Calling CRM User", "Canceled", "Completed", "Connecting"),
    "email_direction": _upper("Email", "Incoming Email", "Forwarded Email"),
    "email_status": _upper("Bounced", "Failed", "Scheduled", "Sending", "Sent"),
    "meeting_outcome": _upper("Scheduled", "Completed", "Rescheduled", "No Show", "Canceled"),
    "task_status": _upper("Not Started", "In Progress", "Waiting", "Completed", "Deferred"),
    "task_priority": _upper("None", "Low", "Medium", "High"),
    "task_type": _upper("Email", "Call", "To-do"),
    "channel_type": _upper("SMS", "WhatsApp", "LinkedIn Message"),
    "logged_from": _upper("CRM"),
    "lead_pipeline": (("lead-pipeline-id", "Lead pipeline"),),
    "lead_stage": _lower("new-stage-id", "attempting-stage-id", "connected-stage-id"),
    "lead_type": _upper("New Business", "Upsell", "Re-attempting"),
    "lead_label": _upper("Cold", "Warm", "Hot"),
    "quote_status": _upper("Draft", "Pending approval", "Approval not needed", "Approved"),
    "survey_type": _upper("NPS", "CSAT", "CES", "Custom"),
}


def _parse(table: str) -> tuple[tuple[tuple[str, str], ...], tuple[Spec, ...]]:
    """A ``default_properties`` table as its groups ``(name, label)`` and property specs."""
    groups, specs = [], []
    for line in table.splitlines():
        if not line.strip():
            continue
        if line.startswith("@"):
            name, label = line[1:].split(maxsplit=1)
            groups.append((name, label))
            continue
        name, type_, field_type, group, flags, options, label = line.split(maxsplit=6)
        specs.append(
            Spec(
                name,
                label,
                type_,
                field_type,
                group,
                OPTION_LISTS[options] if options != "-" else (),
                read_only="r" in flags,
                calculated="c" in flags,
                unique="u" in flags,
                external_options="x" in flags,
                hidden="h" in flags,
            )
        )
    return tuple(groups), tuple(specs)


# Per object type: its default property groups and properties.
DEFAULT_SPECS: Final = {object_type: _parse(table) for object_type, table in TABLES.items()}

# The demo's enrichment fields: custom properties, created when demo data is seeded.
DEMO_COMPANY_GROUP: Final = ("demo_enrichment", "Demo enrichment (sandbox)")
DEMO_COMPANY_SPECS: Final = tuple(
    Spec(name, label, type_, field_type, "demo_enrichment", options, hubspot_defined=False)
    for name, label, type_, field_type, options in (
        ("funding_stage", "Funding stage", "string", "text", ()),
        ("has_inhouse_seo", "Has in-house SEO", "bool", "booleancheckbox", BOOL_OPTIONS),
        ("is_competitor", "Is a competitor", "bool", "booleancheckbox", BOOL_OPTIONS),
        ("nps_score", "NPS score", "number", "number", ()),
    )
)

_ENGAGEMENT_DEFAULTS: Final = ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")
# Returned when a read names no properties.
DEFAULT_PROPERTIES: Final[dict[str, tuple[str, ...]]] = {
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    "contacts": (
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
        "lastname",
    ),
    "deals": (
        "amount",
        "closedate",
        "createdate",
        "dealname",
        "dealstage",
        "hs_lastmodifieddate",
        "hs_object_id",
        "pipeline",
    ),
    "tickets": (
        "content",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
        "hs_pipeline",
        "hs_pipeline_stage",
        "hs_ticket_category",
        "hs_ticket_priority",
        "subject",
    ),
    "products": (
        "createdate",
        "description",
        "hs_lastmodifieddate",
        "hs_object_id",
        "name",
        "price",
    ),
    "line_items": (
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
        "name",
        "price",
        "quantity",
    ),
    **{
        t.name: _ENGAGEMENT_DEFAULTS
        for t in OBJECT_TYPES.values()
        if t.created_property == "hs_createdate"
    },
}


@functools.cache
def always_returned(object_type: str) -> tuple[str, ...]:
    """The properties every read of ``object_type`` returns, whatever was asked for."""
    kind = OBJECT_TYPES[object_type]
    return tuple(sorted({kind.created_property, kind.modified_property, "hs_object_id"}))
