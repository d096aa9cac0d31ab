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
# Bootstrap resamples for the AUC's interval.
AUC_RESAMPLES: Final = 200


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
    None when the sample has only wins or only losses.

    The sample is held as its distinct (score, won) cells and their counts: drawing n rows
    with replacement is drawing the cells' counts from a multinomial, and sklearn's AUC with
    the counts as weights is the AUC of those rows. ICP scores take few distinct values, so
    every resample is the whole sample's size at the cost of a few hundred cells."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    if won.all() or not won.any():
        return None, None
    cells, counts = np.unique(np.column_stack([scores, won]), axis=0, return_counts=True)
    cell_scores, cell_won = cells[:, 0], cells[:, 1].astype(bool)
    auc = float(roc_auc_score(cell_won, cell_scores, sample_weight=counts))
    rng = np.random.default_rng(seed)
    estimates = []
    for drawn in rng.multinomial(len(won), counts / counts.sum(), size=AUC_RESAMPLES):
        present = drawn > 0
        if cell_won[present].all() or not cell_won[present].any():
            continue
        estimates.append(
            roc_auc_score(cell_won[present], cell_scores[present], sample_weight=drawn[present])
        )
    alpha = (1 - CONFIDENCE) / 2
    low, high = np.quantile(estimates, [alpha, 1 - alpha])
    return auc, [float(low), float(high)]
