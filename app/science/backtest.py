"""Backtest statistics (DESIGN §9): how an ICP's tiers and flags sorted accounts that closed.

Pure: plain rows in, plain figures out; the numbers come from scipy and scikit-learn (Wilson
intervals, AUC), never hand-written formulas. Every figure can be recounted by hand from the
rows: accounts and wins per tier are counts, win rates their ratio, shares of the totals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from app.science.stats import auc_with_interval, win_rate_with_interval

if TYPE_CHECKING:
    import numpy as np

# numpy, scipy and scikit-learn are imported where a backtest runs, not with this module: they
# weigh about 100 MB of memory, which every API replica and worker would otherwise carry
# whether or not it ever backtests.

__all__ = ["SampleRow", "backtest", "tier_table"]

TIERS: Final = ("A", "B", "C", "D")
GAINS_POINTS: Final = 20


@dataclass(frozen=True, slots=True)
class SampleRow:
    """One account of the sample: what the ICP said of it, and whether it was won."""

    score: int
    tier: str
    is_mql: bool
    is_sql: bool
    won: bool


def _gains(scores: np.ndarray, won: np.ndarray) -> list[dict[str, float]]:
    """The cumulative share of wins captured by the best-scored share of accounts (accounts
    ordered by score, ties kept together in the order given)."""
    import numpy as np

    order = np.argsort(-scores, kind="stable")
    captured = np.cumsum(won[order])
    total_wins = max(int(won.sum()), 1)
    points = [{"share_of_accounts": 0.0, "share_of_wins": 0.0}]
    for step in range(1, GAINS_POINTS + 1):
        count = round(len(scores) * step / GAINS_POINTS)
        if count == 0:
            continue
        points.append(
            {
                "share_of_accounts": count / len(scores),
                "share_of_wins": float(captured[count - 1]) / total_wins,
            }
        )
    return points


def _flag_row(accounts: int, won: int) -> dict[str, Any]:
    rate, interval = win_rate_with_interval(won, accounts)
    return {"accounts": accounts, "won": won, "win_rate": rate, "win_rate_ci": interval}


def tier_table(rows: Sequence[SampleRow]) -> list[dict[str, Any]]:
    """Per tier (A–D, all four): accounts, won, lost, win rate with its Wilson interval,
    share of accounts, share of wins, lift over the sample's base rate."""
    total = len(rows)
    by_tier = Counter((row.tier, row.won) for row in rows)
    wins = sum(n for (_, won), n in by_tier.items() if won)
    base_rate = wins / total if total else None
    tiers = []
    for tier in TIERS:
        won, lost = by_tier[tier, True], by_tier[tier, False]
        accounts = won + lost
        rate, interval = win_rate_with_interval(won, accounts)
        tiers.append(
            {
                "tier": tier,
                "accounts": accounts,
                "won": won,
                "lost": lost,
                "win_rate": rate,
                "win_rate_ci": interval,
                "share_of_accounts": accounts / total if total else 0.0,
                "share_of_wins": won / wins if wins else 0.0,
                "lift": rate / base_rate if rate is not None and base_rate else None,
            }
        )
    return tiers


def backtest(rows: Sequence[SampleRow], *, seed: int = 0) -> dict[str, Any]:
    """Per tier (A–D, all four, ``tier_table``); AUC with interval; the gains curve; MQL and
    SQL rows. ``seed`` makes the AUC's bootstrap interval reproducible."""
    import numpy as np

    total = len(rows)
    scores = np.fromiter((row.score for row in rows), dtype=float, count=total)
    won_array = np.fromiter((row.won for row in rows), dtype=bool, count=total)
    wins = int(won_array.sum())
    auc, auc_ci = auc_with_interval(scores, won_array, seed=seed) if total else (None, None)
    by_flags = Counter((row.is_mql, row.is_sql, row.won) for row in rows)
    flagged = {
        flag: (
            sum(n for key, n in by_flags.items() if key[position]),
            sum(n for key, n in by_flags.items() if key[position] and key[2]),
        )
        for position, flag in enumerate(("mql", "sql"))
    }
    return {
        "sample": {
            "accounts": total,
            "won": wins,
            "lost": total - wins,
            "base_rate": wins / total if total else None,
        },
        "tiers": tier_table(rows),
        "auc": auc,
        "auc_ci": auc_ci,
        "gains": _gains(scores, won_array) if total else [],
        "mql": _flag_row(*flagged["mql"]),
        "sql": _flag_row(*flagged["sql"]),
    }
