"""The properties a HubSpot portal starts with, as data: every built-in and demo property of
companies and deals (name, label, type, field type, group, options, flags), their groups, their
option lists, and which properties a read returns by default.

``properties.PropertyCatalog`` turns these specs into definitions and enforces the value rules
they imply; nothing here has behaviour beyond spelling option values from labels.
"""

from __future__ import annotations

import functools
import re
from typing import Final

__all__ = [
    "ALWAYS_RETURNED",
    "BOOL_OPTIONS",
    "COMPANY_GROUPS",
    "COMPANY_SPECS",
    "DEAL_GROUPS",
    "DEAL_SPECS",
    "DEAL_STAGES",
    "DEFAULT_PROPERTIES",
    "INDUSTRY_LABELS",
    "LIFECYCLE_STAGES",
    "SYSTEM_SPECS",
    "WEB_TECHNOLOGY_LABELS",
    "Spec",
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


BOOL_OPTIONS: Final = (("true", "Yes"), ("false", "No"))
INDUSTRY_LABELS: Final = (
    "Accounting",
    "Banking",
    "Biotechnology",
    "Broadcast Media",
    "Computer Software",
    "Consumer Goods",
    "E-Learning",
    "Education Management",
    "Entertainment",
    "Financial Services",
    "Hospital & Health Care",
    "Information Technology and Services",
    "Insurance",
    "Internet",
    "Logistics and Supply Chain",
    "Management Consulting",
    "Marketing and Advertising",
    "Mechanical or Industrial Engineering",
    "Media Production",
    "Newspapers",
    "Nonprofit Organization Management",
    "Online Media",
    "Publishing",
    "Real Estate",
    "Retail",
    "Telecommunications",
)
WEB_TECHNOLOGY_LABELS: Final = (
    "Adobe Experience Manager",
    "Akamai",
    "Amazon Web Services",
    "Cloudflare",
    "Contentful",
    "Custom CMS",
    "Drupal",
    "Fastly",
    "Google Analytics",
    "Google Tag Manager",
    "Hotjar",
    "HubSpot CMS",
    "Intercom",
    "Marketo",
    "Next.js",
    "Optimizely",
    "React",
    "Salesforce",
    "Segment",
    "Shopify",
    "Sitecore",
    "Squarespace",
    "Stripe",
    "Webflow",
    "Wix",
    "WordPress",
    "Zendesk",
)
LIFECYCLE_STAGES: Final = (
    ("subscriber", "Subscriber"),
    ("lead", "Lead"),
    ("marketingqualifiedlead", "Marketing Qualified Lead"),
    ("salesqualifiedlead", "Sales Qualified Lead"),
    ("opportunity", "Opportunity"),
    ("customer", "Customer"),
    ("evangelist", "Evangelist"),
    ("other", "Other"),
)
DEAL_STAGES: Final = (
    ("appointmentscheduled", "Appointment Scheduled"),
    ("qualifiedtobuy", "Qualified To Buy"),
    ("presentationscheduled", "Presentation Scheduled"),
    ("decisionmakerboughtin", "Decision Maker Bought-In"),
    ("contractsent", "Contract Sent"),
    ("closedwon", "Closed Won"),
    ("closedlost", "Closed Lost"),
)

# name, label, type, fieldType, group, options, read-only value, calculated, hubspot-defined
Spec = tuple[str, str, str, str, str, tuple[tuple[str, str], ...], bool, bool, bool]
SYSTEM_SPECS: Final = (
    ("createdate", "Create Date", "datetime", "date", "", (), False, False, True),
    ("hs_lastmodifieddate", "Last Modified Date", "datetime", "date", "", (), True, False, True),
    ("hs_object_id", "Record ID", "number", "number", "", (), True, False, True),
)
COMPANY_SPECS: Final[tuple[Spec, ...]] = (
    ("name", "Company name", "string", "text", "companyinformation", (), False, False, True),
    (
        "domain",
        "Company Domain Name",
        "string",
        "text",
        "companyinformation",
        (),
        False,
        False,
        True,
    ),
    (
        "industry",
        "Industry",
        "enumeration",
        "select",
        "companyinformation",
        tuple((industry_value(label), label) for label in INDUSTRY_LABELS),
        False,
        False,
        True,
    ),
    (
        "numberofemployees",
        "Number of Employees",
        "number",
        "number",
        "companyinformation",
        (),
        False,
        False,
        True,
    ),
    (
        "annualrevenue",
        "Annual Revenue",
        "number",
        "number",
        "companyinformation",
        (),
        False,
        False,
        True,
    ),
    ("country", "Country/Region", "string", "text", "companyinformation", (), False, False, True),
    ("state", "State/Region", "string", "text", "companyinformation", (), False, False, True),
    ("city", "City", "string", "text", "companyinformation", (), False, False, True),
    (
        "total_money_raised",
        "Total Money Raised",
        "number",
        "number",
        "companyinformation",
        (),
        False,
        False,
        True,
    ),
    (
        "founded_year",
        "Year Founded",
        "string",
        "text",
        "companyinformation",
        (),
        False,
        False,
        True,
    ),
    (
        "web_technologies",
        "Web Technologies",
        "enumeration",
        "checkbox",
        "companyinformation",
        tuple((option_value(label), label) for label in WEB_TECHNOLOGY_LABELS),
        False,
        False,
        True,
    ),
    (
        "lifecyclestage",
        "Lifecycle Stage",
        "enumeration",
        "radio",
        "companyinformation",
        LIFECYCLE_STAGES,
        False,
        False,
        True,
    ),
    (
        "hs_ideal_customer_profile",
        "Ideal Customer Profile Tier",
        "enumeration",
        "radio",
        "companyinformation",
        (("tier_1", "Tier 1"), ("tier_2", "Tier 2"), ("tier_3", "Tier 3")),
        False,
        False,
        True,
    ),
    (
        "hs_num_open_deals",
        "Number of open deals",
        "number",
        "number",
        "deal_information",
        (),
        True,
        True,
        True,
    ),
    (
        "total_revenue",
        "Total Revenue",
        "number",
        "number",
        "deal_information",
        (),
        True,
        True,
        True,
    ),
    (
        "funding_stage",
        "Funding stage",
        "string",
        "text",
        "demo_enrichment",
        (),
        False,
        False,
        False,
    ),
    (
        "has_inhouse_seo",
        "Has in-house SEO",
        "bool",
        "booleancheckbox",
        "demo_enrichment",
        BOOL_OPTIONS,
        False,
        False,
        False,
    ),
    (
        "is_competitor",
        "Is a competitor",
        "bool",
        "booleancheckbox",
        "demo_enrichment",
        BOOL_OPTIONS,
        False,
        False,
        False,
    ),
    ("nps_score", "NPS score", "number", "number", "demo_enrichment", (), False, False, False),
)
COMPANY_GROUPS: Final = (
    ("companyinformation", "Company information"),
    ("deal_information", "Deal information"),
    ("demo_enrichment", "Demo enrichment (sandbox)"),
)
DEAL_SPECS: Final[tuple[Spec, ...]] = (
    ("dealname", "Deal Name", "string", "text", "dealinformation", (), False, False, True),
    ("amount", "Amount", "number", "number", "dealinformation", (), False, False, True),
    (
        "dealstage",
        "Deal Stage",
        "enumeration",
        "radio",
        "dealinformation",
        DEAL_STAGES,
        False,
        False,
        True,
    ),
    (
        "pipeline",
        "Pipeline",
        "enumeration",
        "select",
        "dealinformation",
        (("default", "Sales Pipeline"),),
        False,
        False,
        True,
    ),
    ("closedate", "Close Date", "datetime", "date", "dealinformation", (), False, False, True),
    (
        "dealtype",
        "Deal Type",
        "enumeration",
        "radio",
        "dealinformation",
        (("newbusiness", "New Business"), ("existingbusiness", "Existing Business")),
        False,
        False,
        True,
    ),
    (
        "hs_is_closed_won",
        "Is Closed Won",
        "bool",
        "booleancheckbox",
        "dealinformation",
        BOOL_OPTIONS,
        True,
        True,
        True,
    ),
    (
        "hs_is_closed",
        "Is Deal Closed?",
        "bool",
        "booleancheckbox",
        "dealinformation",
        BOOL_OPTIONS,
        True,
        True,
        True,
    ),
)
DEAL_GROUPS: Final = (("dealinformation", "Deal information"),)

# Returned when a read names no properties.
DEFAULT_PROPERTIES: Final = {
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
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
}
# Always returned, whatever was asked for.
ALWAYS_RETURNED: Final = ("createdate", "hs_lastmodifieddate", "hs_object_id")
