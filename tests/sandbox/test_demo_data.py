"""The shared demo data: deterministic, realistic, messy where CRMs are messy, and fast."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from itertools import islice
from typing import Any

from hubspot import HubSpot

from connectors.sandbox.common.admin_client import SandboxAdmin
from connectors.sandbox.common.demo_data import OWNERS, generate_companies
from connectors.sandbox.common.demo_people import (
    CONTACT_ROLES,
    has_economic_buyer,
    has_seo_champion,
)

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


def test_every_company_gets_exactly_the_contacts_asked_for_with_unique_emails_at_its_domain() -> (
    None
):
    companies = list(generate_companies(6, 2000, contacts_per_company=4, today=TODAY))
    emails = [contact["email"] for c in companies for contact in c["contacts"]]

    assert all(len(c["contacts"]) == 4 for c in companies)
    assert len(set(emails)) == len(emails)
    assert all(
        contact["email"].endswith("@" + c["domain"]) for c in companies for contact in c["contacts"]
    )
    assert all(0 <= c["owner"] < len(OWNERS) for c in companies)


def test_people_never_shift_the_companies_or_the_deals_own_figures() -> None:
    without = list(generate_companies(8, 300, contacts_per_company=0, today=TODAY))
    with_people = list(generate_companies(8, 300, contacts_per_company=3, today=TODAY))

    def company_fields(company: dict[str, Any]) -> dict[str, Any]:
        return {
            k: v
            for k, v in company.items()
            if k not in ("contacts", "deals", "lifecycle_stage", "nps")
        }

    def deal_figures(company: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [(d["name"], d["amount"], d["created_date"]) for d in company["deals"]]

    assert [company_fields(c) for c in without] == [company_fields(c) for c in with_people]
    assert [deal_figures(c) for c in without] == [deal_figures(c) for c in with_people]


def test_titles_come_typed_as_in_crms_with_the_seniority_and_function_behind_them() -> None:
    contacts = [
        contact
        for c in generate_companies(10, 3000, contacts_per_company=3, today=TODAY)
        for contact in c["contacts"]
    ]
    titles = [c["title"] for c in contacts if c["title"]]
    seniorities = Counter(c["seniority"] for c in contacts)

    for noise in ("Sr. ", "VP, ", "Dir. ", "Mgr, ", " & ", " - EMEA", "Head of "):
        assert any(noise in title for title in titles), noise
    assert any(title.islower() for title in titles)
    assert any(c["title"] is None for c in contacts)
    assert set(seniorities) == {"c_level", "vp", "director", "manager", "individual", None}
    assert {c["function"] for c in contacts} >= {"executive", "marketing", "engineering", "other"}
    assert all(c["function"] == "other" for c in contacts if c["seniority"] is None)


def test_accounts_with_an_economic_buyer_or_an_seo_champion_win_more_often() -> None:
    companies = list(generate_companies(11, 6000, contacts_per_company=3, today=TODAY))

    def win_rate(predicate: Callable[[list[dict[str, Any]]], bool]) -> float:
        outcomes = [
            d["outcome"] == "won"
            for c in companies
            if predicate(c["contacts"])
            for d in c["deals"]
            if d["outcome"] != "open"
        ]
        return sum(outcomes) / len(outcomes)

    assert win_rate(has_economic_buyer) > win_rate(lambda p: not has_economic_buyer(p)) + 0.08
    assert win_rate(has_seo_champion) > win_rate(lambda p: not has_seo_champion(p)) + 0.08


def test_deals_name_their_pipeline_owner_and_people_from_their_own_company() -> None:
    companies = list(generate_companies(12, 2000, contacts_per_company=3, today=TODAY))
    deals = [(c, d) for c in companies for d in c["deals"]]

    assert {d["pipeline"] for _, d in deals} == {"default", "enterprise"}
    assert all(1 <= len(d["contacts"]) <= 3 for _, d in deals)
    assert all(0 <= index < len(c["contacts"]) for c, d in deals for index, _ in d["contacts"])
    assert {role for _, d in deals for _, role in d["contacts"]} <= set(CONTACT_ROLES)
    assert all(0 <= d["owner"] < len(OWNERS) for _, d in deals)


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
