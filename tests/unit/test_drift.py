"""ICP health statistics: PSI as the textbook defines it, binning, age, inversions, alerts."""

from __future__ import annotations

import math

import pytest
from scipy.stats import binomtest

from app.science.backtest import SampleRow, tier_table
from app.science.drift import (
    FieldCounts,
    FieldSpec,
    age_status,
    assess,
    categories,
    field_counts,
    field_psi,
    monitored_fields,
    numeric_spec,
    psi,
    ready_for_baseline,
    tier_inversions,
)
from app.scoring import parse_definition


def test_psi_equals_the_sum_of_share_differences_times_their_log_ratio() -> None:
    expected = [500, 300, 150, 50]
    actual = [300, 300, 250, 150]

    by_hand = sum(
        (a / 1000 - e / 1000) * math.log((a / 1000) / (e / 1000))
        for e, a in zip(expected, actual, strict=True)
    )

    assert psi(expected, actual) == pytest.approx(by_hand, rel=1e-12)
    # −0.2·ln(0.6) + 0 + 0.1·ln(0.25/0.15) + 0.1·ln(3), written out
    assert by_hand == pytest.approx(
        0.2 * math.log(1 / 0.6) + 0.1 * math.log(5 / 3) + 0.1 * math.log(3)
    )


def test_psi_is_zero_for_the_same_shares_and_symmetric() -> None:
    assert psi([100, 200, 300], [200, 400, 600]) == pytest.approx(0.0)
    assert psi([400, 300, 300], [300, 300, 400]) == pytest.approx(
        psi([300, 300, 400], [400, 300, 300])
    )


def test_an_empty_bin_counts_as_a_floor_share_not_an_infinite_index() -> None:
    value = psi([500, 500, 0], [400, 400, 200])
    assert value is not None and math.isfinite(value)
    assert value > 0.25


def test_psi_is_withheld_below_the_minimum_sample() -> None:
    assert psi([30, 30, 30], [60, 0, 0]) is None
    assert psi([], []) is None


def test_rare_values_pool_into_other_and_the_most_frequent_come_first() -> None:
    counts = {"retail": 10, "online media": 500, "publishing": 300, "saas": 190, None: 4000}
    spec = FieldSpec("industry", "categorical", categories(counts))

    assert spec.bins == ("online media", "publishing", "saas")
    assert field_counts(spec, counts, live=5000) == FieldCounts(5000, 1000, (10, 500, 300, 190))
    assert categories({None: 10}) == ()


def test_list_members_count_each_occurrence_and_pool_the_rare_ones() -> None:
    members = {"contentful": 60, "sitecore": 39, "wix": 1}
    spec = FieldSpec("tech_stack", "list", categories(members))

    counts = field_counts(spec, {True: 80, None: 20}, live=100, members=members)

    assert counts == FieldCounts(100, 80, (1, 60, 39))


def test_numbers_are_counted_by_bin_and_unreadable_ones_only_as_known() -> None:
    spec = FieldSpec("employees", "numeric", (10.0, 100.0))

    counts = field_counts(spec, {0: 5, 1: 20, 2: 30, -1: 3, None: 42}, live=100)

    assert counts == FieldCounts(100, 58, (5, 20, 30))


def test_numeric_bins_are_the_baseline_deciles_with_ties_collapsed() -> None:
    spec = numeric_spec("employees", [10, 10, 20, None, 50, 50, 100, 200, 500])
    assert spec == FieldSpec("employees", "numeric", (10.0, 20.0, 50.0, 100.0, 200.0, 500.0))
    assert spec.size == 7
    assert numeric_spec("employees", None) == FieldSpec("employees", "presence")


def test_each_criterion_field_is_binned_as_its_criterion_compares_it() -> None:
    definition = parse_definition(
        {
            "name": "x",
            "criteria": [
                {"id": "us", "field": "country", "op": "in", "value": ["US"], "weight": 10},
                {"id": "big", "field": "employees", "op": "gte", "value": 50, "weight": 10},
                {
                    "id": "cms",
                    "field": "tech_stack",
                    "op": "contains_any",
                    "value": ["x"],
                    "weight": 5,
                },
                {"id": "seo", "field": "attributes.seo", "op": "eq", "value": True, "weight": 5},
                {"id": "arr", "field": "attributes.arr", "op": "gt", "value": 5, "weight": 5},
                {"id": "site", "field": "domain", "op": "exists", "weight": 5},
                {
                    "id": "blog",
                    "field": "name",
                    "op": "text_contains",
                    "value": "blog",
                    "weight": 5,
                },
                {"id": "won", "field": "won_deals", "op": "gte", "value": 1, "weight": 5},
                {"id": "buyer", "field": "personas.buyer", "op": "gte", "value": 1, "weight": 5},
                {"id": "us2", "field": "country", "op": "exists", "weight": 1},
            ],
            "personas": [{"id": "buyer", "seniority": ["vp"]}],
            "tiers": {"A": 80, "B": 60, "C": 40},
        }
    )

    assert monitored_fields(definition) == [
        ("country", "categorical"),
        ("employees", "numeric"),
        ("tech_stack", "list"),
        ("attributes.seo", "categorical"),
        ("attributes.arr", "numeric"),
        ("domain", "presence"),
        ("name", "presence"),
    ]


def test_presence_fields_drift_on_known_versus_unknown() -> None:
    spec = FieldSpec("domain", "presence")
    then, now = FieldCounts(1000, 900), FieldCounts(1000, 500)
    assert field_psi(spec, then, now) == pytest.approx(psi([900, 100], [500, 500]))


@pytest.mark.parametrize(
    ("days", "status"),
    [(0, "ok"), (89, "ok"), (90, "review_soon"), (179, "review_soon"), (180, "stale")],
)
def test_age_status_turns_at_90_and_180_days(days: int, status: str) -> None:
    assert age_status(days) == status


def test_a_baseline_waits_for_the_rescore_to_cover_the_accounts() -> None:
    assert ready_for_baseline(live=1000, unscored=0)
    assert ready_for_baseline(live=1000, unscored=10)
    assert not ready_for_baseline(live=1000, unscored=11)
    assert not ready_for_baseline(live=0, unscored=0)


def _rows(spec: dict[str, tuple[int, int]]) -> list[SampleRow]:
    return [
        SampleRow(0, tier, False, False, n < won)
        for tier, (accounts, won) in spec.items()
        for n in range(accounts)
    ]


def test_a_lower_tier_winning_beyond_the_intervals_is_an_inversion() -> None:
    tiers = tier_table(_rows({"A": (40, 4), "B": (40, 10), "C": (40, 30), "D": (40, 5)}))

    assert tier_inversions(tiers) == [("A", "C"), ("B", "C")]
    low = binomtest(30, 40).proportion_ci(method="wilson").low
    high = binomtest(10, 40).proportion_ci(method="wilson").high
    assert low > high


def test_tiers_in_order_or_within_the_intervals_are_no_inversion() -> None:
    ordered = tier_table(_rows({"A": (40, 30), "B": (40, 20), "C": (40, 10), "D": (40, 2)}))
    close = tier_table(_rows({"A": (20, 8), "B": (20, 10), "C": (0, 0), "D": (20, 5)}))

    assert tier_inversions(ordered) == []
    assert tier_inversions(close) == []


def test_alerts_name_their_condition_so_a_standing_one_is_recognised() -> None:
    tiers = tier_table(_rows({"A": (40, 2), "D": (40, 35)}))

    alerts = assess(
        age_days=200,
        tier_psi=0.3,
        field_psis={"industry": 0.5, "country": 0.12, "employees": None},
        fill_rates={"industry": (0.9, 0.85), "country": (0.95, 0.80), "employees": (None, 0.5)},
        tiers=tiers,
    )

    assert [(a.kind, a.field, a.key) for a in alerts] == [
        ("age", None, "age:stale"),
        ("tier_drift", None, "tier_drift"),
        ("field_drift", "industry", "field_drift:industry"),
        ("fill_drop", "country", "fill_drop:country"),
        ("tier_inversion", None, "tier_inversion:A<D"),
    ]
    assert "80%" in alerts[3].detail and "95%" in alerts[3].detail
    assert assess(age_days=10, tier_psi=0.05, field_psis={}, fill_rates={}, tiers=[]) == []
