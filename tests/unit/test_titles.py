"""The title classifier: seniority and function from job titles as CRMs hold them."""

from __future__ import annotations

import csv
from pathlib import Path

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


LABELLED = Path(__file__).parent / "data" / "job_titles_labelled.csv"


def _macro_f1(path: Path) -> tuple[float, float, int]:
    from sklearn.metrics import f1_score

    with path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    verdicts = [classify_title(row["title"]) for row in rows]
    seniority = f1_score(
        [row["seniority"] or "none" for row in rows],
        [v.seniority or "none" for v in verdicts],
        average="macro",
    )
    function = f1_score(
        [row["function"] for row in rows], [v.function for v in verdicts], average="macro"
    )
    return float(seniority), float(function), len(rows)


def test_a_hand_labelled_set_of_real_world_titles_scores_above_the_bar() -> None:
    """470 titles labelled by hand, independently of this code (tests/unit/data). The bar is
    the issue's: macro-F1 ≥ 0.95 on seniority and ≥ 0.90 on function."""
    seniority, function, count = _macro_f1(LABELLED)

    print(f"\n{count} labelled titles: macro-F1 seniority {seniority:.3f}, function {function:.3f}")
    assert count >= 400
    assert seniority >= 0.95
    assert function >= 0.90


HELD_OUT = Path(__file__).parent / "data" / "job_titles_heldout.csv"


def test_a_held_out_set_nobody_tuned_the_tables_on_scores_above_the_bar_too() -> None:
    """240 more titles, labelled by hand after the tables were written and never used to change
    them (so a regression shows, and so does overfitting to the first set): measured 1.000 on
    seniority and 0.978 on function when it was added."""
    seniority, function, count = _macro_f1(HELD_OUT)

    print(f"\n{count} held-out titles: macro-F1 seniority {seniority:.3f}, function {function:.3f}")
    assert count >= 200
    assert seniority >= 0.95
    assert function >= 0.90
