"""Seeding a portal with the shared demo data: companies, their contacts and deals, owners,
links, and the history of the values that moved (lifecycle stages, deal stages).

The demo's enrichment fields are custom properties: seeding creates them, so a portal reset
with no companies stays pristine.
"""

from __future__ import annotations

import functools
import gc
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from connectors.sandbox.common.demo_data import DEAL_OPEN_STAGES, generate_companies
from connectors.sandbox.hubspot.owners import owner_id
from connectors.sandbox.hubspot.pipelines import ENTERPRISE_PIPELINE_ID, Stage, deal_stage
from connectors.sandbox.hubspot.properties import format_datetime, format_epoch_ms
from connectors.sandbox.hubspot.property_specs import industry_value, option_value
from connectors.sandbox.hubspot.store import CrmObject, Sandbox, SeededHistory

__all__ = ["seed_portal"]

# Demo labels that HubSpot's industry options spell differently.
_DEMO_INDUSTRY: Final = {
    "Software": "COMPUTER_SOFTWARE",
    "Nonprofit Organization Management": "NON_PROFIT_ORGANIZATION_MANAGEMENT",
}
# How a company reaches each lifecycle stage it can hold.
_LIFECYCLE_PATH: Final = (
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
)
_DAY_MS: Final = 86_400_000
_YEAR_MS: Final = 365 * _DAY_MS
_OWNER_IDS: Final = tuple(owner_id(n) for n in range(64))  # shared strings, not one per record


def _number(value: float | int) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@functools.lru_cache(maxsize=8192)
def _midnight(day: date) -> str:
    # Cached: records created the same day share one string.
    return f"{day.isoformat()}T00:00:00.000Z"


def _ms(day: date) -> int:
    return (day - date(1970, 1, 1)).days * _DAY_MS


def _company_properties(company: dict[str, Any]) -> dict[str, str]:
    props: dict[str, str] = {"name": company["name"], "domain": company["domain"]}
    industry = company["industry"]
    props["industry"] = _DEMO_INDUSTRY.get(industry) or industry_value(industry)
    for key, name in (
        ("employees", "numberofemployees"),
        ("annual_revenue", "annualrevenue"),
        ("total_funding", "total_money_raised"),
        ("nps", "nps_score"),
    ):
        if company[key] is not None:
            props[name] = _number(company[key])
    for key, name in (
        ("country", "country"),
        ("state", "state"),
        ("city", "city"),
        ("funding_stage", "funding_stage"),
        ("lifecycle_stage", "lifecyclestage"),
    ):
        if company[key]:
            props[name] = company[key]
    if company["founded_year"] is not None:
        props["founded_year"] = str(company["founded_year"])
    if company["tech_stack"]:
        props["web_technologies"] = ";".join(option_value(t) for t in company["tech_stack"])
    for key in ("has_inhouse_seo", "is_competitor"):
        if company[key] is not None:
            props[key] = "true" if company[key] else "false"
    deals, contacts = company["deals"], company["contacts"]
    props["hubspot_owner_id"] = _OWNER_IDS[company["owner"]]
    props["num_associated_deals"] = str(len(deals))
    props["num_associated_contacts"] = str(len(contacts))
    props["hs_num_open_deals"] = str(sum(1 for d in deals if d["outcome"] == "open"))
    won = sum(d["amount"] for d in deals if d["outcome"] == "won")
    if won:
        props["total_revenue"] = _number(won)
    if contacts:
        roles = [c["buying_role"] for c in contacts]
        props["hs_num_contacts_with_buying_roles"] = str(sum(1 for r in roles if r))
        props["hs_num_decision_makers"] = str(roles.count("DECISION_MAKER"))
        props["hs_num_blockers"] = str(roles.count("BLOCKER"))
    return props


def _contact_properties(contact: dict[str, Any], company: dict[str, Any]) -> dict[str, str]:
    # Seniority and function are the title's ground truth, for the classifier's tests: a CRM
    # holds only the title.
    props = {
        "firstname": contact["first_name"],
        "lastname": contact["last_name"],
        "email": contact["email"],
        "phone": contact["phone"],
        "company": company["name"],
        "website": company["domain"],
        "hubspot_owner_id": _OWNER_IDS[contact["owner"]],
    }
    if contact["title"]:
        props["jobtitle"] = contact["title"]
    if contact["buying_role"]:
        props["hs_buying_role"] = contact["buying_role"]
    if company["lifecycle_stage"]:
        props["lifecyclestage"] = company["lifecycle_stage"]
    return props


def _deal_properties(deal: dict[str, Any], stage: Stage, pipeline: str) -> dict[str, str]:
    won, closed = deal["outcome"] == "won", deal["outcome"] != "open"
    props = {
        "dealname": deal["name"],
        "amount": _number(deal["amount"]),
        "dealstage": stage.id,
        "pipeline": pipeline,
        "closedate": _midnight(deal["close_date"]),
        "dealtype": "newbusiness" if deal["name"].endswith("New business") else "existingbusiness",
        "hs_is_closed": "true" if closed else "false",
        "hs_is_closed_won": "true" if won else "false",
        "hs_is_closed_lost": "true" if closed and not won else "false",
        "hubspot_owner_id": _OWNER_IDS[deal["owner"]],
        "num_associated_contacts": "0",
        "createdate": _midnight(deal["created_date"]),
    }
    if stage.probability is not None:
        props["hs_deal_stage_probability"] = stage.probability
    return props


@functools.lru_cache(maxsize=256)
def _stage_path(pipeline: str, stage: str, reached: int) -> tuple[Stage, ...]:
    """The stages a deal went through to ``stage``: the open ones in order (``reached`` of them
    before a closed stage), then ``stage``. Cached: deals that went the same way share it."""
    if stage in DEAL_OPEN_STAGES:
        path = DEAL_OPEN_STAGES[: DEAL_OPEN_STAGES.index(stage) + 1]
    else:
        path = (*DEAL_OPEN_STAGES[:reached], stage)
    return tuple(deal_stage(pipeline, s) for s in path)


@functools.lru_cache(maxsize=256)
def _stage_ids(path: tuple[Stage, ...]) -> tuple[str, ...]:
    return tuple(s.id for s in path)


def seed_portal(
    portal: Sandbox,
    *,
    seed: int,
    companies: int,
    deals_per_company: int,
    contacts_per_company: int = 0,
    same_timestamp: bool = False,
    now: datetime | None = None,
) -> dict[str, int]:
    """Fill a cleared portal with ``companies`` demo companies, their contacts and deals.

    Creation and modification dates lie within the year before ``now``; with
    ``same_timestamp`` every company shares one ``hs_lastmodifieddate`` (one second before
    ``now``), which is what it takes to hit the 10,000-result search cap on one value.
    """
    if companies:
        portal.companies.catalog.add_demo_properties()
    # Millions of long-lived dicts: cyclic GC passes over them would dominate seeding time.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _seed(
            portal, seed, companies, deals_per_company, contacts_per_company, same_timestamp, now
        )
    finally:
        if gc_was_enabled:
            gc.enable()


def _seed(
    portal: Sandbox,
    seed: int,
    companies: int,
    deals_per_company: int,
    contacts_per_company: int,
    same_timestamp: bool,
    now: datetime | None,
) -> dict[str, int]:
    now = now or datetime.now(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    now_ms = int(now.timestamp() * 1000)
    shared = format_datetime(now - timedelta(seconds=1))
    company_store, contact_store = portal.companies, portal.contacts
    contact_count = deal_count = 0
    for index, company in enumerate(
        generate_companies(
            seed,
            companies,
            deals_per_company=deals_per_company,
            contacts_per_company=contacts_per_company,
            today=now.date(),
        )
    ):
        # Spread over the last year deterministically from the index: later ids, later dates.
        age = _YEAR_MS - (index * 7_919_993) % _YEAR_MS
        created_ms = now_ms - age - _DAY_MS
        modified_ms = created_ms + (index * 104_729) % (age + 1)
        modified = shared if same_timestamp else format_epoch_ms(modified_ms)
        record = company_store.add(
            _company_properties(company), now=modified, created_at=format_epoch_ms(created_ms)
        )
        stage = company["lifecycle_stage"]
        if stage in _LIFECYCLE_PATH and stage != "lead":
            path = _LIFECYCLE_PATH[: _LIFECYCLE_PATH.index(stage) + 1]
            record.history = SeededHistory("lifecyclestage", path, created_ms, modified_ms)
        contact_records = []
        for contact in company["contacts"]:
            contact_created = _midnight(contact["created_date"])
            contact_record = contact_store.add(
                _contact_properties(contact, company),
                now=max(contact_created, modified),
                created_at=contact_created,
            )
            contact_record.properties["associatedcompanyid"] = record.properties["hs_object_id"]
            contact_record.associations["companies"] = [record.id]
            contact_records.append(contact_record)
        if contact_records:
            record.associations["contacts"] = [c.id for c in contact_records]
            contact_count += len(contact_records)
        deal_ids = []
        for deal in company["deals"]:
            deal_ids.append(
                _seed_deal(
                    portal,
                    deal,
                    deal_count,
                    record,
                    contact_records,
                    (modified, now_ms - 1000 if same_timestamp else modified_ms),
                    now_ms,
                )
            )
            deal_count += 1
        if deal_ids:
            record.associations["deals"] = deal_ids
        for contact_record in contact_records:
            deals_of_contact = contact_record.associations.get("deals")
            contact_record.properties["num_associated_deals"] = str(len(deals_of_contact or ()))
    return {"companies": companies, "contacts": contact_count, "deals": deal_count}


def _seed_deal(
    portal: Sandbox,
    deal: dict[str, Any],
    serial: int,
    company: CrmObject,
    contacts: list[CrmObject],
    company_modified: tuple[str, int],
    now_ms: int,
) -> int:
    """Store one deal, linked to its company and contacts, with the stages it went through."""
    pipeline = ENTERPRISE_PIPELINE_ID if deal["pipeline"] == "enterprise" else "default"
    # A closed deal got through some of the open stages first (deterministically, by serial).
    path = _stage_path(pipeline, deal["stage"], 1 + serial % len(DEAL_OPEN_STAGES))
    created_ms = _ms(deal["created_date"])
    end_ms = _ms(deal["close_date"]) if deal["outcome"] != "open" else now_ms - _DAY_MS
    created = _midnight(deal["created_date"])
    # Last modified when the company or the deal's last stage change was, whichever is later
    # (formatting only when it is the deal's: seeding formats hundreds of thousands of dates).
    latest_ms = max(created_ms, end_ms)
    modified_text, modified_ms = company_modified
    modified = modified_text if latest_ms <= modified_ms else format_epoch_ms(latest_ms)
    record = portal.deals.add(
        _deal_properties(deal, path[-1], pipeline), now=modified, created_at=created
    )
    if len(path) > 1:
        record.history = SeededHistory("dealstage", _stage_ids(path), created_ms, end_ms)
    record.associations["companies"] = [company.id]
    if deal["contacts"]:
        linked = []
        for index, _role in deal["contacts"]:
            contact = contacts[index]
            if contact.id not in linked:
                linked.append(contact.id)
                contact.associations.setdefault("deals", []).append(record.id)
        record.associations["contacts"] = linked
        record.properties["num_associated_contacts"] = str(len(linked))
    return record.id
