"""Personas: which contacts an ICP's personas match, and an account's roll-ups for scoring."""

from __future__ import annotations

from app.scoring import compile_icp, parse_definition, score_account
from app.scoring.personas import ContactView, PersonaMatcher
from app.scoring.titles import TitleClass, classify_contact, classify_title

DEFINITION = parse_definition(
    {
        "name": "Personas",
        "personas": [
            {
                "id": "economic_buyer",
                "seniority": ["c_level", "vp"],
                "functions": ["marketing", "executive"],
            },
            {"id": "seo_champion", "title_keywords": ["seo", "organic search"]},
            {"id": "seo_leader", "seniority": ["director", "vp"], "title_keywords": ["seo"]},
        ],
        "criteria": [
            {
                "id": "buyer",
                "field": "personas.economic_buyer",
                "op": "gte",
                "value": 1,
                "weight": 60,
            },
            {
                "id": "champion",
                "field": "personas.seo_champion",
                "op": "gte",
                "value": 1,
                "weight": 40,
            },
        ],
    }
)


def _view(title: str) -> ContactView:
    verdict = classify_title(title)
    return ContactView(title, verdict.seniority, verdict.function)


def test_a_contact_matches_a_persona_when_every_condition_it_gives_holds() -> None:
    matcher = PersonaMatcher(DEFINITION.personas)

    assert matcher.matching(_view("VP, Growth Marketing")) == ["economic_buyer"]
    assert matcher.matching(_view("Co-Founder & CEO")) == ["economic_buyer"]
    assert matcher.matching(_view("Head of SEO")) == ["seo_champion", "seo_leader"]
    assert matcher.matching(_view("Organic-Search Specialist")) == ["seo_champion"]
    assert matcher.matching(_view("SEO Specialist")) == ["seo_champion"]  # not a leader
    assert matcher.matching(_view("CTO")) == []  # C-level, but engineering
    assert matcher.matching(_view("Sales Manager, Seoul")) == []  # whole words only


def test_an_account_rolls_its_contacts_up_into_counts_a_criterion_scores() -> None:
    matcher = PersonaMatcher(DEFINITION.personas)
    compiled = compile_icp(DEFINITION)
    people = ["CMO", "SEO Lead", "Content Writer", "Sr. Software Engineer"]

    roll_up = matcher.roll_up(_view(t) for t in people)
    nobody = matcher.roll_up([])

    assert roll_up == {
        "contacts": 4,
        "personas.economic_buyer": 1,
        "personas.seo_champion": 1,
        "personas.seo_leader": 0,
    }
    assert score_account(compiled, {"name": "x", **roll_up}).score == 100
    assert score_account(compiled, {"name": "x", **nobody}).score == 0


def test_a_crm_buying_role_completes_a_title_that_says_nothing() -> None:
    assert classify_contact("Jane's account", "EXECUTIVE_SPONSOR") == TitleClass("c_level", "other")
    assert classify_contact("Team Member", "Economic Buyer") == TitleClass("vp", "other")
    assert classify_contact("Associate", "LEGAL_AND_COMPLIANCE") == TitleClass(None, "legal")
    assert classify_contact("Analyst", "Technical Buyer") == TitleClass("individual", "engineering")
    # Where the title says more, the title wins.
    assert classify_contact("CMO", "END_USER") == TitleClass("c_level", "marketing")
    assert classify_contact("CMO", None) == classify_title("CMO")


def test_a_multi_valued_hubspot_buying_role_counts_by_its_first_known_role() -> None:
    # HubSpot's hs_buying_role is a multi-select: its option codes, ';'-separated.
    assert classify_contact("Team Member", "BLOCKER;DECISION_MAKER;END_USER") == TitleClass(
        "director", "other"
    )
    assert classify_contact("Associate", "INFLUENCER;LEGAL_AND_COMPLIANCE") == TitleClass(
        None, "legal"
    )
