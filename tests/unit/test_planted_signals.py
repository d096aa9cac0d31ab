"""Discovery against a known answer: samples whose wins are driven by five planted traits among
about twenty-five noise fields (tests/science/planted.py), over five seeds."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from app.science.discovery import HOLDOUT_SHARE, discover
from app.scoring.definition import parse_definition
from app.scoring.engine import compile_icp
from tests.science.planted import (
    EMPLOYEE_BAND,
    PLANTED_FIELDS,
    PlantedSample,
    planted_sample,
    true_log_odds,
)

SEEDS = (0, 1, 2, 3, 4)
ACCOUNTS = 4000
# Noise criteria (or exclusions) a candidate may carry: at most one per seed.
MAX_NOISE = 1
# Holdout capture within 0.06 of the true model's at the same A+B share, per seed, and within
# 0.03 on average. The holdout holds about 350 wins, so one capture share has a sampling error
# of about 0.027 (binomial): two rankings of equal quality can differ by two of those on one
# seed, less on the mean of five. A candidate that misses the signal falls far behind: ranking
# at random captures only its A+B share (about 0.25, against the true model's 0.45).
CAPTURE_TOLERANCE = 0.06
MEAN_CAPTURE_TOLERANCE = 0.03


@pytest.fixture(scope="module")
def runs() -> list[tuple[PlantedSample, dict[str, Any]]]:
    out = []
    for seed in SEEDS:
        sample = planted_sample(ACCOUNTS, seed=seed)
        answer = discover(
            sample.accounts, sample.won, sample.closed_at, personas=sample.personas, seed=seed
        )
        out.append((sample, answer))
    return out


def _conditions(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """Criteria and exclusions (an exclusion as weight None)."""
    definition = answer["definition"]
    return definition["criteria"] + [
        {**e, "weight": None} for e in definition.get("exclusions", [])
    ]


def _recovered(sample: PlantedSample, answer: dict[str, Any]) -> dict[str, bool]:
    """For each planted trait, whether the candidate holds it, in its direction."""
    criteria = answer["definition"]["criteria"]
    positive = {(c["field"], c["op"], str(c["value"])) for c in criteria if c["weight"] > 0}
    agency_against = any(
        c["field"] == "attributes.is_agency"
        and (
            (c.get("value") is True and (c["weight"] is None or c["weight"] < 0))
            or (c.get("value") is False and c["weight"] is not None and c["weight"] > 0)
        )
        for c in _conditions(answer)
    )
    return {
        "industry": ("industry", "in", "['Software']") in positive,
        "country": ("country", "in", "['US']") in positive,
        "tech_stack": ("tech_stack", "contains_any", "['Salesforce']") in positive,
        "employees": _band_recovered(sample, criteria),
        "attributes.is_agency": agency_against,
    }


def _band_recovered(sample: PlantedSample, criteria: list[dict[str, Any]]) -> bool:
    """The positive employee criteria pick out the planted band: most of the accounts they
    match are in it (precision ≥ 0.85) and they match most of it (recall ≥ 0.8)."""
    bands = [c for c in criteria if c["field"] == "employees" and c["weight"] > 0]
    if not bands:
        return False
    compiled = compile_icp(parse_definition({"name": "bands", "criteria": bands}))
    low, high = EMPLOYEE_BAND
    matched = np.array(
        [any(o.status == "matched" for o in compiled.score(a).criteria) for a in sample.accounts]
    )
    planted = np.array([low <= a["employees"] <= high for a in sample.accounts])
    hits = (matched & planted).sum()
    return bool(hits / matched.sum() >= 0.85 and hits / planted.sum() >= 0.8)


def test_every_planted_trait_is_recovered_in_its_direction(
    runs: list[tuple[PlantedSample, dict[str, Any]]],
) -> None:
    for sample, answer in runs:
        recovered = _recovered(sample, answer)
        assert set(recovered) == PLANTED_FIELDS
        assert all(recovered.values()), (recovered, answer["yaml"])


def test_few_noise_traits_are_selected(runs: list[tuple[PlantedSample, dict[str, Any]]]) -> None:
    for _, answer in runs:
        noise = [c for c in _conditions(answer) if c["field"] not in PLANTED_FIELDS]
        assert len(noise) <= MAX_NOISE, noise
        # Annual revenue follows headcount: a proxy of the band, not counted twice.
        assert not any(c["field"] == "annual_revenue" for c in _conditions(answer))


def test_outcome_fields_that_give_the_answer_away_are_never_selected(
    runs: list[tuple[PlantedSample, dict[str, Any]]],
) -> None:
    for _, answer in runs:
        fields = {c["field"] for c in _conditions(answer)} | {t["field"] for t in answer["traits"]}
        assert not fields & {"won_deals", "lost_deals", "is_customer", "lifecycle_stage", "nps"}


def _true_capture(sample: PlantedSample, share: float) -> float:
    """The share of the holdout's wins the generating model's best-ranked ``share`` of the
    holdout holds (accounts tied at the cut counted pro rata)."""
    order = sorted(range(len(sample.accounts)), key=lambda i: sample.closed_at[i])
    newer = order[round(len(order) * (1 - HOLDOUT_SHARE)) :]
    odds = np.array([true_log_odds(sample.accounts[i]) for i in newer])
    won = np.array([sample.won[i] for i in newer])
    taken = share * len(newer)
    cut = np.sort(odds)[::-1][max(int(taken) - 1, 0)]
    above, tied = odds > cut, odds == cut
    captured = won[above].sum() + (taken - above.sum()) / tied.sum() * won[tied].sum()
    return float(captured / won.sum())


def test_holdout_capture_is_close_to_the_true_models_at_the_same_share(
    runs: list[tuple[PlantedSample, dict[str, Any]]],
) -> None:
    gaps = []
    for sample, answer in runs:
        split = answer["validation"]["time_split"]
        assert 0.15 <= split["ab_share"] <= 0.35
        gap = split["capture"] - _true_capture(sample, split["ab_share"])
        assert abs(gap) <= CAPTURE_TOLERANCE, (gap, split)
        gaps.append(gap)
    assert abs(np.mean(gaps)) <= MEAN_CAPTURE_TOLERANCE, gaps


def test_answers_are_stable_across_seeds(runs: list[tuple[PlantedSample, dict[str, Any]]]) -> None:
    planted_sets = [frozenset(f for f, found in _recovered(s, a).items() if found) for s, a in runs]
    selected_fields = [
        frozenset(c["field"] for c in _conditions(a) if c["field"] in PLANTED_FIELDS)
        for _, a in runs
    ]

    assert len(set(planted_sets)) == 1 and len(set(selected_fields)) == 1
    assert planted_sets[0] == PLANTED_FIELDS
    aucs = [a["validation"]["auc"] for _, a in runs]
    assert max(aucs) - min(aucs) < 0.05, aucs
