"""Seeding an org from the shared demo data: the sales reps as Users, companies as Accounts, their
people as Contacts, deals as Opportunities with OpportunityContactRoles, and some history.

Only the fields a record holds are stored (see schema.py), so a 100,000-account org with three
contacts and two deals each stays well within a laptop's memory; the deal pipeline has no
Salesforce field of its own and is not kept.
"""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from typing import Any, Final

from connectors.sandbox.common.demo_data import OWNERS, generate_companies
from connectors.sandbox.salesforce.fields import format_epoch_ms
from connectors.sandbox.salesforce.ids import PROFILE_ID, USER_ID
from connectors.sandbox.salesforce.store import Org, derive_opportunity

__all__ = ["seed_org"]

_DEMO_STAGES: Final = {
    "appointmentscheduled": "Prospecting",
    "qualifiedtobuy": "Qualification",
    "presentationscheduled": "Value Proposition",
    "decisionmakerboughtin": "Id. Decision Makers",
    "contractsent": "Negotiation/Review",
    "closedwon": "Closed Won",
    "closedlost": "Closed Lost",
}
_DEMO_DEAL_TYPES: Final = {
    "New business": "New Customer",
    "Expansion": "Existing Customer - Upgrade",
    "Renewal": "Existing Customer - Replacement",
}
# How the demo generator spells a country, as the country name an org with State and Country
# picklists stores.
_COUNTRY_NAMES: Final = {
    "US": "United States",
    "USA": "United States",
    "us": "United States",
    "United States of America": "United States",
    "GB": "United Kingdom",
    "UK": "United Kingdom",
    "DE": "Germany",
    "Deutschland": "Germany",
}
_FUNDING_LABELS: Final = {
    "bootstrapped": "Bootstrapped",
    "seed": "Seed",
    "series_a": "Series A",
    "series_b": "Series B",
    "series_c": "Series C",
    "growth": "Growth",
    "ipo": "IPO",
}
_SOURCES: Final = ("Web", "Partner Referral", "Phone Inquiry", "Web", "Purchased List", None)
_DAY_MS: Final = 86_400_000
_FREEZE_FROM: Final = 10_000  # accounts
_USER_SETTINGS: Final = {
    "IsActive": True,
    "TimeZoneSidKey": "America/Los_Angeles",
    "LocaleSidKey": "en_US",
    "EmailEncodingKey": "UTF-8",
    "LanguageLocaleKey": "en_US",
    "ProfileId": PROFILE_ID,
    "UserType": "Standard",
    "CompanyName": "icp-sync Sandbox",
}


def _website(index: int, domain: str) -> str:
    """Websites as reps type them: with or without scheme, www, or a trailing slash."""
    return (
        f"https://www.{domain}",
        f"https://www.{domain}",
        f"www.{domain}",
        f"http://{domain}/",
        domain,
    )[index % 5]


def _account_type(index: int, lifecycle: str | None) -> str | None:
    if lifecycle == "customer":
        return "Customer - Channel" if index % 6 == 0 else "Customer - Direct"
    if lifecycle is None:
        return None
    return "Other" if lifecycle == "other" else "Prospect"


def _float(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def _account_values(index: int, company: dict[str, Any], owner: str) -> dict[str, Any]:
    stage = company["funding_stage"]
    founded = company["founded_year"]
    return {
        "Name": company["name"],
        "Type": _account_type(index, company["lifecycle_stage"]),
        "Industry": company["industry"],
        "Website": _website(index, company["domain"]),
        "Phone": f"+1 555 {index // 10_000 % 900 + 100} {index % 10_000:04d}",
        "NumberOfEmployees": company["employees"],
        "AnnualRevenue": _float(company["annual_revenue"]),
        "BillingCity": company["city"],
        "BillingState": company["state"],
        "BillingCountry": _COUNTRY_NAMES.get(company["country"], company["country"]),
        "Ownership": "Public" if stage in ("ipo", "IPO") else "Private",
        "Rating": ("Hot", "Warm", "Cold", None)[index % 4],
        "AccountSource": _SOURCES[index % len(_SOURCES)],
        "YearStarted": None if founded is None else str(founded),
        "OwnerId": owner,
        "Funding_Stage__c": _FUNDING_LABELS.get(stage, stage) if stage else None,
        "Total_Funding__c": _float(company["total_funding"]),
        "Founded_Year__c": _float(founded),
        "Has_Inhouse_SEO__c": bool(company["has_inhouse_seo"]),
        "Is_Competitor__c": bool(company["is_competitor"]),
        "NPS__c": _float(company["nps"]),
        "Tech_Stack__c": ";".join(company["tech_stack"]) if company["tech_stack"] else None,
    }


def _opportunity_values(deal: dict[str, Any], account_id: str, owner: str) -> dict[str, Any]:
    kind = deal["name"].rsplit("— ", 1)[-1]
    values = {
        "AccountId": account_id,
        "Name": deal["name"],
        "StageName": _DEMO_STAGES[deal["stage"]],
        "Amount": float(deal["amount"]),
        "CloseDate": deal["close_date"].isoformat(),
        "Type": _DEMO_DEAL_TYPES.get(kind),
        "OwnerId": owner,
    }
    derive_opportunity(values)
    values["ExpectedRevenue"] = round(values["Amount"] * values["Probability"] / 100, 2)
    return values


def _seed_integration_user(org: Org, api_username: str, created: str) -> None:
    """The user the API acts as: a pristine org's only user."""
    org.users.add(
        {
            **_USER_SETTINGS,
            "Username": api_username,
            "FirstName": "Sandbox",
            "LastName": "Integration",
            "Name": "Sandbox Integration",
            "Email": api_username,
            "Alias": "integ",
            "CommunityNickname": "integration",
            "Title": "Integration User",
        },
        now=created,
        record_id=USER_ID,
    )


def _seed_reps(org: Org, created: str) -> list[str]:
    """One User per demo sales rep (``OWNERS``), who own the demo records."""
    users = org.users
    ids = []
    for rep in OWNERS:
        first, last, email = rep["first_name"], rep["last_name"], rep["email"]
        user = users.add(
            {
                **_USER_SETTINGS,
                "Username": email,
                "FirstName": first,
                "LastName": last,
                "Name": f"{first} {last}",
                "Email": email,
                "Alias": (first[0] + last[:4]).lower(),
                "CommunityNickname": f"{first}.{last}".lower(),
                "Title": "Account Executive",
                "Department": "Sales",
            },
            now=created,
        )
        ids.append(user["Id"])
    return ids


def seed_org(
    org: Org,
    *,
    seed: int,
    accounts: int,
    opportunities_per_account: int,
    contacts_per_account: int = 0,
    writeback_fields: bool = True,
    api_username: str = "sandbox@example.com",
    now: datetime | None = None,
) -> dict[str, int]:
    """Replace everything in ``org`` with ``accounts`` demo accounts, their opportunities and
    contacts, and the users who own them; what was made, per object.

    Dates lie within the two years before ``now``; everything else depends on ``seed`` alone,
    ids included.
    """
    now = now or datetime.now(UTC)
    org.clear(writeback_fields=writeback_fields, now=now)
    # Long-lived dicts by the hundred thousand: cyclic GC passes would dominate seeding.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _seed(
            org,
            seed=seed,
            accounts=accounts,
            per_account=(opportunities_per_account, contacts_per_account),
            api_username=api_username,
            now=now,
        )
    finally:
        # A large org's records live until the next reset and hold no reference cycles
        # (refcounting frees them): out of the cyclic GC's sight, collections during queries no
        # longer walk a million dicts (a full Account read of 100k accounts with contacts: 2x).
        if accounts >= _FREEZE_FROM:
            gc.freeze()
        if gc_was_enabled:
            gc.enable()


def _seed(
    org: Org,
    *,
    seed: int,
    accounts: int,
    per_account: tuple[int, int],
    api_username: str,
    now: datetime,
) -> dict[str, int]:
    opportunities_per_account, contacts_per_account = per_account
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    now_ms = int(now.timestamp() * 1000)
    year_ms = 365 * _DAY_MS
    org_created = format_epoch_ms(int(org.created_at.timestamp() * 1000))
    # The reps first: ids grow with creation, and the integration user's is a later one.
    owners = _seed_reps(org, org_created) if accounts else []
    _seed_integration_user(org, api_username, org_created)
    account_store, contact_store = org.accounts, org.contacts
    opportunity_store, role_store = org.opportunities, org.contact_roles
    fields = account_store.schema.fields
    contacts_by_account = org.children[("Contact", "AccountId")]
    opportunities_by_account = org.children[("Opportunity", "AccountId")]
    roles_by_opportunity = org.children[("OpportunityContactRole", "OpportunityId")]
    roles_by_contact = org.children[("OpportunityContactRole", "ContactId")]
    counts = {"opportunities": 0, "contacts": 0, "contact_roles": 0, "history": 0}
    for index, company in enumerate(
        generate_companies(
            seed,
            accounts,
            deals_per_company=opportunities_per_account,
            contacts_per_company=contacts_per_account,
            today=now.date(),
        )
    ):
        # Spread over the last year, deterministically from the index.
        age = year_ms - (index * 7_919_993) % year_ms
        created_ms = now_ms - age - _DAY_MS
        modified_ms = created_ms + (index * 104_729) % (age + 1)
        modified = format_epoch_ms(modified_ms)
        values = _account_values(index, company, owners[company["owner"]])
        account = account_store.add(
            {k: v for k, v in values.items() if k in fields},
            now=modified,
            created=format_epoch_ms(created_ms),
        )
        account_id = account["Id"]
        _seed_history(org, index, account, (created_ms + modified_ms) // 2, counts)
        contact_ids = []
        for number, person in enumerate(company["contacts"]):
            # Within the day the generator gives, at a time drawn from the index.
            second = (index * 7919 + number * 104_729) % 86_400
            stamp = (
                f"{person['created_date'].isoformat()}T{second // 3600:02d}:"
                f"{second // 60 % 60:02d}:{second % 60:02d}.000+0000"
            )
            contact = {
                "AccountId": account_id,
                "FirstName": person["first_name"],
                "LastName": person["last_name"],
                "Name": f"{person['first_name']} {person['last_name']}",
                "Email": person["email"],
                "Phone": person["phone"],
                "MailingCity": company["city"],
                "MailingCountry": values["BillingCountry"],
                "OwnerId": owners[person["owner"]],
            }
            if person["title"] is not None:
                contact["Title"] = person["title"]
            if person["department"] is not None:
                contact["Department"] = person["department"]
            contact_id = contact_store.add(contact, now=stamp)["Id"]
            contact_ids.append(contact_id)
        if contact_ids:
            contacts_by_account[account_id] = contact_ids
            counts["contacts"] += len(contact_ids)
        opportunity_ids = []
        for deal in company["deals"]:
            deal_created = f"{deal['created_date'].isoformat()}T00:00:00.000+0000"
            opportunity_id = opportunity_store.add(
                _opportunity_values(deal, account_id, owners[deal["owner"]]),
                now=max(modified, deal_created),
                created=deal_created,
            )["Id"]
            opportunity_ids.append(opportunity_id)
            roles = []
            for position, (contact_index, role) in enumerate(deal["contacts"]):
                contact_id = contact_ids[contact_index]
                row = {"OpportunityId": opportunity_id, "ContactId": contact_id, "Role": role}
                if position == 0:
                    row["IsPrimary"] = True
                role_id = role_store.add(row, now=deal_created)["Id"]
                roles.append(role_id)
                roles_by_contact.setdefault(contact_id, []).append(role_id)
            if roles:
                roles_by_opportunity[opportunity_id] = roles
                counts["contact_roles"] += len(roles)
        if opportunity_ids:
            opportunities_by_account[account_id] = opportunity_ids
            counts["opportunities"] += len(opportunity_ids)
    return {"accounts": accounts, **counts, "users": len(owners) + 1}


def _seed_history(
    org: Org, index: int, account: dict[str, Any], changed_ms: int, counts: dict[str, int]
) -> None:
    """A past change or two for some accounts: prospects that became customers, headcounts
    that grew. ``org.track_history`` writes the rows, as for a change through the API."""
    earlier: dict[str, Any] = {}
    if index % 3 == 0 and (account["Type"] or "").startswith("Customer"):
        earlier["Type"] = "Prospect"
    employees = account["NumberOfEmployees"]
    if index % 5 == 1 and employees and employees > 5:
        earlier["NumberOfEmployees"] = round(employees * 0.8)
    if not earlier:
        return
    current = {name: account[name] for name in earlier}
    # Replay the change: from the earlier values to today's, at the time it happened.
    account.update(earlier)
    org.track_history(account, current, now=format_epoch_ms(changed_ms), by=account["OwnerId"])
    account.update(current)
    counts["history"] += len(earlier)
