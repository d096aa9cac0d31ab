"""The title classifier: seniority and function from job titles as CRMs hold them."""

from __future__ import annotations

import pytest

from app.scoring.titles import FUNCTIONS, SENIORITIES, TitleClass, classify_title
from connectors.sandbox.common.demo_data import generate_companies


@pytest.mark.parametrize(
    ("title", "seniority", "function"),
    [
        ("Co-Founder & CEO", "c_level", "executive"),
        ("Founder & CTO", "c_level", "engineering"),  # the chief role says more than founder
        ("Chief Revenue Officer", "c_level", "sales"),
        ("V.P. Engineering", "vp", "engineering"),
        ("VP, Growth Marketing", "vp", "marketing"),
        ("VP Sales & Marketing", "vp", "sales"),  # the first area named
        ("Sr. Director of Content", "director", "marketing"),
        ("Head of SEO", "director", "marketing"),
        ("Dir. Demand Generation | DACH", "director", "marketing"),
        ("Mgr, Content", "manager", "marketing"),
        ("SEO Lead", "manager", "marketing"),
        ("Lead Software Engineer", "individual", "engineering"),
        ("Sr. Software Engineer - EMEA", "individual", "engineering"),
        ("Analytics Engineer", "individual", "data"),
        ("Product Marketing Manager", "manager", "marketing"),
        ("Marketing Operations Manager", "manager", "operations"),
        ("IT Support Specialist", "individual", "it"),
        ("Executive Assistant to the CEO", "individual", "operations"),
        ("Talent Acquisition Partner", "individual", "hr"),
        ("Partner", None, "other"),
        ("General Counsel", "c_level", "legal"),
        ("content writer", "individual", "marketing"),
        ("CHIEF FINANCIAL OFFICER", "c_level", "finance"),
        ("Team Member", None, "other"),
        ("Marketing", None, "marketing"),
        ("", None, "other"),
        (None, None, "other"),
    ],
)
def test_a_title_reads_as_people_type_it(title, seniority, function) -> None:
    assert classify_title(title) == TitleClass(seniority, function)


def test_every_seeded_contact_s_title_says_what_it_was_drawn_from() -> None:
    contacts = [
        contact
        for company in generate_companies(21, 4000, contacts_per_company=3, deals_per_company=0)
        for contact in company["contacts"]
    ]

    wrong = [
        (c["title"], c["seniority"], c["function"], classify_title(c["title"]))
        for c in contacts
        if classify_title(c["title"]) != TitleClass(c["seniority"], c["function"])
    ]

    assert not wrong, wrong[:10]


def test_answers_stay_within_the_taxonomy_whatever_the_input() -> None:
    hostile = ["\x00", "a" * 10_000, "🚀 Growth Ninja 🚀", "&&&", "- - -", "VP VP VP", "ceo\x00cto"]
    for title in hostile:
        verdict = classify_title(title)
        assert verdict.seniority in (*SENIORITIES, None)
        assert verdict.function in FUNCTIONS


def test_the_same_title_always_gets_the_same_answer() -> None:
    first = classify_title.__wrapped__("Senior Director, Product Management (APAC)")
    again = classify_title.__wrapped__("Senior Director, Product Management (APAC)")

    assert first == again == TitleClass("director", "product")
