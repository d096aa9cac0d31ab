"""Properties of scoring that must hold for any valid ICP and any account."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from app.scoring import (
    IcpDefinition,
    IcpDefinitionError,
    compile_icp,
    parse_definition,
    score_account,
)
from app.scoring.engine import MATCHED, MISSED, UNKNOWN
from connectors.normalize import to_float, to_int

# One criterion template per field, so that changing one field changes one criterion.
TEMPLATES: dict[str, list[dict[str, Any]]] = {
    "country": [
        {"op": "in", "value": ["US", "GB"]},
        {"op": "eq", "value": "United States"},
        {"op": "not_in", "value": ["DE"]},
    ],
    "industry": [
        {"op": "eq", "value": "online media"},
        {"op": "in", "value": ["publishing", "media production"]},
        {"op": "neq", "value": "retail"},
        {"op": "text_contains", "value": "media"},
    ],
    "employees": [
        {"op": "lt", "value": 10},
        {"op": "gte", "value": 50},
        {"op": "between", "value": [10, 500]},
        {"op": "eq", "value": 12},
    ],
    "total_funding": [{"op": "gte", "value": 3_000_000}, {"op": "lte", "value": 1e6}],
    "tech_stack": [
        {"op": "contains_any", "value": ["sitecore", "contentful"]},
        {"op": "contains_all", "value": ["react", "sitecore"]},
    ],
    "domain": [{"op": "exists"}, {"op": "missing"}],
    "is_customer": [{"op": "eq", "value": True}, {"op": "neq", "value": True}],
    "attributes.has_inhouse_seo": [{"op": "eq", "value": True}],
    "attributes.plan": [{"op": "in", "value": ["gold", 3]}],
}

RAW_VALUES = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "US", "us", "United States", "UK", "Germany", "Atlantis"]),
    st.sampled_from(["online media", "Publishing", "Retail", "MEDIA production", "n/a"]),
    st.sampled_from(["1,200", "3.5e6", " 42 ", "9", "lots", "true", "No", "yes", "gold"]),
    st.sampled_from(["Sitecore;React", "react; sitecore ;", ";;"]),
    st.integers(min_value=-10, max_value=10_000_000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.lists(st.sampled_from(["Sitecore", "react", "", "WordPress", "contentful"]), max_size=4),
)


@st.composite
def definitions(draw: st.DrawFn) -> IcpDefinition:
    fields = draw(st.lists(st.sampled_from(sorted(TEMPLATES)), min_size=1, max_size=6, unique=True))
    criteria = []
    for index, field in enumerate(fields):
        template = draw(st.sampled_from(TEMPLATES[field]))
        weight = draw(st.integers(min_value=-40, max_value=40).filter(bool))
        criteria.append({"id": f"c{index}", "field": field, "weight": weight, **template})
    if all(c["weight"] < 0 for c in criteria):
        criteria[0]["weight"] = -criteria[0]["weight"]
    data: dict[str, Any] = {"name": "generated", "criteria": criteria}
    if draw(st.booleans()):
        data["exclusions"] = [
            {"id": "competitor", "field": "attributes.is_competitor", "op": "eq", "value": True}
        ]
    high = draw(st.integers(min_value=2, max_value=100))
    middle = draw(st.integers(min_value=1, max_value=high - 1))
    low = draw(st.integers(min_value=0, max_value=middle - 1))
    data["tiers"] = {"A": high, "B": middle, "C": low}
    if draw(st.booleans()):
        data["qualification"] = {
            "mql": {"min_score": draw(st.integers(0, 100))},
            "sql": {
                "min_score": draw(st.integers(0, 100)),
                "require": [{"field": "open_deals", "op": "gte", "value": 1}],
            },
        }
    return parse_definition(data)


@st.composite
def accounts(draw: st.DrawFn) -> dict[str, Any]:
    account: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for field in [*TEMPLATES, "open_deals", "attributes.is_competitor"]:
        if draw(st.booleans()):
            value = draw(RAW_VALUES)
            if field.startswith("attributes."):
                attributes[field.removeprefix("attributes.")] = value
            else:
                account[field] = value
    keep_empty_attributes = draw(st.booleans())
    if attributes or keep_empty_attributes:
        account["attributes"] = attributes
    return account


COMMON = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@COMMON
@given(definitions(), accounts())
def test_score_is_an_int_in_0_100_coverage_in_0_1_and_reasons_fit(definition, account):
    result = score_account(compile_icp(definition), account)
    assert type(result.score) is int
    assert 0 <= result.score <= 100
    assert 0.0 <= result.coverage <= 1.0
    assert len(result.reasons) <= 1000
    assert result.reasons.startswith(f"{result.tier} {result.score}")
    assert len(result.criteria) == len(definition.criteria)
    assert all(c.status in {"matched", "missed", "unknown"} for c in result.criteria)


@COMMON
@given(definitions(), accounts())
def test_tier_and_flags_agree_with_the_score(definition, account):
    result = score_account(compile_icp(definition), account)
    tiers = definition.tiers
    expected_tier = next(
        (
            name
            for name, floor in (("A", tiers.A), ("B", tiers.B), ("C", tiers.C))
            if result.score >= floor
        ),
        "D",
    )
    if result.excluded:
        assert (result.score, result.tier, result.is_mql, result.is_sql) == (0, "D", False, False)
    else:
        assert result.tier == expected_tier
    assert not result.is_sql or result.is_mql
    if definition.qualification is None:
        assert not result.is_mql
    elif result.is_mql:
        assert result.score >= definition.qualification.mql.min_score


@COMMON
@given(definitions(), accounts(), st.data())
def test_turning_one_positive_criterion_into_matched_never_lowers_the_score(
    definition, account, data
):
    compiled = compile_icp(definition)
    key = list(compiled._statuses(account))
    candidates = [
        i
        for i, criterion in enumerate(definition.criteria)
        if criterion.weight > 0 and key[i] != MATCHED
    ]
    assume(candidates)
    index = data.draw(st.sampled_from(candidates))
    before = compiled._build(tuple(key))
    key[index] = MATCHED
    after = compiled._build(tuple(key))
    assert after.score >= before.score


@COMMON
@given(definitions(), st.data())
def test_more_known_criteria_never_lower_coverage(definition, data):
    compiled = compile_icp(definition)
    n = len(definition.criteria)
    statuses = data.draw(
        st.lists(st.sampled_from([MATCHED, MISSED, UNKNOWN]), min_size=n, max_size=n)
    )
    rest = compiled._statuses({})[n:]
    unknown_at = [i for i, s in enumerate(statuses) if s == UNKNOWN]
    assume(unknown_at)
    before = compiled._build((*statuses, *rest))
    statuses[data.draw(st.sampled_from(unknown_at))] = data.draw(st.sampled_from([MATCHED, MISSED]))
    after = compiled._build((*statuses, *rest))
    assert after.coverage >= before.coverage


@COMMON
@given(definitions(), accounts())
def test_scoring_is_deterministic_across_calls_and_fresh_compiles(definition, account):
    first = score_account(compile_icp(definition), account)
    assert score_account(compile_icp(definition), account) == first
    reparsed = parse_definition(definition.model_dump(mode="json"))
    assert score_account(compile_icp(reparsed), account) == first


@COMMON
@given(definitions(), st.lists(accounts(), min_size=1, max_size=20))
def test_memoised_results_equal_uncached_computation(definition, batch):
    memoised = compile_icp(definition)
    uncached = compile_icp(definition, memo_size=0)
    for account in batch * 2:
        assert score_account(memoised, account) == score_account(uncached, account)


@COMMON
@given(definitions(), accounts())
def test_the_result_serialises_to_the_documented_shape(definition, account):
    data = score_account(compile_icp(definition), account).as_dict()
    assert set(data) == {
        "score",
        "tier",
        "is_mql",
        "is_sql",
        "excluded",
        "coverage",
        "reasons",
        "criteria",
        "exclusions",
    }
    for outcome in data["criteria"]:
        assert set(outcome) == {"id", "label", "status", "points"}
        assert outcome["points"] == 0 or outcome["status"] == "matched"


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_thousands_separators_round_trip_through_to_int(number):
    assert to_int(f"{number:,}") == number
    assert to_float(f" {number:,} ") == float(number)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_reprs_round_trip_through_to_float(number):
    assert to_float(repr(number)) == number


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-200, max_value=200),
    st.floats(allow_nan=False),
    st.sampled_from(["", "x", "US", "NO", "eq", "in", "between", "employees", "attributes.x"]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)
CRITERION_KEYS = st.sampled_from(["id", "label", "field", "op", "value", "weight", "colour"])


@st.composite
def almost_definitions(draw: st.DrawFn) -> dict[str, Any]:
    """Definitions with the right skeleton and anything at all in its slots."""
    criteria = draw(st.lists(st.dictionaries(CRITERION_KEYS, JSON_VALUES, max_size=7), max_size=4))
    data: dict[str, Any] = {"name": draw(JSON_VALUES), "criteria": criteria}
    for key in ("exclusions", "tiers", "qualification", "description"):
        if draw(st.booleans()):
            data[key] = draw(JSON_VALUES)
    return data


@settings(max_examples=300, deadline=None)
@given(almost_definitions())
def test_any_input_is_accepted_or_refused_with_problems_never_crashes(data):
    problems: list[dict[str, str]] = []
    try:
        parse_definition(data)
    except IcpDefinitionError as exc:
        problems = exc.problems
        assert problems, "a refusal names at least one problem"
    assert all(set(p) == {"path", "message"} for p in problems)
