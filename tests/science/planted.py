"""Companies whose wins are driven by a few planted traits among noise: the known answer that
discovery's tests and benchmarks check it against.

Each account is canonical data as a synced account holds it (industry, employees, revenue,
country, region, city, funding, founding year, a tech stack list, attributes, contact and
persona counts), plus outcome fields that leak the answer (``won_deals``, ``is_customer``,
``lifecycle_stage``) which discovery must never offer. Whether an account was won is drawn
from a logistic model of five planted traits:

- industry Software (+), 50–500 employees (+), Salesforce in the tech stack (+), based in the
  US (+), and an anti-signal: agencies (``attributes.is_agency``) rarely buy (−).

Everything else (about 25 more fields and attributes of every kind: categories with a long
tail, numbers as text, lists, booleans as "yes"/"no", partly filled fields) is noise, except
annual revenue, which follows headcount (a proxy of the
employees band, as in real data: discovery should not count it twice). Close dates are spread
evenly over two years, so an older/newer split sees the same model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from app.scoring.definition import Persona

BASE_LOG_ODDS = -2.2
# The planted log-odds effects: (field, what it tests, effect).
SOFTWARE_EFFECT = 1.1
BAND_EFFECT = 1.0
SALESFORCE_EFFECT = 0.9
US_EFFECT = 0.8
AGENCY_EFFECT = -2.5
EMPLOYEE_BAND = (50, 500)

PLANTED_FIELDS = frozenset(
    {"industry", "employees", "tech_stack", "country", "attributes.is_agency"}
)

INDUSTRIES = {
    "Software": 0.18,
    "Retail": 0.10,
    "Manufacturing": 0.10,
    "Healthcare": 0.09,
    "Financial Services": 0.09,
    "Education": 0.08,
    "Media": 0.08,
    "Logistics": 0.07,
    "Construction": 0.06,
    "Hospitality": 0.06,
    "Energy": 0.05,
    "Agriculture": 0.04,
}
COUNTRIES = {
    "US": 0.35,
    "GB": 0.12,
    "DE": 0.10,
    "FR": 0.08,
    "CA": 0.08,
    "AU": 0.06,
    "NL": 0.05,
    "SE": 0.04,
    "ES": 0.04,
    "IN": 0.04,
    "BR": 0.04,
}
REGIONS = {
    "US": ["California", "New York", "Texas", "Washington", "Massachusetts", "Illinois"],
    "GB": ["England", "Scotland"],
    "DE": ["Bavaria", "Berlin", "Hesse"],
    "FR": ["Ile-de-France", "Auvergne-Rhone-Alpes"],
    "CA": ["Ontario", "Quebec", "British Columbia"],
    "AU": ["New South Wales", "Victoria"],
    "NL": ["North Holland"],
    "SE": ["Stockholm"],
    "ES": ["Madrid", "Catalonia"],
    "IN": ["Karnataka", "Maharashtra"],
    "BR": ["Sao Paulo"],
}
FUNDING_STAGES = {
    "bootstrapped": 0.25,
    "seed": 0.20,
    "series_a": 0.18,
    "series_b": 0.14,
    "series_c": 0.10,
    "growth": 0.08,
    "public": 0.05,
}
# How often each technology appears in a stack (independently of the others).
TECHNOLOGIES = {
    "Salesforce": 0.30,
    "HubSpot": 0.30,
    "Slack": 0.55,
    "AWS": 0.45,
    "Google Cloud": 0.20,
    "Azure": 0.20,
    "Zendesk": 0.15,
    "Jira": 0.35,
    "Shopify": 0.10,
    "WordPress": 0.30,
    "Stripe": 0.25,
    "Intercom": 0.12,
    "Segment": 0.10,
    "Snowflake": 0.08,
    "Marketo": 0.07,
    "Google Analytics": 0.60,
}
PLANS = {"starter": 0.5, "pro": 0.35, "enterprise": 0.15}
SOURCES = ("web", "referral", "event", "partner", "outbound")
CHANNELS = ("email", "chat", "phone", "social")
PERSONAS = [
    Persona(id="economic_buyer", label="Economic buyer", seniority=["c_level", "vp"]),
    Persona(id="champion", label="Champion", title_keywords=["operations", "revops"]),
]
CLOSE_START = datetime(2023, 1, 1, tzinfo=UTC)
CLOSE_SPAN = timedelta(days=730)


@dataclass(frozen=True)
class PlantedSample:
    """A generated sample, and the model that generated its wins."""

    accounts: list[dict[str, Any]]
    won: list[bool]
    closed_at: list[datetime | None]
    personas: list[Persona]
    true_definition: dict[str, Any]

    def true_log_odds(self, account: Mapping[str, Any]) -> float:
        """The generating model's log-odds that ``account`` is won."""
        return true_log_odds(account)


def true_log_odds(account: Mapping[str, Any]) -> float:
    """The log-odds of a win under the planted model."""
    attributes = account.get("attributes") or {}
    employees = account.get("employees")
    return (
        BASE_LOG_ODDS
        + SOFTWARE_EFFECT * (account.get("industry") == "Software")
        + BAND_EFFECT
        * (employees is not None and EMPLOYEE_BAND[0] <= employees <= EMPLOYEE_BAND[1])
        + SALESFORCE_EFFECT * ("Salesforce" in (account.get("tech_stack") or []))
        + US_EFFECT * (account.get("country") == "US")
        + AGENCY_EFFECT * (attributes.get("is_agency") is True)
    )


# The generating model as an ICP: weights are ten times the log-odds effects.
TRUE_DEFINITION: dict[str, Any] = {
    "name": "Planted model",
    "criteria": [
        {"id": "software", "field": "industry", "op": "in", "value": ["Software"], "weight": 11},
        {
            "id": "band",
            "field": "employees",
            "op": "between",
            "value": list(EMPLOYEE_BAND),
            "weight": 10,
        },
        {
            "id": "salesforce",
            "field": "tech_stack",
            "op": "contains_any",
            "value": ["Salesforce"],
            "weight": 9,
        },
        {"id": "us", "field": "country", "op": "in", "value": ["US"], "weight": 8},
        {
            "id": "agency",
            "field": "attributes.is_agency",
            "op": "eq",
            "value": True,
            "weight": -25,
        },
    ],
    "tiers": {"A": 75, "B": 50, "C": 25},
}


def _choice(rng: np.random.Generator, table: Mapping[str, float], n: int) -> list[str]:
    names = list(table)
    weights = np.array([table[name] for name in names])
    return [names[i] for i in rng.choice(len(names), size=n, p=weights / weights.sum())]


def planted_sample(n: int = 5000, *, seed: int = 0) -> PlantedSample:
    """``n`` accounts, their outcomes and close dates, drawn from the planted model."""
    rng = np.random.default_rng(seed)
    industries = _choice(rng, INDUSTRIES, n)
    countries = _choice(rng, COUNTRIES, n)
    stages = _choice(rng, FUNDING_STAGES, n)
    plans = _choice(rng, PLANS, n)
    # Headcount spread over four orders of magnitude, a median near 150.
    employees = np.maximum(1, np.round(np.exp(rng.normal(math.log(150), 1.4, n)))).astype(int)
    revenue_per_head = np.exp(rng.normal(math.log(150_000), 0.5, n))
    has_tech = rng.random((n, len(TECHNOLOGIES))) < np.array(list(TECHNOLOGIES.values()))
    technologies = list(TECHNOLOGIES)
    accounts: list[dict[str, Any]] = []
    won: list[bool] = []
    closed_at: list[datetime | None] = []
    for i in range(n):
        region = REGIONS[countries[i]][rng.integers(len(REGIONS[countries[i]]))]
        buyers = int(rng.poisson(0.8))
        champions = int(rng.poisson(0.6))
        account: dict[str, Any] = {
            "external_id": f"acct-{seed}-{i}",
            "name": f"Company {i}",
            "domain": f"company{i}.example",
            "industry": industries[i],
            "employees": int(employees[i]),
            "annual_revenue": round(float(employees[i] * revenue_per_head[i]), 2),
            "country": countries[i],
            "region": region,
            "city": f"{region} City",
            "founded_year": int(rng.integers(1990, 2023)),
            "tech_stack": [
                t for t, present in zip(technologies, has_tech[i], strict=True) if present
            ],
            "attributes": {
                "is_agency": bool(rng.random() < 0.08),
                "has_blog": bool(rng.random() < 0.4),
                "plan_interest": plans[i],
                "uses_sso": "true" if rng.random() < 0.3 else "false",
                "web_visits": int(rng.poisson(40)),
                "lead_source": SOURCES[rng.integers(len(SOURCES))],
                "employee_growth": round(float(rng.normal(0.1, 0.15)), 3),
                "has_mobile_app": bool(rng.random() < 0.35),
                "channels": [c for c in CHANNELS if rng.random() < 0.4],
                "seo_score": str(int(rng.integers(0, 101))),  # a number, as CRMs send it
                "newsletter": "yes" if rng.random() < 0.5 else "no",
                "support_tickets": int(rng.poisson(3)),
                # A long tail of rare values, as free-text CRM fields have.
                "last_event": f"Event {int(rng.zipf(1.6)) % 400}",
            },
            "contacts": buyers + champions + int(rng.poisson(4)),
            "personas.economic_buyer": buyers,
            "personas.champion": champions,
        }
        if rng.random() < 0.85:  # some accounts have no funding data at all
            account["funding_stage"] = stages[i]
            if stages[i] != "bootstrapped":
                account["total_funding"] = float(round(math.exp(rng.normal(math.log(8e6), 1.2))))
        if rng.random() < 0.1:
            del account["founded_year"]
        if rng.random() < 0.5:  # half the accounts have a review site rating
            account["attributes"]["g2_rating"] = round(float(rng.uniform(3, 5)), 1)
        if rng.random() < 0.3:
            account["attributes"]["partner_tier"] = ("silver", "gold", "platinum")[i % 3]
        if rng.random() < 0.08:
            account["tech_stack"] = []
        is_won = bool(rng.random() < 1 / (1 + math.exp(-true_log_odds(account))))
        # Outcome fields, as a CRM holds them after the deal: they give the answer away.
        account["won_deals"] = int(is_won)
        account["lost_deals"] = int(not is_won)
        account["is_customer"] = is_won
        account["lifecycle_stage"] = "customer" if is_won else "opportunity"
        account["nps"] = int(rng.integers(0, 11)) if is_won else None
        accounts.append(account)
        won.append(is_won)
        closed_at.append(CLOSE_START + CLOSE_SPAN * float(rng.random()))
    return PlantedSample(
        accounts=accounts,
        won=won,
        closed_at=closed_at,
        personas=list(PERSONAS),
        true_definition={
            **TRUE_DEFINITION,
            "personas": [p.model_dump(exclude_none=True) for p in PERSONAS],
        },
    )
