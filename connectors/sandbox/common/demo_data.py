"""Deterministic demo companies, their deals and their people, shared by every CRM sandbox.

Records come out in canonical-ish dicts (DESIGN §3.1 field names) and each fake maps them to its
own wire format. The data is deliberately a little messy, as real CRM data is: countries are names
or codes, funding stages are ``series_a`` or ``Series A``, some fields are missing. Deals are more
often won by companies that fit the ICP of the product's example, and — when contacts are seeded —
by accounts whose people include an economic buyer (a marketing or executive C-level or VP) and an
SEO champion, so backtests, discovery and persona features have a real signal to find.

Generation is a single pass of one ``random.Random(seed)`` per stream, cheap enough for a million
companies: it draws from precomputed cumulative weights instead of ``random.choices``.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from itertools import accumulate
from typing import Any, Final

from connectors.sandbox.common.demo_people import (
    OWNERS,
    draw_contacts,
    draw_deal_roles,
    has_economic_buyer,
    has_seo_champion,
)

__all__ = [
    "DEAL_OPEN_STAGES",
    "INDUSTRIES",
    "OWNERS",
    "TECHNOLOGIES",
    "generate_companies",
]

# Label, weight. New media (Online Media, Publishing, Media Production) is common enough for the
# example ICP to find thousands of candidates in 100k companies.
INDUSTRIES: Final[tuple[tuple[str, int], ...]] = (
    ("Software", 16),
    ("Information Technology and Services", 10),
    ("Online Media", 8),
    ("Marketing and Advertising", 7),
    ("Publishing", 6),
    ("Financial Services", 6),
    ("Retail", 6),
    ("Media Production", 5),
    ("Hospital & Health Care", 5),
    ("E-Learning", 4),
    ("Consumer Goods", 4),
    ("Entertainment", 4),
    ("Broadcast Media", 3),
    ("Telecommunications", 3),
    ("Real Estate", 3),
    ("Logistics and Supply Chain", 3),
    ("Management Consulting", 3),
    ("Mechanical or Industrial Engineering", 2),
    ("Nonprofit Organization Management", 2),
)
_NEW_MEDIA: Final = frozenset({"Online Media", "Publishing", "Media Production"})
_MEDIA_LIKE: Final = _NEW_MEDIA | {"Broadcast Media", "Entertainment", "Marketing and Advertising"}

# Spelling as it is typed into CRMs, canonical ISO code, weight.
_COUNTRIES: Final[tuple[tuple[str, str, int], ...]] = (
    ("United States", "US", 22),
    ("US", "US", 10),
    ("USA", "US", 6),
    ("United States of America", "US", 3),
    ("us", "US", 2),
    ("United Kingdom", "GB", 7),
    ("GB", "GB", 2),
    ("UK", "GB", 2),
    ("Germany", "DE", 7),
    ("DE", "DE", 2),
    ("Deutschland", "DE", 1),
    ("Canada", "CA", 5),
    ("France", "FR", 5),
    ("Netherlands", "NL", 3),
    ("Australia", "AU", 4),
    ("India", "IN", 4),
    ("Brazil", "BR", 3),
    ("Spain", "ES", 3),
    ("Sweden", "SE", 2),
    ("Singapore", "SG", 2),
)

_PLACES: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "US": (
        ("CA", "San Francisco"),
        ("NY", "New York"),
        ("TX", "Austin"),
        ("MA", "Boston"),
        ("WA", "Seattle"),
        ("IL", "Chicago"),
        ("CA", "Los Angeles"),
        ("CO", "Denver"),
        ("GA", "Atlanta"),
        ("FL", "Miami"),
        ("NC", "Raleigh"),
        ("OR", "Portland"),
    ),
    "GB": (("England", "London"), ("England", "Manchester"), ("Scotland", "Edinburgh")),
    "DE": (("Berlin", "Berlin"), ("Bavaria", "Munich"), ("Hamburg", "Hamburg")),
    "CA": (("Ontario", "Toronto"), ("British Columbia", "Vancouver"), ("Quebec", "Montreal")),
    "FR": (("Île-de-France", "Paris"), ("Auvergne-Rhône-Alpes", "Lyon")),
    "NL": (("North Holland", "Amsterdam"), ("South Holland", "Rotterdam")),
    "AU": (("New South Wales", "Sydney"), ("Victoria", "Melbourne")),
    "IN": (("Karnataka", "Bengaluru"), ("Maharashtra", "Mumbai")),
    "BR": (("São Paulo", "São Paulo"), ("Rio de Janeiro", "Rio de Janeiro")),
    "ES": (("Community of Madrid", "Madrid"), ("Catalonia", "Barcelona")),
    "SE": (("Stockholm County", "Stockholm"),),
    "SG": (("Singapore", "Singapore"),),
}
_TLD: Final = {"US": "com", "GB": "co.uk", "DE": "de", "FR": "fr", "NL": "nl", "AU": "com.au"}

# Canonical stage, weight, (low, high) total funding in USD.
_FUNDING: Final[tuple[tuple[str | None, int, tuple[float, float]], ...]] = (
    (None, 22, (0.0, 0.0)),
    ("bootstrapped", 10, (0.0, 0.0)),
    ("seed", 18, (250_000.0, 3_000_000.0)),
    ("series_a", 18, (2_000_000.0, 15_000_000.0)),
    ("series_b", 13, (10_000_000.0, 45_000_000.0)),
    ("series_c", 8, (25_000_000.0, 120_000_000.0)),
    ("growth", 7, (60_000_000.0, 400_000_000.0)),
    ("ipo", 4, (100_000_000.0, 1_500_000_000.0)),
)
# How CRM users type each stage besides the canonical snake_case spelling.
_FUNDING_TYPED: Final = {
    "bootstrapped": "Bootstrapped",
    "seed": "Seed",
    "series_a": "Series A",
    "series_b": "Series B",
    "series_c": "Series C",
    "growth": "Growth",
    "ipo": "IPO",
}

# Content management systems first: the example ICP looks for the enterprise ones.
_CMS: Final[tuple[tuple[str | None, int], ...]] = (
    ("WordPress", 28),
    (None, 14),
    ("Custom CMS", 8),
    ("Drupal", 8),
    ("HubSpot CMS", 8),
    ("Contentful", 6),
    ("Adobe Experience Manager", 6),
    ("Webflow", 6),
    ("Sitecore", 5),
    ("Squarespace", 5),
    ("Wix", 4),
)
_ENTERPRISE_CMS: Final = frozenset(
    {"Adobe Experience Manager", "Sitecore", "Contentful", "Custom CMS"}
)
_OTHER_TECH: Final[tuple[str, ...]] = (
    "Google Analytics",
    "Google Tag Manager",
    "Segment",
    "Salesforce",
    "Marketo",
    "Optimizely",
    "Cloudflare",
    "Shopify",
    "Stripe",
    "Intercom",
    "Zendesk",
    "React",
    "Next.js",
    "Amazon Web Services",
    "Fastly",
    "Akamai",
    "Hotjar",
)
TECHNOLOGIES: Final[tuple[str, ...]] = tuple(c for c, _ in _CMS if c) + _OTHER_TECH

DEAL_OPEN_STAGES: Final[tuple[str, ...]] = (
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_BRAND_HEADS: Final = _words(
    "Bright Blue Red Green Silver Golden North South East West Iron Stone River Ocean Sky Star "
    "Sun Moon Cloud Rain Snow Fire Wind Pine Oak Maple Cedar Birch Willow Lake Harbor Bay Cliff "
    "Peak Summit Valley Meadow Prairie Desert Canyon Coral Amber Jade Ruby Onyx Opal Pearl Cobalt "
    "Copper Zinc Quartz Nova Astro Echo Delta Sigma Omega Alpha Beta Gamma Vector Pixel Quantum "
    "Atomic Rapid Swift Bold Clear True Prime Core Apex Zen Lumen Terra Aqua Vivid Nimble Keen "
    "Brave Calm Wild Noble Royal Urban Rural Metro Civic Open Blank Fresh Solid Smart Happy Lucky "
    "Little Grand"
)
_BRAND_TAILS: Final = _words(
    "wave field point line bridge path gate forge works craft hub base stack loop leaf root seed "
    "bloom spark flare beam light shift stream flow port dock yard mill lab shop desk box kit "
    "scope sight view frame grid mark sign note page print press cast reel tone beat pulse mind "
    "logic sense wise well spring fall brook ridge crest stone rock wood land ford ton ville berg "
    "haven nest hive den camp fort tower keep hall house home way ward side wing fin tail horn "
    "crown shield arrow bolt ray dust glow haze mist frost"
)
_QUALIFIERS: Final = _words(
    "Atlas Pacific Atlantic Summit Global United First Northern Southern Eastern Western Central "
    "Coastal Metro Capital Premier Pioneer Heritage Frontier Horizon Legacy Liberty Unity Vertex "
    "Zenith Orbit Polar Tropic Harbor Highland Lowland Midland Island Mountain Canyon Prairie "
    "Delta Gulf Sierra Cascade Aurora Beacon Compass Anchor Keystone Cornerstone Landmark "
    "Milestone Crossroads Junction Meridian Equinox Solstice Eclipse Nebula Galaxy Comet Meteor "
    "Rocket Falcon Eagle Hawk Raven Phoenix Griffin Dragon Tiger Lion Wolf Fox Bear Otter Beaver "
    "Heron Crane Swan Dolphin Orca Marlin Salmon Trout Maple Cedar Aspen Spruce Sequoia Redwood "
    "Juniper Laurel Ivy Lotus Orchid Iris Violet Indigo Scarlet Crimson Saffron Ivory Ebony"
)
_KIND_BY_INDUSTRY: Final = {
    "Software": ("Software", "Labs", "Systems", "Cloud", "AI"),
    "Information Technology and Services": ("Technologies", "Systems", "IT", "Solutions"),
    "Online Media": ("Media", "Digital", "News", "Network"),
    "Marketing and Advertising": ("Marketing", "Creative", "Agency", "Ads"),
    "Publishing": ("Publishing", "Press", "Books", "Magazines"),
    "Financial Services": ("Capital", "Finance", "Pay", "Wealth"),
    "Retail": ("Retail", "Stores", "Shop", "Goods"),
    "Media Production": ("Studios", "Productions", "Films", "Pictures"),
    "Hospital & Health Care": ("Health", "Care", "Clinics", "Medical"),
    "E-Learning": ("Learning", "Academy", "Education", "Courses"),
    "Consumer Goods": ("Brands", "Goods", "Products", "Co"),
    "Entertainment": ("Entertainment", "Games", "Events", "Live"),
    "Broadcast Media": ("Broadcasting", "Radio", "TV", "Channels"),
    "Telecommunications": ("Telecom", "Networks", "Mobile", "Connect"),
    "Real Estate": ("Properties", "Realty", "Homes", "Estates"),
    "Logistics and Supply Chain": ("Logistics", "Freight", "Shipping", "Supply"),
    "Management Consulting": ("Consulting", "Partners", "Advisors", "Group"),
    "Mechanical or Industrial Engineering": ("Engineering", "Industries", "Machines", "Works"),
    "Nonprofit Organization Management": ("Foundation", "Trust", "Alliance", "Initiative"),
}
_LEGAL_SUFFIX: Final = {"US": ("", "", "Inc.", "LLC"), "GB": ("", "Ltd"), "DE": ("", "GmbH")}


def _cumulative(weights: Sequence[int]) -> list[float]:
    total = float(sum(weights))
    return [w / total for w in accumulate(weights)]


_INDUSTRY_CUM: Final = _cumulative([w for _, w in INDUSTRIES])
_COUNTRY_CUM: Final = _cumulative([w for *_, w in _COUNTRIES])
_FUNDING_CUM: Final = _cumulative([w for _, w, _ in _FUNDING])
_CMS_CUM: Final = _cumulative([w for _, w in _CMS])
_BRANDS: Final = len(_BRAND_HEADS) * len(_BRAND_TAILS)
# A multiplier coprime with the brand count walks every brand once before any repeats.
_BRAND_STEP: Final = next(s for s in range(7919, _BRANDS) if math.gcd(s, _BRANDS) == 1)


def _pick(rng: random.Random, cumulative: list[float]) -> int:
    return min(bisect.bisect_right(cumulative, rng.random()), len(cumulative) - 1)


def _brand(index: int) -> tuple[str, str]:
    """A display name and a domain slug, unique for every index below a million and more."""
    n = (index * _BRAND_STEP) % _BRANDS
    head = _BRAND_HEADS[n // len(_BRAND_TAILS)]
    tail = _BRAND_TAILS[n % len(_BRAND_TAILS)]
    cycle = index // _BRANDS
    brand = head + tail
    if cycle == 0:
        return brand, brand.lower()
    qualifier = _QUALIFIERS[(cycle - 1) % len(_QUALIFIERS)]
    round_ = (cycle - 1) // len(_QUALIFIERS)
    suffix = str(round_ + 1) if round_ else ""
    return f"{qualifier} {brand}", f"{qualifier}{brand}{suffix}".lower()


def _fit(company: dict[str, Any], country_code: str, stage: str | None, cms: str | None) -> float:
    """The hidden fit to the example ICP, in [0, 1], that drives win rates."""
    fit = 0.0
    fit += 0.20 if country_code == "US" else 0.0
    fit += 0.25 if company["industry"] in _NEW_MEDIA else 0.0
    fit += 0.15 if stage in ("series_a", "series_b", "series_c", "growth") else 0.0
    fit += 0.15 if (company["total_funding"] or 0.0) >= 3_000_000 else 0.0
    fit += 0.10 if company["has_inhouse_seo"] else 0.0
    fit += 0.15 if cms in _ENTERPRISE_CMS else 0.0
    fit -= 0.20 if (company["employees"] or 100) < 10 else 0.0
    return max(0.0, min(1.0, fit))


def _win_chance(fit: float, contacts: list[dict[str, Any]] | None) -> float:
    """How likely a closed deal is won: company fit alone, or fit and who the buyers are."""
    if contacts is None:
        return 0.1 + 0.7 * fit
    chance = 0.04 + 0.55 * fit
    chance += 0.15 if has_economic_buyer(contacts) else 0.0
    chance += 0.15 if has_seo_champion(contacts) else 0.0
    return min(0.95, chance)


def _deals(
    rng: random.Random,
    people_rng: random.Random,
    company: dict[str, Any],
    fit: float,
    count: int,
    today: date,
) -> list[dict[str, Any]]:
    deals = []
    size = company["employees"] or 50
    contacts = company["contacts"]
    win_chance = _win_chance(fit, contacts or None)
    for n in range(count):
        amount = round(rng.lognormvariate(math.log(2_000 + 40 * size**0.8), 0.6), -2)
        created = today - timedelta(days=30 + int(rng.random() * 700))
        roll = rng.random()
        if roll < 0.2:
            outcome, stage = "open", DEAL_OPEN_STAGES[int(rng.random() * len(DEAL_OPEN_STAGES))]
            close = today + timedelta(days=1 + int(rng.random() * 120))
        else:
            won = rng.random() < win_chance
            outcome, stage = ("won", "closedwon") if won else ("lost", "closedlost")
            close = min(
                today - timedelta(days=1), created + timedelta(days=14 + int(rng.random() * 120))
            )
        # Larger deals of larger companies run through the enterprise pipeline.
        enterprise = size >= 200 and people_rng.random() < 0.6
        owner = company["owner"] if people_rng.random() < 0.85 else n % len(OWNERS)
        deals.append(
            {
                "name": f"{company['name']} — {('New business', 'Expansion', 'Renewal')[n % 3]}",
                "amount": amount,
                "outcome": outcome,
                "stage": stage,
                "pipeline": "enterprise" if enterprise else "default",
                "owner": owner,
                "contacts": draw_deal_roles(people_rng, contacts),
                "created_date": created,
                "close_date": close,
            }
        )
    return deals


def generate_companies(
    seed: int,
    count: int,
    *,
    deals_per_company: int = 2,
    contacts_per_company: int = 0,
    today: date | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield ``count`` demo companies, each with its ``deals`` and ``contacts``, the same ones for
    the same seed.

    Keys: name, domain, industry, employees, annual_revenue, country, state, city, funding_stage,
    total_funding, founded_year, tech_stack, lifecycle_stage, has_inhouse_seo, is_competitor, nps,
    owner (an index into ``OWNERS``), contacts (see ``demo_people.draw_contacts``: name, email,
    phone, title, department, buying_role, created_date, owner, and the seniority and function
    the title was drawn from, which no fake exposes), deals (name, amount, outcome
    won/lost/open, stage, pipeline default/enterprise, owner, contacts as (contact index,
    role) pairs, created_date, close_date). Any of the company's fields but name, domain, owner,
    contacts and deals may be ``None``: real CRMs have gaps. Dates are relative to ``today``
    (default: the current date); everything else depends on ``seed`` alone. Company ``i``'s own
    fields do not depend on ``count``, ``deals_per_company`` or ``contacts_per_company``; with
    contacts, who the buyers are weighs on which deals are won.
    """
    today = today or date.today()
    rng = random.Random(seed)
    deal_rng = random.Random(f"{seed}:deals")
    # Separate streams, so that people never shift the companies or the deals' own draws.
    owner_rng = random.Random(f"{seed}:owners")
    people_rng = random.Random(f"{seed}:people")
    rand = rng.random
    for index in range(count):
        industry = INDUSTRIES[_pick(rng, _INDUSTRY_CUM)][0]
        typed_country, country_code, _ = _COUNTRIES[_pick(rng, _COUNTRY_CUM)]
        places = _PLACES[country_code]
        state, city = places[int(rand() * len(places))]
        headcount = min(250_000, 1 + int(rng.lognormvariate(3.4, 1.5)))
        employees: int | None = headcount
        revenue: float | None = round(headcount * rng.lognormvariate(11.8, 0.5), -3)
        stage, _, (low, high) = _FUNDING[_pick(rng, _FUNDING_CUM)]
        funding: float | None = round(low + (high - low) * rand() ** 2, -4) if high else None
        cms = _CMS[_pick(rng, _CMS_CUM)][0]
        tech = [cms] if cms else []
        for _ in range(int(rand() * 5)):
            other = _OTHER_TECH[int(rand() * len(_OTHER_TECH))]
            if other not in tech:
                tech.append(other)
        media_like = industry in _MEDIA_LIKE
        seo_roll = rand()
        has_seo: bool | None = None if seo_roll < 0.25 else seo_roll < (0.7 if media_like else 0.45)
        competitor_roll = rand()
        is_competitor = (
            True if competitor_roll < 0.005 else (False if competitor_roll < 0.3 else None)
        )
        founded: int | None = max(1900, today.year - int(rng.lognormvariate(2.3, 0.8)))
        gaps = rand()
        if gaps < 0.06:
            employees = None
        elif gaps < 0.12:
            revenue = None
        elif gaps < 0.16:
            founded = None
        if stage and rand() < 0.3:
            typed_stage: str | None = _FUNDING_TYPED[stage]
        else:
            typed_stage = stage
        brand, slug = _brand(index)
        kinds = _KIND_BY_INDUSTRY[industry]
        kind = kinds[index % len(kinds)]
        legal = _LEGAL_SUFFIX.get(country_code, ("",))
        suffix = legal[int(rand() * len(legal))]
        name = f"{brand} {kind}" + (f" {suffix}" if suffix else "")
        company: dict[str, Any] = {
            "name": name,
            "domain": f"{slug}{kind.lower()}.{_TLD.get(country_code, 'io')}",
            "industry": industry,
            "employees": employees,
            "annual_revenue": revenue,
            "country": typed_country,
            "state": state,
            "city": city,
            "funding_stage": typed_stage,
            "total_funding": funding,
            "founded_year": founded,
            "tech_stack": tech or None,
            "lifecycle_stage": None,
            "has_inhouse_seo": has_seo,
            "is_competitor": is_competitor,
            "nps": None,
        }
        # Drawn before the deals so that company i never depends on deals_per_company.
        nps_roll, lifecycle_roll = rand(), rand()
        company["owner"] = int(owner_rng.random() * len(OWNERS))
        company["contacts"] = draw_contacts(
            people_rng,
            domain=company["domain"],
            owner=company["owner"],
            count=contacts_per_company,
            today=today,
        )
        fit = _fit(company, country_code, stage, cms)
        deals = _deals(deal_rng, people_rng, company, fit, deals_per_company, today)
        company["deals"] = deals
        outcomes = {deal["outcome"] for deal in deals}
        if "won" in outcomes:
            company["lifecycle_stage"] = "customer"
            company["nps"] = min(10, max(0, round(4 + 6 * fit + 2 * (nps_roll - 0.5))))
        elif "open" in outcomes:
            company["lifecycle_stage"] = "opportunity"
        else:
            company["lifecycle_stage"] = (
                "lead"
                if lifecycle_roll < 0.45
                else "subscriber"
                if lifecycle_roll < 0.65
                else "marketingqualifiedlead"
                if lifecycle_roll < 0.8
                else "salesqualifiedlead"
                if lifecycle_roll < 0.9
                else "other"
                if lifecycle_roll < 0.95
                else None
            )
        yield company
