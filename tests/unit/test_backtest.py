"""Backtest statistics: every figure recountable from the rows."""

from __future__ import annotations

import random

from scipy.stats import binomtest
from sklearn.metrics import roc_auc_score

from app.science.backtest import SampleRow, backtest


def _rows(n: int, seed: int = 1) -> list[SampleRow]:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        score = rng.randint(0, 100)
        tier = "A" if score >= 80 else "B" if score >= 60 else "C" if score >= 40 else "D"
        won = rng.random() < 0.05 + 0.6 * score / 100
        rows.append(SampleRow(score, tier, score >= 60, score >= 80, won))
    return rows


def test_every_tier_figure_is_a_direct_count_of_the_rows() -> None:
    rows = _rows(3000)

    result = backtest(rows)

    wins = sum(r.won for r in rows)
    assert result["sample"] == {
        "accounts": 3000,
        "won": wins,
        "lost": 3000 - wins,
        "base_rate": wins / 3000,
    }
    assert [t["tier"] for t in result["tiers"]] == ["A", "B", "C", "D"]
    for tier in result["tiers"]:
        members = [r for r in rows if r.tier == tier["tier"]]
        won = sum(r.won for r in members)
        assert (tier["accounts"], tier["won"], tier["lost"]) == (
            len(members),
            won,
            len(members) - won,
        )
        assert tier["win_rate"] == won / len(members)
        interval = binomtest(won, len(members)).proportion_ci(method="wilson")
        assert tier["win_rate_ci"] == [interval.low, interval.high]
        assert tier["share_of_accounts"] == len(members) / 3000
        assert tier["share_of_wins"] == won / wins
        assert tier["lift"] == (won / len(members)) / (wins / 3000)
    assert result["mql"]["accounts"] == sum(r.is_mql for r in rows)
    assert result["sql"]["won"] == sum(r.won for r in rows if r.is_sql)


def test_auc_and_gains_say_how_well_the_score_orders_wins() -> None:
    rows = _rows(2000, seed=3)

    result = backtest(rows, seed=7)

    expected = roc_auc_score([r.won for r in rows], [r.score for r in rows])
    assert result["auc"] == expected
    assert result["auc_ci"][0] < expected < result["auc_ci"][1]
    assert result["auc"] > 0.6  # the score does carry the signal planted in it
    gains = result["gains"]
    assert gains[0] == {"share_of_accounts": 0.0, "share_of_wins": 0.0}
    assert gains[-1]["share_of_accounts"] == 1.0 and gains[-1]["share_of_wins"] == 1.0
    shares = [g["share_of_wins"] for g in gains]
    assert shares == sorted(shares)
    assert gains[4]["share_of_wins"] > gains[4]["share_of_accounts"]  # better than random
    assert backtest(rows, seed=7)["auc_ci"] == result["auc_ci"]  # reproducible


def test_a_sample_of_only_wins_or_nothing_answers_without_inventing_figures() -> None:
    only_wins = backtest([SampleRow(90, "A", True, True, True)] * 5)
    empty = backtest([])

    assert only_wins["auc"] is None and only_wins["auc_ci"] is None
    assert only_wins["tiers"][3]["win_rate"] is None  # no D accounts: no rate
    assert empty["sample"] == {"accounts": 0, "won": 0, "lost": 0, "base_rate": None}
    assert empty["gains"] == [] and empty["auc"] is None
