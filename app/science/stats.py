"""Figures shared by backtest and discovery (DESIGN §9), each from scipy or scikit-learn.

numpy, scipy and scikit-learn are imported inside the functions, not with this module: they
weigh about 100 MB of memory, which every API replica and worker would otherwise carry
whether or not it ever runs the science.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import numpy as np

__all__ = ["CONFIDENCE", "auc_with_interval", "win_rate_with_interval"]

CONFIDENCE: Final = 0.95
# Bootstrap resamples for the AUC's interval, and the largest sample they resample (beyond it
# the interval is already narrow, and the cost grows linearly).
AUC_RESAMPLES: Final = 200
AUC_BOOTSTRAP_CAP: Final = 50_000


def win_rate_with_interval(won: int, accounts: int) -> tuple[float | None, list[float] | None]:
    """Win rate with its Wilson interval; None for an empty group."""
    from scipy.stats import binomtest

    if accounts == 0:
        return None, None
    interval = binomtest(won, accounts).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    return won / accounts, [float(interval.low), float(interval.high)]


def auc_with_interval(
    scores: np.ndarray, won: np.ndarray, *, seed: int
) -> tuple[float | None, list[float] | None]:
    """AUC of the score for telling won from lost, with a percentile bootstrap interval;
    None when the sample has only wins or only losses."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    if won.all() or not won.any():
        return None, None
    auc = float(roc_auc_score(won, scores))
    rng = np.random.default_rng(seed)
    n = min(len(won), AUC_BOOTSTRAP_CAP)
    estimates = []
    for _ in range(AUC_RESAMPLES):
        picked = rng.integers(0, len(won), n)
        if won[picked].all() or not won[picked].any():
            continue
        estimates.append(roc_auc_score(won[picked], scores[picked]))
    alpha = (1 - CONFIDENCE) / 2
    low, high = np.quantile(estimates, [alpha, 1 - alpha])
    return auc, [float(low), float(high)]
