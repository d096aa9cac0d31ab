"""Deterministic demo people: the sales reps who own records, and the contacts of each company.

Job titles are drawn the way they are typed into CRMs — abbreviations ("Sr.", "VP,", "Dir.",
"Mgr"), ampersands, regional suffixes, the odd lowercase or missing title — from tables of
(seniority, function) → wordings, so every generated title comes with the truth it was drawn from
(DESIGN §8's taxonomy). The fakes never expose that truth; it is there for tests of the title
classifier and for the demo's outcomes, which depend on who the buyers are.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any, Final

__all__ = [
    "BUYING_ROLES",
    "CONTACT_ROLES",
    "OWNERS",
    "draw_contacts",
    "draw_deal_roles",
    "has_economic_buyer",
    "has_seo_champion",
]

_FIRST_NAMES: Final = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony "
    "Sandra Mark Ashley Priya Wei Mohammed Fatima Lukas Sofia Hiroshi Yuki Carlos Ana Olivia "
    "Noah Emma Liam Ava Ethan Mia Lucas Chloe Mateo Zoe Arjun Ananya Lars Ingrid Pierre Camille "
    "Jonas Lea Diego Valentina Kwame Amara Tomasz Katarzyna"
)
_LAST_NAMES: Final = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Patel Shah Chen "
    "Wang Kim Park Tanaka Suzuki Muller Schmidt Schneider Fischer Dubois Moreau Rossi Silva "
    "Santos Kowalski Nowak Andersson Johansson Okafor Mensah O'Brien"
)
_FIRST: Final = tuple(_FIRST_NAMES.split())
_LAST: Final = tuple(_LAST_NAMES.split())

# The sales reps (HubSpot owners, Salesforce users) every seeded record is assigned to.
OWNERS: Final[tuple[dict[str, str], ...]] = tuple(
    {
        "first_name": first,
        "last_name": last,
        "email": f"{first.lower()}.{last.lower()}@demo-crm.test",
    }
    for first, last in (
        ("Alex", "Morgan"),
        ("Jordan", "Reyes"),
        ("Taylor", "Brooks"),
        ("Casey", "Nguyen"),
        ("Riley", "Patel"),
        ("Morgan", "Schmidt"),
        ("Jamie", "Okafor"),
        ("Avery", "Lindqvist"),
        ("Quinn", "Dubois"),
        ("Parker", "Tanaka"),
        ("Drew", "Kowalski"),
        ("Sam", "Ferreira"),
    )
)

# HubSpot's hs_buying_role internal values.
BUYING_ROLES: Final = (
    "BLOCKER",
    "BUDGET_HOLDER",
    "CHAMPION",
    "DECISION_MAKER",
    "END_USER",
    "EXECUTIVE_SPONSOR",
    "INFLUENCER",
    "LEGAL_AND_COMPLIANCE",
    "OTHER",
)
# Salesforce's OpportunityContactRole.Role picklist.
CONTACT_ROLES: Final = (
    "Business User",
    "Decision Maker",
    "Economic Buyer",
    "Economic Decision Maker",
    "Evaluator",
    "Executive Sponsor",
    "Influencer",
    "Technical Buyer",
    "Other",
)

# function → (weight, department as CRMs name it, areas for "VP, {area}", individual titles).
_FUNCTIONS: Final[dict[str, tuple[int, str, tuple[str, ...], tuple[str, ...]]]] = {
    "marketing": (
        22,
        "Marketing",
        (
            "Marketing",
            "Growth Marketing",
            "Demand Generation",
            "Content",
            "SEO",
            "Brand",
            "Digital Marketing",
            "Product Marketing",
            "Search Marketing",
            "Organic Growth",
        ),
        (
            "Marketing Specialist",
            "SEO Specialist",
            "Content Strategist",
            "Content Writer",
            "Growth Marketer",
            "Marketing Coordinator",
            "SEO Analyst",
            "Copywriter",
        ),
    ),
    "sales": (
        14,
        "Sales",
        ("Sales", "Business Development", "Partnerships", "Enterprise Sales"),
        (
            "Account Executive",
            "Sales Development Representative",
            "SDR",
            "Business Development Representative",
            "Sales Representative",
        ),
    ),
    "engineering": (
        14,
        "Engineering",
        ("Engineering", "Software Engineering", "Platform Engineering", "Web Development"),
        (
            "Software Engineer",
            "Backend Developer",
            "Frontend Engineer",
            "DevOps Engineer",
            "Site Reliability Engineer",
            "Web Developer",
            "QA Engineer",
        ),
    ),
    "it": (
        5,
        "IT",
        ("IT", "Information Technology", "Infrastructure"),
        ("Systems Administrator", "IT Support Specialist", "Network Administrator"),
    ),
    "product": (
        7,
        "Product",
        ("Product", "Product Management"),
        ("Product Owner", "Product Analyst", "Associate Product Owner"),
    ),
    "design": (
        4,
        "Design",
        ("Design", "UX", "Creative"),
        ("Product Designer", "UX Designer", "Graphic Designer", "UX Researcher"),
    ),
    "data": (
        5,
        "Data",
        ("Data", "Analytics", "Data Science"),
        ("Data Analyst", "Data Scientist", "Analytics Engineer", "BI Analyst"),
    ),
    "customer_success": (
        6,
        "Customer Success",
        ("Customer Success", "Customer Experience", "Support"),
        ("Customer Success Specialist", "Support Specialist", "Onboarding Specialist"),
    ),
    "finance": (
        5,
        "Finance",
        ("Finance", "Accounting", "FP&A"),
        ("Accountant", "Financial Analyst", "Billing Specialist"),
    ),
    "operations": (
        6,
        "Operations",
        ("Operations", "Revenue Operations", "Business Operations"),
        ("Operations Analyst", "RevOps Analyst", "Operations Coordinator"),
    ),
    "hr": (
        4,
        "Human Resources",
        ("People", "Human Resources", "Talent Acquisition"),
        ("Recruiter", "HR Generalist", "Talent Acquisition Partner"),
    ),
    "legal": (
        2,
        "Legal",
        ("Legal", "Compliance"),
        ("Paralegal", "Compliance Analyst", "Contracts Specialist"),
    ),
}
# The chief of each function, as the title is typed (full and abbreviated).
_CHIEFS: Final[dict[str, tuple[str, ...]]] = {
    "marketing": ("CMO", "Chief Marketing Officer"),
    "sales": ("Chief Revenue Officer", "CRO", "Chief Sales Officer"),
    "engineering": ("CTO", "Chief Technology Officer"),
    "it": ("CIO", "Chief Information Officer"),
    "product": ("Chief Product Officer", "CPO"),
    "design": ("Chief Design Officer",),
    "data": ("Chief Data Officer", "CDO"),
    "customer_success": ("Chief Customer Officer",),
    "finance": ("CFO", "Chief Financial Officer"),
    "operations": ("COO", "Chief Operating Officer"),
    "hr": ("Chief People Officer", "CHRO"),
    "legal": ("Chief Legal Officer", "General Counsel"),
}
_EXECUTIVES: Final = (
    "CEO",
    "Chief Executive Officer",
    "Co-Founder & CEO",
    "Founder & CEO",
    "Founder",
    "Co-Founder",
    "President",
    "Owner",
    "Managing Director",
)
_VP: Final = (
    "VP, {}",
    "VP of {}",
    "Vice President, {}",
    "Vice President of {}",
    "SVP, {}",
    "VP {}",
)
_DIRECTOR: Final = (
    "Director of {}",
    "{} Director",
    "Dir. {}",
    "Senior Director, {}",
    "Sr. Director of {}",
    "Head of {}",
)
_MANAGER: Final = ("{} Manager", "Senior {} Manager", "Sr. {} Manager", "Mgr, {}", "{} Team Lead")
_INDIVIDUAL: Final = ("{}", "{}", "{}", "Senior {}", "Sr. {}", "Junior {}", "Lead {}", "{} II")
_REGIONS: Final = (" - EMEA", ", North America", " (APAC)", " - US East", ", DACH")
# Titles that say nothing about seniority or function.
_VAGUE: Final = ("Team Member", "Associate", "Staff", "Advisor", "Board Member")
# Seniority, weight; None: a vague title.
_SENIORITIES: Final = (
    ("c_level", 7),
    ("vp", 9),
    ("director", 15),
    ("manager", 25),
    ("individual", 40),
    (None, 4),
)
_FUNCTION_NAMES: Final = tuple(_FUNCTIONS)
_FUNCTION_CUM: Final = tuple(
    sum(w for w, *_ in list(_FUNCTIONS.values())[: i + 1]) for i in range(len(_FUNCTIONS))
)
_SENIORITY_CUM: Final = tuple(sum(w for _, w in _SENIORITIES[: i + 1]) for i in range(6))
_SEO_WORDS: Final = frozenset({"seo", "search", "organic"})


def _weighted(rng: random.Random, cumulative: tuple[int, ...]) -> int:
    roll = rng.random() * cumulative[-1]
    return next(i for i, edge in enumerate(cumulative) if roll < edge)


def _title(rng: random.Random, seniority: str | None, function: str) -> str:
    """One title as a person would type it for a seniority and function."""
    if seniority is None:
        return _VAGUE[int(rng.random() * len(_VAGUE))]
    if seniority == "c_level":
        titles = _EXECUTIVES if function == "executive" else _CHIEFS[function]
        return titles[int(rng.random() * len(titles))]
    _, _, areas, individual_titles = _FUNCTIONS[function]
    area = areas[int(rng.random() * len(areas))]
    if seniority == "individual":
        pattern = _INDIVIDUAL[int(rng.random() * len(_INDIVIDUAL))]
        title = pattern.format(individual_titles[int(rng.random() * len(individual_titles))])
    else:
        patterns = {"vp": _VP, "director": _DIRECTOR, "manager": _MANAGER}[seniority]
        title = patterns[int(rng.random() * len(patterns))].format(area)
    noise = rng.random()
    if noise < 0.06:
        title += _REGIONS[int(rng.random() * len(_REGIONS))]
    elif noise < 0.08:
        title = title.lower()
    return title


def _buying_role(rng: random.Random, seniority: str | None, function: str) -> str | None:
    """HubSpot's hs_buying_role, set on about half the contacts, as reps fill it in."""
    roll = rng.random()
    if roll < 0.5:
        return None
    if function == "legal":
        return "LEGAL_AND_COMPLIANCE"
    if seniority in ("c_level", "vp"):
        return ("DECISION_MAKER", "BUDGET_HOLDER", "EXECUTIVE_SPONSOR")[int(roll * 6) % 3]
    if seniority in ("director", "manager"):
        return ("CHAMPION", "INFLUENCER", "DECISION_MAKER", "BLOCKER")[int(roll * 8) % 4]
    return ("END_USER", "INFLUENCER", "OTHER")[int(roll * 6) % 3]


def draw_contacts(
    rng: random.Random, *, domain: str, owner: int, count: int, today: date
) -> list[dict[str, Any]]:
    """``count`` contacts of one company, with the seniority and function behind each title."""
    contacts: list[dict[str, Any]] = []
    emails: set[str] = set()
    for _ in range(count):
        first = _FIRST[int(rng.random() * len(_FIRST))]
        last = _LAST[int(rng.random() * len(_LAST))]
        seniority = _SENIORITIES[_weighted(rng, _SENIORITY_CUM)][0]
        function = _FUNCTION_NAMES[_weighted(rng, _FUNCTION_CUM)]
        if seniority == "c_level" and rng.random() < 0.45:
            function = "executive"
        title: str | None = _title(rng, seniority, function)
        if seniority is None:
            function = "other"
        if rng.random() < 0.03:
            title, seniority, function = None, None, "other"
        department = _FUNCTIONS[function][1] if function in _FUNCTIONS else None
        if function == "executive":
            department = "Executive"
        if rng.random() < 0.4:
            department = None
        local = f"{first}.{last}".lower().replace("'", "")
        email = f"{local}@{domain}"
        suffix = 2
        while email in emails:
            email = f"{local}{suffix}@{domain}"
            suffix += 1
        emails.add(email)
        contacts.append(
            {
                "first_name": first,
                "last_name": last,
                "email": email,
                "phone": f"+1 555 {100 + int(rng.random() * 900)} {int(rng.random() * 10_000):04d}",
                "title": title,
                "department": department,
                "buying_role": _buying_role(rng, seniority, function),
                "seniority": seniority,
                "function": function,
                "created_date": today - timedelta(days=30 + int(rng.random() * 1000)),
                "owner": owner if rng.random() < 0.8 else int(rng.random() * len(OWNERS)),
            }
        )
    return contacts


def _contact_role(contact: dict[str, Any], roll: float) -> str:
    seniority, function = contact["seniority"], contact["function"]
    if seniority in ("c_level", "vp"):
        return ("Economic Buyer", "Executive Sponsor", "Decision Maker")[int(roll * 3)]
    if seniority in ("director", "manager"):
        return ("Decision Maker", "Evaluator", "Influencer")[int(roll * 3)]
    if function in ("engineering", "it", "data"):
        return ("Technical Buyer", "Evaluator")[int(roll * 2)]
    return ("Business User", "Influencer", "Other")[int(roll * 3)]


def draw_deal_roles(rng: random.Random, contacts: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """The company's contacts on one deal, as (contact index, OpportunityContactRole role)."""
    if not contacts:
        return []
    wanted = min(len(contacts), 1 + int(rng.random() * 3))
    chosen = rng.sample(range(len(contacts)), wanted)
    return [(index, _contact_role(contacts[index], rng.random())) for index in chosen]


def has_economic_buyer(contacts: list[dict[str, Any]]) -> bool:
    """A C-level or VP in marketing or the executive team: who signs for an SEO product."""
    return any(
        c["seniority"] in ("c_level", "vp") and c["function"] in ("marketing", "executive")
        for c in contacts
    )


def has_seo_champion(contacts: list[dict[str, Any]]) -> bool:
    """Someone whose title is about search: who pushes for an SEO product from inside."""
    return any(
        c["title"] and not _SEO_WORDS.isdisjoint(c["title"].lower().replace(",", " ").split())
        for c in contacts
    )
