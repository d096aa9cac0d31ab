"""The shared demo data: deterministic, realistic, messy where CRMs are messy, and fast."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date
from itertools import islice

from hubspot import HubSpot

from connectors.sandbox.common.admin_client import SandboxAdmin
from connectors.sandbox.common.demo_data import generate_companies

TODAY = date(2025, 6, 1)


def test_the_same_seed_yields_the_same_companies_and_deals() -> None:
    first = list(generate_companies(42, 200, today=TODAY))
    again = list(generate_companies(42, 200, today=TODAY))
    other = list(generate_companies(43, 200, today=TODAY))

    assert first == again
    assert first != other


def test_a_company_does_not_depend_on_how_many_are_generated_or_their_deal_count() -> None:
    short = [
        {k: v for k, v in c.items() if k != "deals"}
        for c in generate_companies(5, 10, deals_per_company=0)
    ]
    long = [
        {k: v for k, v in c.items() if k != "deals"}
        for c in islice(generate_companies(5, 1000, deals_per_company=4), 10)
    ]

    assert [c["name"] for c in short] == [c["name"] for c in long]
    assert {c["name"]: c["industry"] for c in short} == {c["name"]: c["industry"] for c in long}


def test_domains_are_unique_across_many_companies() -> None:
    domains = [c["domain"] for c in generate_companies(1, 30_000, deals_per_company=0)]

    assert len(set(domains)) == len(domains)


def test_the_data_has_the_mix_the_example_icp_needs() -> None:
    companies = list(generate_companies(9, 5000, today=TODAY))
    industries = Counter(c["industry"] for c in companies)
    countries = {c["country"] for c in companies}
    stages = {c["funding_stage"] for c in companies}
    tech = {t for c in companies for t in c["tech_stack"] or []}
    outcomes = Counter(d["outcome"] for c in companies for d in c["deals"])

    assert {"Online Media", "Publishing", "Media Production", "Software"} <= set(industries)
    assert {"United States", "US", "Germany", "United Kingdom"} <= countries
    assert {"series_a", "Series B", "seed", None} <= stages
    assert {"Adobe Experience Manager", "Sitecore", "Contentful", "Custom CMS", "WordPress"} <= tech
    assert set(outcomes) == {"won", "lost", "open"}
    assert 0 < sum(c["is_competitor"] is True for c in companies) < 100
    assert any(c["employees"] is None for c in companies), "real CRM data has gaps"
    employees = sorted(c["employees"] for c in companies if c["employees"])
    assert employees[len(employees) // 2] < 100 < employees[-1], (
        "log-normal: small median, long tail"
    )
    won_with_won_deal = [c for c in companies if any(d["outcome"] == "won" for d in c["deals"])]
    assert all(c["lifecycle_stage"] == "customer" for c in won_with_won_deal)


def test_icp_fit_companies_win_more_often() -> None:
    won = Counter[bool]()
    closed = Counter[bool]()
    for company in generate_companies(4, 5000, today=TODAY):
        fits = (
            company["industry"] in {"Online Media", "Publishing", "Media Production"}
            and (company["total_funding"] or 0) >= 3_000_000
        )
        for deal in company["deals"]:
            if deal["outcome"] != "open":
                closed[fits] += 1
                won[fits] += deal["outcome"] == "won"

    assert won[True] / closed[True] > won[False] / closed[False] + 0.1


def test_generation_is_fast_enough_for_a_million_companies() -> None:
    started = time.perf_counter()
    for _ in generate_companies(1, 50_000):
        pass

    assert time.perf_counter() - started < 5.0  # well under a few seconds per 100k


def test_resetting_with_the_same_seed_serves_the_same_records(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot
) -> None:
    fields = [
        "name",
        "domain",
        "industry",
        "numberofemployees",
        "country",
        "web_technologies",
        "funding_stage",
    ]

    def snapshot() -> list[tuple[str, dict[str, str | None]]]:
        page = hubspot.crm.companies.basic_api.get_page(limit=100, properties=fields)
        return [(r.id, {k: r.properties.get(k) for k in fields}) for r in page.results]

    hubspot_admin.reset(seed=21, companies=80)
    first = snapshot()
    hubspot_admin.reset(seed=21, companies=80)
    second = snapshot()
    hubspot_admin.reset(seed=22, companies=80)
    third = snapshot()

    assert first == second
    assert first != third
    assert first[0][0] == "5000000001"


def test_an_empty_reset_leaves_no_companies(hubspot_admin: SandboxAdmin, hubspot: HubSpot) -> None:
    hubspot_admin.reset(companies=0)

    assert hubspot.crm.companies.basic_api.get_page().results == []
    assert hubspot.crm.deals.basic_api.get_page().results == []
