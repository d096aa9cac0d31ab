"""Scoring semantics (DESIGN §3.3): statuses, score, coverage, tiers, MQL/SQL and reasons."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from app.scoring import (
    CompiledIcp,
    CriterionOutcome,
    ScoreResult,
    compile_icp,
    parse_definition,
    score_account,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "icp.yaml"


def compiled(*criteria: dict[str, Any], **top: Any) -> CompiledIcp:
    """Compile a definition from criteria given as dicts (ids and weights defaulted)."""
    filled = []
    for index, criterion in enumerate(criteria):
        filled.append({"id": f"c{index}", "weight": 10, **criterion})
    return compile_icp(parse_definition({"name": "Test", "criteria": filled, **top}))


def status(criterion: dict[str, Any], account: dict[str, Any]) -> str:
    """The status of one criterion on one account."""
    return score_account(compiled(criterion), account).criteria[0].status


@pytest.fixture(scope="module")
def example() -> CompiledIcp:
    return compile_icp(
        parse_definition(EXAMPLE.read_text(encoding="utf-8"), content_type="application/yaml")
    )


# --- ops ----------------------------------------------------------------------------------------

ABSENT = object()


def case(field: str, op: str, value: Any, account_value: Any, expected: str) -> Any:
    """One row of a table: a criterion on ``field`` and an account holding ``account_value``."""
    criterion = {"field": field, "op": op}
    if value is not ABSENT:
        criterion["value"] = value
    if account_value is ABSENT:
        account: dict[str, Any] = {}
    elif field.startswith("attributes."):
        account = {"attributes": {field.removeprefix("attributes."): account_value}}
    else:
        account = {field: account_value}
    return pytest.param(criterion, account, expected, id=f"{field}-{op}-{account_value!r}")


OP_CASES = [
    case("industry", "eq", "Online Media", "online media", "matched"),
    case("industry", "eq", "online media", " ONLINE MEDIA ", "matched"),
    case("industry", "eq", "online media", "retail", "missed"),
    case("funding_stage", "eq", "series_a", "Series A", "matched"),
    case("funding_stage", "eq", "series_a", "series-a", "matched"),
    case("industry", "neq", "retail", "Media", "matched"),
    case("industry", "neq", "retail", "Retail", "missed"),
    case("industry", "in", ["a", "publishing"], "Publishing", "matched"),
    case("industry", "in", ["a", "b"], "c", "missed"),
    case("industry", "not_in", ["a", "b"], "c", "matched"),
    case("industry", "not_in", ["a", "b"], "B", "missed"),
    case("employees", "gt", 10, 11, "matched"),
    case("employees", "gt", 10, 10, "missed"),
    case("employees", "gte", 10, 10, "matched"),
    case("employees", "gte", 10, 9, "missed"),
    case("employees", "lt", 10, 9, "matched"),
    case("employees", "lt", 10, 10, "missed"),
    case("employees", "lte", 10, 10, "matched"),
    case("employees", "lte", 10, 11, "missed"),
    case("employees", "between", [10, 50], 10, "matched"),
    case("employees", "between", [10, 50], 50, "matched"),
    case("employees", "between", [10, 50], 51, "missed"),
    case("employees", "between", [10, 50], 9, "missed"),
    case("annual_revenue", "gte", 1e6, 1e6, "matched"),
    case("annual_revenue", "gte", 1e6, 999_999.5, "missed"),
    case("tech_stack", "contains_any", ["Sitecore", "x"], ["sitecore", "react"], "matched"),
    case("tech_stack", "contains_any", ["sitecore"], ["react"], "missed"),
    case(
        "tech_stack", "contains_all", ["react", "sitecore"], ["Sitecore", "React", "x"], "matched"
    ),
    case("tech_stack", "contains_all", ["react", "sitecore"], ["React"], "missed"),
    case("domain", "exists", ABSENT, "acme.com", "matched"),
    case("domain", "exists", ABSENT, ABSENT, "missed"),
    case("domain", "exists", ABSENT, "  ", "missed"),
    case("tech_stack", "exists", ABSENT, [], "missed"),
    case("employees", "exists", ABSENT, 0, "matched"),
    case("domain", "missing", ABSENT, ABSENT, "matched"),
    case("domain", "missing", ABSENT, None, "matched"),
    case("domain", "missing", ABSENT, "", "matched"),
    case("domain", "missing", ABSENT, "acme.com", "missed"),
    case("name", "text_contains", "Media", "Acme MEDIA Group", "matched"),
    case("name", "text_contains", "media", "Acme Software", "missed"),
    case("attributes.notes", "text_contains", "seo", "In-house SEO team", "matched"),
    case("is_customer", "eq", True, True, "matched"),
    case("is_customer", "eq", True, False, "missed"),
    case("is_customer", "neq", True, "false", "matched"),
    case("country", "eq", "US", "US", "matched"),
    case("country", "in", ["US", "GB"], "DE", "missed"),
    case("country", "not_in", ["US"], "Germany", "matched"),
]


@pytest.mark.parametrize(("criterion", "account", "expected"), OP_CASES)
def test_each_op_matches_or_misses(criterion, account, expected):
    assert status(criterion, account) == expected


UNKNOWN_VALUES: list[Any] = [None, "", "   ", []]


@pytest.mark.parametrize(
    "criterion",
    [
        {"field": "industry", "op": "eq", "value": "media"},
        {"field": "industry", "op": "neq", "value": "media"},
        {"field": "industry", "op": "in", "value": ["media"]},
        {"field": "industry", "op": "not_in", "value": ["media"]},
        {"field": "employees", "op": "gt", "value": 1},
        {"field": "employees", "op": "lte", "value": 1},
        {"field": "employees", "op": "between", "value": [1, 2]},
        {"field": "tech_stack", "op": "contains_any", "value": ["react"]},
        {"field": "tech_stack", "op": "contains_all", "value": ["react"]},
        {"field": "name", "op": "text_contains", "value": "media"},
        {"field": "country", "op": "eq", "value": "US"},
        {"field": "is_customer", "op": "eq", "value": True},
        {"field": "attributes.plan", "op": "eq", "value": "gold"},
    ],
)
@pytest.mark.parametrize("value", UNKNOWN_VALUES)
def test_absent_null_blank_or_empty_values_are_unknown_for_every_value_op(criterion, value):
    field = criterion["field"]
    if field.startswith("attributes."):
        account = {"attributes": {field.removeprefix("attributes."): value}}
    else:
        account = {field: value}
    assert status(criterion, account) == "unknown"
    assert status(criterion, {}) == "unknown"


@pytest.mark.parametrize("op", ["exists", "missing"])
@pytest.mark.parametrize("value", UNKNOWN_VALUES)
def test_exists_and_missing_are_never_unknown(op, value):
    assert status({"field": "domain", "op": op}, {"domain": value}) != "unknown"


def test_unknown_field_is_not_a_miss(example):
    result = score_account(example, {"country": "US"})
    by_id = {c.id: c for c in result.criteria}
    assert by_id["us_based"].status == "matched"
    assert by_id["new_media"].status == "unknown"
    assert by_id["tiny"].status == "unknown"
    assert result.score == 20
    assert "? New media (no data)" in result.reasons


# --- coercion of raw CRM values -----------------------------------------------------------------


RAW_CASES = [
    case("employees", "gte", 100, "120", "matched"),
    case("employees", "gte", 100, " 1,200 ", "matched"),
    case("total_funding", "gte", 3e6, "3.5e6", "matched"),
    case("total_funding", "gte", 3e6, "2,999,999", "missed"),
    case("employees", "eq", 50, "50", "matched"),
    case("employees", "eq", 50, 50.0, "matched"),
    case("employees", "in", [10, 50], "10", "matched"),
    case("employees", "gte", 100, "lots", "unknown"),
    case("employees", "gte", 100, True, "unknown"),
    case("employees", "gte", 100, float("nan"), "unknown"),
    case("employees", "eq", 5, "five", "unknown"),
    case("is_customer", "eq", True, "true", "matched"),
    case("is_customer", "eq", True, "Yes", "matched"),
    case("is_customer", "eq", True, "0", "missed"),
    case("is_customer", "eq", True, "maybe", "unknown"),
    case("is_customer", "eq", "true", True, "matched"),
    case("attributes.seo", "eq", True, "TRUE", "matched"),
    case("attributes.seo", "eq", True, 1, "matched"),
    case("attributes.seats", "gt", 5, "12", "matched"),
    case("attributes.seats", "eq", 5, "5.0", "matched"),
    case("attributes.plan", "in", ["gold", 3], 3, "matched"),
    case("attributes.plan", "in", ["gold", 3], "3", "matched"),
    case("tech_stack", "contains_any", ["sitecore"], "WordPress; Sitecore", "matched"),
    case("tech_stack", "contains_all", ["a", "c"], "a;b;c", "matched"),
    case("tech_stack", "contains_any", ["x"], " ; ;", "unknown"),
    case("tech_stack", "contains_any", ["x"], ["", None], "unknown"),
    case("tech_stack", "eq", "react", ["Vue", "React"], "matched"),
    case("tech_stack", "not_in", ["react"], ["Vue", "React"], "missed"),
    case("tech_stack", "text_contains", "site", ["Sitecore"], "matched"),
]


@pytest.mark.parametrize(("criterion", "account", "expected"), RAW_CASES)
def test_raw_crm_strings_are_coerced_and_unreadable_values_count_as_unknown(
    criterion, account, expected
):
    assert status(criterion, account) == expected


@pytest.mark.parametrize(
    "country", ["US", "us", "USA", "United States", "united states", "U.S.", "U.S.A.", " us "]
)
def test_country_names_codes_and_aliases_match_an_iso_code(country):
    assert status({"field": "country", "op": "in", "value": ["US"]}, {"country": country}) == (
        "matched"
    )


@pytest.mark.parametrize("icp_value", ["United Kingdom", "UK", "gb", "GBR"])
def test_the_icps_own_country_values_are_normalised_too(icp_value):
    criterion = {"field": "country", "op": "eq", "value": icp_value}
    assert status(criterion, {"country": "Great Britain"}) == "matched"
    assert status(criterion, {"country": "France"}) == "missed"


def test_an_unknown_country_is_a_miss_not_an_error():
    assert status({"field": "country", "op": "eq", "value": "US"}, {"country": "Atlantis"}) == (
        "missed"
    )


@pytest.mark.parametrize("attributes", [None, "garbage", [], {}])
def test_attributes_that_are_absent_or_not_a_mapping_leave_attribute_fields_unknown(attributes):
    account = {"attributes": attributes} if attributes is not None else {}
    assert status({"field": "attributes.x", "op": "eq", "value": "y"}, account) == "unknown"
    assert status({"field": "attributes.x", "op": "missing"}, account) == "matched"


def test_unhashable_list_items_do_not_crash_list_ops():
    criterion = {"field": "tech_stack", "op": "contains_any", "value": ["react"]}
    assert status(criterion, {"tech_stack": ["React", {"odd": 1}]}) == "matched"


# --- score ----------------------------------------------------------------------------------------


def test_score_is_the_matched_share_of_positive_weights(example):
    account = {
        "country": "United States",
        "industry": "Publishing",
        "funding_stage": "Seed",
        "total_funding": 5_000_000,
        "employees": 40,
        "attributes": {"has_inhouse_seo": True},
    }
    # matched: 20 + 25 + 15 + 10 = 70 of 100 positive points
    assert score_account(example, account).score == 70


def test_negative_weights_subtract(example):
    account = {"country": "US", "industry": "publishing", "employees": 4}
    assert score_account(example, account).score == 25  # 20 + 25 - 20


def test_score_is_clamped_at_zero():
    icp = compiled(
        {"field": "country", "op": "eq", "value": "US", "weight": 10},
        {"field": "employees", "op": "lt", "value": 10, "weight": -50},
    )
    result = score_account(icp, {"country": "DE", "employees": 3})
    assert result.score == 0
    assert result.criteria[1].points == -50


def test_a_full_match_scores_100():
    icp = compiled(
        {"field": "country", "op": "eq", "value": "US", "weight": 7},
        {"field": "employees", "op": "lt", "value": 10, "weight": -3},
    )
    assert score_account(icp, {"country": "US", "employees": 50}).score == 100


@pytest.mark.parametrize(
    ("matched_weight", "other_weight", "expected"),
    [
        (2, 1, 67),  # 66.67
        (1, 2, 33),  # 33.33
        (1, 7, 13),  # 12.5 rounds half up
        (3, 5, 38),  # 37.5 rounds half up
        (5, 3, 63),  # 62.5 rounds half up
        (1, 199, 1),  # 0.5 rounds half up
        (1, 1, 50),
    ],
)
def test_score_rounds_half_up_exactly(matched_weight, other_weight, expected):
    icp = compiled(
        {"field": "country", "op": "eq", "value": "US", "weight": matched_weight},
        {"field": "employees", "op": "gt", "value": 10, "weight": other_weight},
    )
    assert score_account(icp, {"country": "US", "employees": 1}).score == expected


def test_unknown_criteria_earn_nothing_and_lower_coverage(example):
    result = score_account(example, {"country": "US", "industry": "retail"})
    assert result.score == 20
    # known: us_based (20) and new_media (25) of 120 absolute weight
    assert result.coverage == pytest.approx(45 / 120)


def test_coverage_is_one_when_everything_is_known_and_zero_when_nothing_is(example):
    full = {
        "country": "DE",
        "industry": "retail",
        "funding_stage": "seed",
        "total_funding": 0,
        "employees": 50,
        "tech_stack": ["react"],
        "attributes": {"has_inhouse_seo": False},
    }
    assert score_account(example, full).coverage == 1.0
    assert score_account(example, {}).coverage == 0.0


def test_coverage_ignores_exclusions(example):
    result = score_account(example, {"country": "US", "attributes": {"is_competitor": False}})
    assert result.coverage == pytest.approx(20 / 120)


# --- tiers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "tier"),
    [(100, "A"), (80, "A"), (79, "B"), (60, "B"), (59, "C"), (40, "C"), (39, "D"), (0, "D")],
)
def test_tiers_start_at_their_threshold(score, tier):
    # Two criteria weighing score and 100 - score; only the first matches.
    criteria = [{"field": "country", "op": "eq", "value": "US", "weight": score}]
    if score < 100:
        criteria.append({"field": "employees", "op": "gt", "value": 10, "weight": 100 - score})
    if score == 0:
        criteria.pop(0)
    result = score_account(compiled(*criteria), {"country": "US", "employees": 1})
    assert result.score == score
    assert result.tier == tier


def test_custom_tier_thresholds_apply():
    icp = compiled(
        {"field": "country", "op": "eq", "value": "US", "weight": 1},
        {"field": "employees", "op": "gt", "value": 10, "weight": 1},
        tiers={"A": 90, "B": 50, "C": 10},
    )
    assert score_account(icp, {"country": "US", "employees": 1}).tier == "B"


# --- exclusions and qualification ---------------------------------------------------------------


def test_exclusion_forces_tier_d_and_no_mql(example):
    account = {
        "country": "US",
        "industry": "online media",
        "funding_stage": "Series B",
        "total_funding": 9e6,
        "employees": 200,
        "tech_stack": ["Sitecore"],
        "open_deals": 3,
        "attributes": {"has_inhouse_seo": True, "is_competitor": "true"},
    }
    result = score_account(example, account)
    assert result.excluded is True
    assert (result.score, result.tier, result.is_mql, result.is_sql) == (0, "D", False, False)
    assert result.reasons == "D 0 · excluded: Competitor"
    assert result.exclusions == (CriterionOutcome("competitor", "Competitor", "matched", 0),)
    # The breakdown still says what matched, for whoever asks why.
    assert all(c.status == "matched" for c in result.criteria if c.id != "tiny")


def test_an_unknown_or_missed_exclusion_does_not_exclude(example):
    account: dict[str, Any] = {"country": "US", "industry": "online media"}
    assert score_account(example, account).exclusions[0].status == "unknown"
    account["attributes"] = {"is_competitor": False}
    result = score_account(example, account)
    assert result.exclusions[0].status == "missed"
    assert result.excluded is False
    assert result.score == 45


def test_every_matched_exclusion_is_named():
    icp = compiled(
        {"field": "country", "op": "eq", "value": "US"},
        exclusions=[
            {
                "id": "competitor",
                "label": "Competitor",
                "field": "name",
                "op": "text_contains",
                "value": "rival",
            },
            {"id": "partner", "field": "attributes.partner", "op": "eq", "value": True},
        ],
    )
    result = score_account(icp, {"name": "Rival Inc", "attributes": {"partner": "yes"}})
    assert result.reasons == "D 0 · excluded: Competitor · excluded: partner"


QUALIFIED = {
    "country": "US",
    "industry": "online media",
    "funding_stage": "series_a",
    "total_funding": 3_000_000,
    "employees": 30,
    "tech_stack": ["Contentful"],
    "attributes": {"has_inhouse_seo": True},
}


def test_mql_needs_the_min_score(example):
    result = score_account(
        example, {"country": "US", "industry": "online media", "funding_stage": "growth"}
    )
    assert result.score == 60
    assert result.is_mql is True
    assert result.is_sql is False
    result = score_account(example, {"country": "US", "industry": "online media"})
    assert result.score == 45
    assert result.is_mql is False


def test_sql_needs_its_min_score_and_every_requirement(example):
    assert score_account(example, {**QUALIFIED, "open_deals": 1}).is_sql is True
    assert score_account(example, {**QUALIFIED, "open_deals": "2"}).is_sql is True
    assert score_account(example, {**QUALIFIED, "open_deals": 0}).is_sql is False
    without_deals = score_account(example, QUALIFIED)  # requirement unknown: not met
    assert without_deals.score == 100
    assert (without_deals.is_mql, without_deals.is_sql) == (True, False)


def test_mql_requirements_must_all_match():
    icp = compiled(
        {"field": "country", "op": "eq", "value": "US"},
        qualification={
            "mql": {
                "min_score": 50,
                "require": [
                    {"field": "domain", "op": "exists"},
                    {"field": "attributes.consent", "op": "eq", "value": True},
                ],
            }
        },
    )
    assert score_account(icp, {"country": "US", "domain": "a.com"}).is_mql is False
    both = {"country": "US", "domain": "a.com", "attributes": {"consent": True}}
    assert score_account(icp, both).is_mql is True
    assert score_account(icp, both).is_sql is False  # no SQL rule: never SQL


def test_sql_implies_mql():
    icp = compiled(
        {"field": "country", "op": "eq", "value": "US"},
        qualification={
            "mql": {"min_score": 100, "require": [{"field": "domain", "op": "exists"}]},
            "sql": {"min_score": 10},
        },
    )
    assert score_account(icp, {"country": "US"}).is_sql is False
    assert score_account(icp, {"country": "US", "domain": "a.com"}).is_sql is True


def test_without_qualification_nothing_is_mql_or_sql():
    icp = compiled({"field": "country", "op": "eq", "value": "US"})
    result = score_account(icp, {"country": "US"})
    assert result.score == 100
    assert (result.is_mql, result.is_sql) == (False, False)


# --- reasons ------------------------------------------------------------------------------------


def test_reasons_read_like_the_design_example(example):
    account = {
        "country": "United States",
        "industry": "Online Media",
        "funding_stage": "Seed",
        "total_funding": "5,000,000",
        "employees": "5",
        "tech_stack": ["WordPress"],
    }
    assert score_account(example, account).reasons == (
        "C 40 · +25 New media · +20 Based in the US · +15 Raised ≥ $3M"
        " · −20 Fewer than 10 staff · ? In-house SEO (no data)"
    )


def test_reasons_list_matched_by_strength_then_unknowns_and_never_misses():
    icp = compiled(
        {
            "id": "small",
            "label": "Small",
            "field": "employees",
            "op": "lt",
            "value": 10,
            "weight": -5,
        },
        {"id": "us", "label": "US", "field": "country", "op": "eq", "value": "US", "weight": 10},
        {
            "id": "tiny",
            "label": "Tiny",
            "field": "employees",
            "op": "lt",
            "value": 5,
            "weight": -30,
        },
        {
            "id": "media",
            "label": "Media",
            "field": "industry",
            "op": "eq",
            "value": "media",
            "weight": 40,
        },
        {
            "id": "cms",
            "label": "CMS",
            "field": "tech_stack",
            "op": "contains_any",
            "value": ["x"],
            "weight": 20,
        },
        {
            "id": "seo",
            "label": "SEO",
            "field": "attributes.seo",
            "op": "eq",
            "value": True,
            "weight": 30,
        },
        {"id": "de", "label": "DE", "field": "region", "op": "eq", "value": "berlin", "weight": 5},
    )
    result = score_account(
        icp, {"employees": 3, "country": "US", "industry": "media", "region": "Bavaria"}
    )
    # 40 + 10 - 30 - 5 = 15 of 105 positive points
    assert result.reasons == (
        "D 14 · +40 Media · +10 US · −30 Tiny · −5 Small · ? SEO (no data) · ? CMS (no data)"
    )
    assert "−" in result.reasons and "-" not in result.reasons


def test_reasons_fall_back_to_the_id_without_a_label():
    icp = compiled({"id": "us_based", "field": "country", "op": "eq", "value": "US"})
    assert score_account(icp, {"country": "US"}).reasons == "A 100 · +10 us_based"


def test_reasons_are_truncated_on_a_segment_boundary_within_1000_characters():
    criteria = [
        {
            "id": f"c{i}",
            "label": f"criterion {i:02d} " + "x" * 80,
            "field": "domain",
            "op": "exists",
        }
        for i in range(20)
    ]
    result = score_account(compiled(*criteria), {"domain": "a.com"})
    assert len(result.reasons) <= 1000
    assert result.reasons.endswith(" · …")
    segments = result.reasons.split(" · ")
    assert segments[0] == "A 100"
    assert segments[-1] == "…"
    assert all(s.startswith("+10 criterion ") and s.endswith("x" * 80) for s in segments[1:-1])
    # The next segment would not have fitted.
    assert len(result.reasons) + len(segments[1]) + 3 > 1000


def test_reasons_that_fit_are_not_truncated():
    criteria = [
        {"id": f"c{i}", "label": "y" * 90, "field": "domain", "op": "exists"} for i in range(10)
    ]
    reasons = score_account(compiled(*criteria), {"domain": "a.com"}).reasons
    assert len(reasons) == len("A 100") + 10 * (3 + len("+10 ") + 90)
    assert "…" not in reasons


# --- result shape and reuse ---------------------------------------------------------------------


def test_as_dict_is_the_what_if_result_shape(example):
    result = score_account(example, {"country": "US", "attributes": {"is_competitor": False}})
    data = result.as_dict()
    assert list(data) == [
        "score",
        "tier",
        "is_mql",
        "is_sql",
        "excluded",
        "coverage",
        "reasons",
        "criteria",
        "exclusions",
    ]
    assert data["criteria"][0] == {
        "id": "us_based",
        "label": "Based in the US",
        "status": "matched",
        "points": 20,
    }
    assert data["criteria"][1]["status"] == "unknown"
    assert data["criteria"][1]["points"] == 0
    assert data["exclusions"] == [
        {"id": "competitor", "label": "Competitor", "status": "missed", "points": 0}
    ]
    data["criteria"].clear()
    assert len(result.as_dict()["criteria"]) == 7  # a fresh dict every time


def test_results_are_immutable_and_shared_between_equal_verdicts(example):
    first = score_account(example, {"country": "US", "employees": 50})
    second = score_account(example, {"country": "usa", "employees": "75"})
    assert first is second
    assert isinstance(first, ScoreResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.score = 1  # type: ignore[misc]


def test_the_memo_is_bounded():
    icp = compile_icp(
        parse_definition(
            {
                "name": "t",
                "criteria": [
                    {"id": "big", "field": "employees", "op": "gt", "value": 5, "weight": 1},
                    {"id": "us", "field": "country", "op": "eq", "value": "US", "weight": 1},
                ],
            }
        ),
        memo_size=2,
    )
    for account in ({}, {"employees": 9}, {"country": "US"}, {"employees": 1}):
        score_account(icp, account)
    assert len(icp._memo) <= 2


def test_memo_size_zero_recomputes_and_agrees(example):
    uncached = compile_icp(example.definition, memo_size=0)
    account = {"country": "US", "industry": "media production", "employees": 3}
    assert score_account(uncached, account) == score_account(example, account)
    assert score_account(uncached, account) is not score_account(uncached, account)


def test_scoring_does_not_mutate_the_account(example):
    account: dict[str, Any] = {
        "country": "United States",
        "tech_stack": "a;b",
        "attributes": {"has_inhouse_seo": "yes"},
    }
    snapshot = {**account, "attributes": dict(account["attributes"])}
    score_account(example, account)
    assert account == snapshot


def test_field_names_are_data_not_code():
    tricky = "x') or __import__('os').getcwd() or ('"
    icp = compiled({"field": f"attributes.{tricky}", "op": "eq", "value": "y"})
    assert score_account(icp, {"attributes": {tricky: "Y"}}).score == 100
    assert score_account(icp, {"attributes": {"x": "y"}}).criteria[0].status == "unknown"


def test_read_fields_name_every_top_level_key_scoring_reads(example):
    assert example.read_fields == {
        "country",
        "industry",
        "funding_stage",
        "total_funding",
        "tech_stack",
        "employees",
        "attributes",
        "open_deals",
    }


def test_an_account_cut_down_to_read_fields_scores_the_same(example):
    account = {**QUALIFIED, "name": "Acme", "domain": "acme.com", "open_deals": 1}
    cut = {key: account.get(key) for key in example.read_fields}  # absent keys come back null
    assert score_account(example, cut) == score_account(example, account)
