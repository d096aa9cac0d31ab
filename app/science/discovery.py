"""ICP discovery (DESIGN §9): which traits tell the accounts that were won from those that were
lost, and a candidate ICP built from the traits that hold up.

1. Traits (:mod:`app.science.traits`): every candidate field's frequent values and list
   members, numeric ranges, presence; never an outcome field.
2. Per trait: accounts, wins, a smoothed win rate, lift over the base rate with an interval,
   Fisher's exact test, and Benjamini–Hochberg q-values across every trait tried.
3. The candidate: exclusions where a trait all but rules out a win; an L1-regularised logistic
   regression on the traits that survive the false-discovery control, so that correlated
   traits are not counted twice; integer weights from its coefficients; tier thresholds that
   put about a quarter of the sample in A+B; MQL at B, SQL at A.
4. Validation: steps 1–3 re-run on each training part of a stratified k-fold split, and on the
   older 70% of the closed deals; each candidate scored by the scoring core (not the
   regression) on the accounts held out.

Pure: plain data in, plain data out. numpy, scipy and scikit-learn are imported where discovery
runs, not with this module, to keep them out of API replicas that never discover.
"""

from __future__ import annotations

import math
import re
import warnings as python_warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import yaml

from app.science.stats import CONFIDENCE, win_rate_with_interval
from app.science.traits import (
    Column,
    Trait,
    absence,
    attribute_names,
    fisher_p,
    fixed_traits,
    min_trait_accounts,
    range_traits,
    read_columns,
)
from app.scoring.definition import (
    ATTRIBUTE_PREFIX,
    CANONICAL_FIELDS,
    PERSONA_PREFIX,
    IcpDefinitionError,
    Persona,
    ordered_definition,
    parse_definition,
)
from app.scoring.engine import CompiledIcp, compile_icp, round_half_up

if TYPE_CHECKING:
    import numpy as np

__all__ = ["MIN_WINS", "OUTCOME_FIELDS", "discover"]

# Fields never offered as traits: they record the outcome (a won deal makes a customer, a
# lifetime value, an NPS) and would "discover" the answer itself, or they identify an account
# rather than describe it.
OUTCOME_FIELDS: Final = frozenset(
    {
        "won_deals",
        "lost_deals",
        "open_deals",
        "won_amount",
        "last_won_at",
        "lifetime_value",
        "is_customer",
        "lifecycle_stage",
        "nps",
        "external_id",
        "name",
        "domain",
        "crm_updated_at",
        "archived",
    }
)
# Below this many wins the answer is descriptive: traits and their figures, nothing proposed.
MIN_WINS: Final = 30
# Ops of the traits that nest inside another trait of the same field (see _nesting_group).
RANGE_AND_PRESENCE_OPS: Final = frozenset(
    {"lt", "lte", "gt", "gte", "between", "exists", "missing"}
)

# A trait holds up when its Benjamini–Hochberg q-value is at most this.
FDR_Q: Final = 0.05
# Win rates are smoothed towards the base rate: the posterior mean under a Beta prior centred
# on the sample's base rate (estimated from the data, hence empirical Bayes) and worth this
# many accounts, so a trait of 25 accounts moves less than one of 2,500.
PRIOR_ACCOUNTS: Final = 20
# An exclusion: a trait whose win rate's Wilson upper bound is below a quarter of the base rate
# (zero or near-zero wins on many accounts). At most a few; they do not count as criteria.
EXCLUSION_RATE_FACTOR: Final = 0.25
MAX_EXCLUSIONS: Final = 3
# The regression sees at most this many surviving traits, the most significant first.
MAX_REGRESSION_TRAITS: Final = 40
# The L1 path: C from the smallest that admits a trait, up by PATH_RATIO per step (finer where
# more than max_criteria traits would enter at once, down to MIN_PATH_RATIO), at most
# PATH_STEPS fits, until the BIC has not improved for PATH_PATIENCE supports.
PATH_RATIO: Final = 10**0.2
MIN_PATH_RATIO: Final = 1.02
PATH_STEPS: Final = 40
PATH_PATIENCE: Final = 3
# The extended BIC's gamma (0.5: Chen & Chen's choice when many traits are offered).
EBIC_GAMMA: Final = 0.5
# liblinear penalises the intercept too; scaled up, the penalty on it is negligible.
INTERCEPT_SCALING: Final = 100.0
# The refit of a support is all but unpenalised (a light L2 keeps separable data finite).
REFIT_C: Final = 100.0
# Points: the positive weights add up to about this, so a score reads as points matched.
POINTS: Final = 100
# Tiers: A+B should hold about a quarter of the sample (MadKudu's 15–35%), A about a tenth,
# A+B+C about half.
TARGET_AB_SHARE: Final = 0.25
AB_SHARE_RANGE: Final = (0.15, 0.35)
TARGET_A_SHARE: Final = 0.10
TARGET_ABC_SHARE: Final = 0.50
# Validation: folds of the cross-validation, and the newest share of dated accounts held out.
CV_FOLDS: Final = 5
HOLDOUT_SHARE: Final = 0.3
MIN_HOLDOUT_OUTCOMES: Final = 10

_SLUG = re.compile(r"[^a-z0-9]+")


def discover(
    accounts: Sequence[Mapping[str, Any]],
    won: Sequence[bool],
    closed_at: Sequence[datetime | None],
    *,
    personas: Sequence[Persona] = (),
    fields: Sequence[str] | None = None,
    max_criteria: int = 8,
    name: str = "Discovered ICP",
    seed: int = 0,
) -> dict[str, Any]:
    """The traits that tell won from lost in the sample, a candidate ICP built from those that
    hold up (None below MIN_WINS wins, or when none does), and its validation."""
    import numpy as np

    if not len(accounts) == len(won) == len(closed_at):
        raise ValueError("accounts, won and closed_at must be the same length")
    rows = [account if isinstance(account, Mapping) else {} for account in accounts]
    outcome = np.array([bool(w) for w in won], dtype=bool)
    total, wins = len(rows), int(outcome.sum())
    sample = {
        "accounts": total,
        "won": wins,
        "lost": total - wins,
        "base_rate": wins / total if total else None,
    }
    personas = _unique_personas(personas)
    candidates, notes = _candidate_fields(rows, fields=fields, personas=personas)
    if total == 0:
        notes.append("The sample is empty: no account closed a deal in the window.")
        return _answer(sample, [], None, _no_validation("no sample"), notes)
    columns = read_columns(rows, candidates=candidates, personas=personas)
    if fields is not None and not columns:
        notes.append("None of the requested fields holds a value in the sample.")
    discovery = _Discovery(
        accounts=rows,
        won=outcome,
        columns=columns,
        fixed=fixed_traits(columns, total),
        personas=personas,
        max_criteria=max(1, max_criteria),
        name=name if isinstance(name, str) and name.strip() else "Discovered ICP",
        seed=seed,
    )
    everyone = np.ones(total, dtype=bool)
    if wins < MIN_WINS or wins == total:
        fit = discovery.fit(everyone, propose=False)
        if wins < MIN_WINS:
            notes.append(
                f"Only {wins} won account{'s' if wins != 1 else ''} in the sample: at least "
                f"{MIN_WINS} are needed to propose an ICP. The traits describe the sample; "
                "none is proposed."
            )
        else:
            notes.append(
                "Every account in the sample was won: with no lost account to compare, nothing "
                "tells won from lost, and no ICP is proposed."
            )
        return _answer(sample, fit.report(), None, _no_validation("no candidate"), notes)
    fit = discovery.fit(everyone, propose=True)
    notes.extend(fit.warnings)
    if fit.definition is None:
        return _answer(sample, fit.report(), None, _no_validation("no candidate"), notes)
    validation = discovery.validate(fit, closed_at)
    if validation["auc_ci"] is not None and validation["auc_ci"][0] <= 0.5:
        notes.append(
            f"The candidate does not hold up out of sample (cross-validated AUC "
            f"{validation['auc']:.2f}, its interval reaching 0.5): treat it as a hypothesis to "
            "test on more closed deals, not an ICP to activate."
        )
    return _answer(sample, fit.report(), fit.definition, validation, notes)


def _answer(
    sample: dict[str, Any],
    traits: list[dict[str, Any]],
    definition: dict[str, Any] | None,
    validation: dict[str, Any],
    notes: list[str],
) -> dict[str, Any]:
    text = (
        yaml.safe_dump(definition, sort_keys=False, allow_unicode=True, width=100)
        if definition is not None
        else None
    )
    return {
        "sample": sample,
        "traits": traits,
        "definition": definition,
        "yaml": text,
        "validation": validation,
        "warnings": notes,
    }


def _no_validation(why: str) -> dict[str, Any]:
    return {"auc": None, "auc_ci": None, "method": f"not validated: {why}"}


def _unique_personas(personas: Sequence[Persona]) -> list[Persona]:
    by_id: dict[str, Persona] = {}
    for persona in personas:
        by_id.setdefault(persona.id, persona)
    return list(by_id.values())


def _candidate_fields(
    accounts: Sequence[Mapping[str, Any]],
    *,
    fields: Sequence[str] | None,
    personas: Sequence[Persona],
) -> tuple[list[str], list[str]]:
    """The fields traits are drawn from, and a note for every requested one refused."""
    canonical = [f for f in CANONICAL_FIELDS if f not in OUTCOME_FIELDS and f != "attributes"]
    persona_fields = [f"{PERSONA_PREFIX}{p.id}" for p in personas]
    if fields is None:
        attributes = [f"{ATTRIBUTE_PREFIX}{a}" for a in attribute_names(accounts)]
        return [*canonical, *attributes, *persona_fields], []
    chosen: list[str] = []
    notes: list[str] = []
    for requested in dict.fromkeys(fields):
        if requested in OUTCOME_FIELDS:
            notes.append(
                f"{requested!r} is never a trait: it records the outcome or names the account."
            )
        elif (
            requested in canonical
            or requested in persona_fields
            or (
                isinstance(requested, str)
                and requested.startswith(ATTRIBUTE_PREFIX)
                and len(requested) > len(ATTRIBUTE_PREFIX)
            )
        ):
            chosen.append(requested)
        elif isinstance(requested, str) and requested.startswith(PERSONA_PREFIX):
            notes.append(f"{requested!r}: no such persona was given; ignored.")
        else:
            notes.append(f"{requested!r} is not a field discovery can use; ignored.")
    return chosen, notes


@dataclass(eq=False)
class _Fit:
    """One run of discovery on some rows of the sample: traits, figures and the candidate."""

    traits: list[Trait]
    accounts: np.ndarray
    won: np.ndarray
    p: np.ndarray
    q: np.ndarray
    sample_accounts: int
    sample_wins: int
    selected: set[int] = field(default_factory=set)
    definition: dict[str, Any] | None = None
    compiled: CompiledIcp | None = None
    ab_share: float | None = None
    warnings: list[str] = field(default_factory=list)

    def report(self) -> list[dict[str, Any]]:
        """Every trait tried with its figures, the most significant first."""
        import numpy as np
        from scipy.stats import beta
        from scipy.stats.contingency import relative_risk

        base = self.sample_wins / self.sample_accounts if self.sample_accounts else 0.0
        if 0 < base < 1:
            # The posterior mean of each trait's win rate under the Beta prior (PRIOR_ACCOUNTS).
            smoothed = beta.mean(
                PRIOR_ACCOUNTS * base + self.won,
                PRIOR_ACCOUNTS * (1 - base) + self.accounts - self.won,
            )
        else:
            smoothed = np.full(len(self.traits), base)
        out = []
        for index, trait in enumerate(self.traits):
            accounts, won = int(self.accounts[index]), int(self.won[index])
            lift = (won / accounts) / base if base else None
            share = accounts / self.sample_accounts
            with np.errstate(divide="ignore", invalid="ignore"):
                interval = relative_risk(
                    won, accounts, self.sample_wins - won, self.sample_accounts - accounts
                ).confidence_interval(CONFIDENCE)
            out.append(
                {
                    "field": trait.field,
                    "op": trait.op,
                    "value": trait.value,
                    "label": _label(trait, lift),
                    "accounts": accounts,
                    "won": won,
                    "win_rate": _finite(smoothed[index]),
                    "lift": _finite(lift),
                    "lift_ci": [
                        _lift_of_risk(interval.low, share),
                        _lift_of_risk(interval.high, share),
                    ]
                    if base
                    else [None, None],
                    "q_value": _finite(self.q[index]),
                    "selected": index in self.selected,
                }
            )
        order = sorted(
            range(len(out)),
            key=lambda i: (out[i]["q_value"], -abs(math.log(out[i]["lift"] or 1) or 0)),
        )
        return [out[i] for i in order]


def _lift_of_risk(risk: float, share: float) -> float | None:
    """Lift over the base rate from the relative risk (trait vs. the rest) of a trait held by
    ``share`` of the sample: the base rate is ``share·r1 + (1 − share)·r0``, so lift =
    RR / (share·RR + 1 − share), increasing in RR; an interval of RR maps to one of lift."""
    if risk is None or math.isnan(risk):
        return None
    if math.isinf(risk):
        return 1 / share
    return float(risk / (share * risk + 1 - share))


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _label(trait: Trait, lift: float | None) -> str:
    return f"{trait.text} (lift {lift:.2g}×)" if lift is not None else trait.text


@dataclass(eq=False)
class _Discovery:
    """Everything a run of discovery shares, whichever rows it fits on."""

    accounts: list[Mapping[str, Any]]
    won: np.ndarray
    columns: list[Column]
    fixed: list[Trait]
    personas: list[Persona]
    max_criteria: int
    name: str
    seed: int

    def fit(self, rows: np.ndarray, *, propose: bool = True) -> _Fit:
        """Traits and their figures on ``rows`` of the sample, and (``propose``) a candidate."""
        import numpy as np
        from scipy.stats import false_discovery_control

        outcome = self.won[rows]
        total, wins = int(rows.sum()), int(outcome.sum())
        min_count = min_trait_accounts(total)
        traits = [*self.fixed, *range_traits(self.columns, rows, self.won, min_count=min_count)]
        members = (
            np.stack([t.members for t in traits])[:, rows]
            if traits
            else np.zeros((0, total), dtype=bool)
        )
        accounts = members.sum(axis=1)
        won = (members & outcome).sum(axis=1)
        keep = (accounts >= min_count) & (accounts <= total - min_count)
        traits = [t for t, kept in zip(traits, keep, strict=True) if kept]
        members, accounts, won = members[keep], accounts[keep], won[keep]
        for index, trait in enumerate(traits):
            # Presence reads the way that raises the odds: "X: unknown" rather than a
            # negative weight on "X: known" (the same accounts apart, the same test).
            if trait.op == "exists" and won[index] * total < wins * accounts[index]:
                traits[index] = absence(trait)
                members[index] = ~members[index]
                accounts[index], won[index] = total - accounts[index], wins - won[index]
        p = fisher_p(
            wins_in=won,
            accounts_in=accounts,
            wins=np.full(len(traits), wins),
            accounts=np.full(len(traits), total),
        )
        q = false_discovery_control(p, method="bh") if len(p) else np.zeros(0)
        fit = _Fit(traits, accounts, won, p, q, total, wins)
        if propose:
            self._propose(fit, members, outcome)
        return fit

    def _propose(self, fit: _Fit, members: np.ndarray, outcome: np.ndarray) -> None:
        """Exclusions, weighted criteria, tiers and qualification, from the traits that hold up."""
        import numpy as np

        base = fit.sample_wins / fit.sample_accounts
        # Most significant first; of equally significant traits (a trait and its complement,
        # "economic buyers ≥ 1" and "≤ 0") the one that raises the odds, which a person reads
        # as the trait, where its complement would be a penalty for lacking it.
        raises = fit.won >= base * fit.accounts
        order = np.lexsort((~raises, fit.p))
        survivors = [int(i) for i in order if fit.q[i] <= FDR_Q]
        if not survivors or base in (0.0, 1.0):
            fit.warnings.append(
                f"No trait tells won from lost after false-discovery control (q ≤ {FDR_Q} "
                f"across {len(fit.traits)} traits tried): no candidate is proposed."
            )
            return
        exclusions = self._exclusions(fit, survivors, members, base)
        excluded = (
            members[exclusions].any(axis=0)
            if exclusions
            else np.zeros(fit.sample_accounts, dtype=bool)
        )
        features = _distinct(
            [i for i in survivors if i not in exclusions],
            members[:, ~excluded],
            limit=MAX_REGRESSION_TRAITS,
        )
        design = members[features][:, ~excluded].T.astype(float)
        chosen, coefficients = _select(
            design,
            outcome[~excluded],
            max_criteria=self.max_criteria,
            seed=self.seed,
            groups=[_nesting_group(fit.traits[i]) for i in features],
        )
        if not any(c > 0 for c in coefficients):
            fit.warnings.append(
                "No trait raises the odds of a win once the others are accounted for: "
                "no candidate is proposed."
            )
            return
        criteria = [
            (features[position], weight)
            for position, weight in zip(chosen, _points(coefficients), strict=True)
        ]
        self._build(fit, criteria, exclusions, members)

    def _exclusions(
        self, fit: _Fit, survivors: list[int], members: np.ndarray, base: float
    ) -> list[int]:
        """Traits that all but rule out a win: their win rate's Wilson upper bound is under
        EXCLUSION_RATE_FACTOR of the base rate. The largest first, none inside another."""
        bar = EXCLUSION_RATE_FACTOR * base
        found: list[int] = []
        for index in sorted(survivors, key=lambda i: -fit.accounts[i]):
            accounts, won = int(fit.accounts[index]), int(fit.won[index])
            if won / accounts >= bar:
                continue
            _, interval = win_rate_with_interval(won, accounts)
            if interval is None or interval[1] >= bar:
                continue
            if any((members[index] & ~members[other]).sum() == 0 for other in found):
                continue  # adds no account another exclusion does not already rule out
            found.append(index)
            if len(found) == MAX_EXCLUSIONS:
                break
        return found

    def _build(
        self,
        fit: _Fit,
        criteria: list[tuple[int, int]],
        exclusions: list[int],
        members: np.ndarray,
    ) -> None:
        """The candidate definition, its tiers set on the scores of the run's accounts."""
        base = fit.sample_wins / fit.sample_accounts
        ids: set[str] = set()
        draft: dict[str, Any] = {
            "name": self.name,
            "description": (
                f"Discovered from {fit.sample_accounts} closed accounts "
                f"({fit.sample_wins} won, base rate {base:.0%}). Weights are points of log-odds; "
                "review before activating."
            ),
        }
        if self.personas:
            draft["personas"] = [p.model_dump(exclude_none=True) for p in self.personas]
        draft["criteria"] = [
            {
                **self._condition(fit.traits[index], ids),
                "label": _label(fit.traits[index], _lift(fit, index, base)),
                "weight": weight,
            }
            for index, weight in sorted(criteria, key=lambda c: -c[1])
        ]
        if exclusions:
            draft["exclusions"] = [
                {
                    **self._condition(fit.traits[index], ids),
                    "label": f"{fit.traits[index].text} "
                    f"({int(fit.won[index])} of {int(fit.accounts[index])} won)",
                }
                for index in exclusions
            ]
        scores = _training_scores(criteria, exclusions, members)
        a, b, c = _thresholds(scores)
        draft["tiers"] = {"A": a, "B": b, "C": c}
        draft["qualification"] = {"mql": {"min_score": b}, "sql": {"min_score": a}}
        definition = ordered_definition(draft)
        compiled = _compiled(definition)
        if compiled is None:
            fit.warnings.append("The candidate could not be made a valid definition.")
            return
        fit.definition, fit.compiled = definition, compiled
        fit.selected = {index for index, _ in criteria} | set(exclusions)
        fit.ab_share = float((scores >= b).mean())
        low, high = AB_SHARE_RANGE
        if not low <= fit.ab_share <= high:
            fit.warnings.append(
                f"A+B hold {fit.ab_share:.0%} of the sample, outside {low:.0%}–{high:.0%}: the "
                "candidate's scores are too coarse to cut nearer a quarter."
            )

    @staticmethod
    def _condition(trait: Trait, ids: set[str]) -> dict[str, Any]:
        slug = _SLUG.sub("_", trait.text.casefold()).strip("_")[:40].strip("_") or "trait"
        unique, suffix = slug, 2
        while unique in ids:
            unique, suffix = f"{slug}_{suffix}", suffix + 1
        ids.add(unique)
        condition = {"id": unique, "field": trait.field, "op": trait.op}
        if trait.value is not None:
            condition["value"] = trait.value
        return condition

    def validate(self, fit: _Fit, closed_at: Sequence[datetime | None]) -> dict[str, Any]:
        """Cross-validated AUC of the candidate, and its holdout figures on the newest deals."""
        cross, method = self._cross_validate()
        split, split_method = self._time_split(closed_at)
        return {
            **cross,
            "method": f"{method} {split_method}",
            "ab_share": fit.ab_share,
            "time_split": split,
        }

    def _score_held_out(self, fit: _Fit, indices: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Scores and A/B membership of some accounts under a run's candidate (0 and False
        when the run proposed none)."""
        import numpy as np

        if fit.compiled is None:
            return np.zeros(len(indices)), np.zeros(len(indices), dtype=bool)
        results = [fit.compiled.score(self.accounts[i]) for i in indices]
        return (
            np.array([r.score for r in results], dtype=float),
            np.array([r.tier in ("A", "B") for r in results], dtype=bool),
        )

    def _cross_validate(self) -> tuple[dict[str, Any], str]:
        import numpy as np
        from scipy.stats import sem
        from scipy.stats import t as student_t
        from sklearn.metrics import roc_auc_score
        from sklearn.model_selection import StratifiedKFold

        total, wins = len(self.accounts), int(self.won.sum())
        folds = min(CV_FOLDS, wins, total - wins)
        if folds < 2:
            return {"auc": None, "auc_ci": None, "fold_aucs": []}, (
                "No cross-validation: too few lost accounts to hold some out."
            )
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.seed)
        aucs = []
        empty = 0
        for train, test in splitter.split(np.zeros((total, 1)), self.won):
            rows = np.zeros(total, dtype=bool)
            rows[train] = True
            fold_fit = self.fit(rows)
            empty += fold_fit.compiled is None
            scores, _ = self._score_held_out(fold_fit, test)
            aucs.append(float(roc_auc_score(self.won[test], scores)))
        mean = float(np.mean(aucs))
        spread = float(sem(aucs))
        if spread > 0:
            low, high = student_t.interval(CONFIDENCE, len(aucs) - 1, loc=mean, scale=spread)
            interval = [max(0.0, float(low)), min(1.0, float(high))]
        else:
            interval = [mean, mean]
        method = (
            f"AUC by {folds}-fold stratified cross-validation (seed {self.seed}): discovery "
            "re-run on each training part, its candidate scored by the scoring core on the part "
            f"held out; auc is the mean of the {folds} fold AUCs, auc_ci their "
            f"{CONFIDENCE:.0%} t-interval."
        )
        if empty:
            method += (
                f" In {empty} fold{'s' if empty > 1 else ''} discovery proposed no candidate; "
                "its held-out accounts all scored 0 (AUC 0.5)."
            )
        return {"auc": mean, "auc_ci": interval, "fold_aucs": aucs}, method

    def _time_split(
        self, closed_at: Sequence[datetime | None]
    ) -> tuple[dict[str, Any] | None, str]:
        import numpy as np
        from sklearn.metrics import roc_auc_score

        dated = sorted(
            (_timestamp(moment), index)
            for index, moment in enumerate(closed_at)
            if isinstance(moment, datetime)
        )
        cut = round(len(dated) * (1 - HOLDOUT_SHARE))
        older = [index for _, index in dated[:cut]]
        newer = [index for _, index in dated[cut:]]
        newer_wins = int(self.won[newer].sum()) if newer else 0
        if (
            int(self.won[older].sum()) < MIN_WINS
            or newer_wins < MIN_HOLDOUT_OUTCOMES
            or len(newer) - newer_wins < MIN_HOLDOUT_OUTCOMES
        ):
            return None, (
                "No time split: too few dated deals to discover on the older 70% "
                f"({MIN_WINS} wins) and check on the newer 30% ({MIN_HOLDOUT_OUTCOMES} wins "
                "and losses)."
            )
        rows = np.zeros(len(self.accounts), dtype=bool)
        rows[older] = True
        older_fit = self.fit(rows)
        if older_fit.compiled is None:
            return None, "No time split: discovery on the older 70% proposed no candidate."
        scores, top = self._score_held_out(older_fit, newer)
        outcome = self.won[newer]
        captured = int((top & outcome).sum())
        capture, capture_ci = win_rate_with_interval(captured, newer_wins)
        split_at = closed_at[newer[0]]
        assert split_at is not None
        figures = {
            "split_at": split_at.isoformat(),
            "fit_accounts": len(older),
            "accounts": len(newer),
            "won": newer_wins,
            "auc": float(roc_auc_score(outcome, scores)),
            "ab_share": float(top.mean()),
            "capture": capture,
            "capture_ci": capture_ci,
        }
        method = (
            f"Time split: discovery re-run on the older {1 - HOLDOUT_SHARE:.0%} of dated "
            f"accounts (closed before {figures['split_at']}), its candidate scored on the newer "
            f"{HOLDOUT_SHARE:.0%}: time_split gives that holdout's AUC, the share of it in A+B "
            "and the share of its wins A+B captured (Wilson interval)."
        )
        return figures, method


def _timestamp(moment: datetime) -> float:
    """Seconds since the epoch; a naive date is taken as UTC."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _lift(fit: _Fit, index: int, base: float) -> float | None:
    accounts, won = int(fit.accounts[index]), int(fit.won[index])
    return (won / accounts) / base if base and accounts else None


def _compiled(definition: Mapping[str, Any]) -> CompiledIcp | None:
    try:
        return compile_icp(parse_definition(definition))
    except IcpDefinitionError:
        return None


def _distinct(candidates: list[int], members: np.ndarray, *, limit: int) -> list[int]:
    """The first ``limit`` of ``candidates`` that match neither the same accounts as one kept
    before nor exactly the others: the regression could not tell such traits apart."""
    import numpy as np

    seen: set[bytes] = set()
    kept = []
    for index in candidates:
        packed = np.packbits(members[index]).tobytes()
        if packed in seen:
            continue
        seen.add(packed)
        seen.add(np.packbits(~members[index]).tobytes())
        kept.append(index)
        if len(kept) == limit:
            break
    return kept


def _nesting_group(trait: Trait) -> str | None:
    """The field of a trait that may nest inside another of the same field (ranges of a
    number, and a field's presence), None for values and list members, which sit side by
    side (industry Software and industry Media are two traits a person reads as such)."""
    return trait.field if trait.op in RANGE_AND_PRESENCE_OPS else None


def _one_per_group(
    columns: list[int], *, strength: dict[int, float], groups: Sequence[str | None]
) -> tuple[int, ...]:
    """``columns`` with, of those sharing a group, only the strongest: two readings of one
    field that nest (employees 47–502 and 59–502) read as one trait counted twice."""
    kept: dict[object, int] = {}
    for column in sorted(columns, key=lambda c: -strength[c]):
        kept.setdefault(groups[column] if groups[column] is not None else ("own", column), column)
    return tuple(sorted(kept.values()))


def _select(
    design: np.ndarray,
    outcome: np.ndarray,
    *,
    max_criteria: int,
    seed: int,
    groups: Sequence[str | None],
) -> tuple[list[int], list[float]]:
    """The columns of ``design`` (0/1 traits) to keep, and their log-odds coefficients;
    no support keeps two columns of one ``groups`` entry.

    Walks the L1 regularisation path of a logistic regression (columns standardised, so that
    rare and common traits are penalised alike) from the first trait to enter until more than
    ``max_criteria`` have; refits each support met without the L1 shrinkage (a relaxed lasso)
    and keeps the one with the lowest extended BIC (Chen & Chen 2008: BIC plus a charge for
    choosing k of the p traits offered), which, unlike a cross-validated optimum, does not let
    weak noise in on a large sample. Rows with the same traits and outcome are fitted once,
    weighted by their count: the same fit, several times faster."""
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.svm import l1_min_c

    accounts, offered = design.shape
    spread = design.std(axis=0) if accounts else np.zeros(offered)
    usable = np.flatnonzero(spread > 0)
    if not len(usable) or outcome.all() or not outcome.any():
        return [], []
    standard = (design[:, usable] - design[:, usable].mean(axis=0)) / spread[usable]
    # Where the first trait enters: on centred columns, with the intercept (all but
    # unpenalised) left out of the bound, which it would otherwise set far below.
    smallest_c = l1_min_c(standard, outcome, loss="log", fit_intercept=False)
    # One key per row: its traits and outcome as packed bits, sorted once.
    packed = np.packbits(np.column_stack([design > 0, outcome]), axis=1)
    keys = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, counts = np.unique(keys, return_index=True, return_counts=True)
    design, standard, outcome = design[first], standard[first], outcome[first]

    def criterion(support: tuple[int, ...], loss: float) -> float:
        return (
            2 * loss
            + (len(support) + 1) * math.log(accounts)
            + 2 * EBIC_GAMMA * math.log(math.comb(len(usable), len(support)))
        )

    null_loss = log_loss(
        outcome,
        np.full(len(outcome), np.average(outcome, weights=counts)),
        sample_weight=counts,
        normalize=False,
    )
    best_score = criterion((), null_loss)
    best: tuple[list[int], list[float]] = ([], [])
    tried: set[tuple[int, ...]] = set()
    stale = 0
    with python_warnings.catch_warnings():
        python_warnings.simplefilter("ignore", ConvergenceWarning)
        c, ratio, refinements = smallest_c, PATH_RATIO, 0
        for _ in range(PATH_STEPS):
            model = LogisticRegression(
                C=c * ratio,
                solver="liblinear",
                intercept_scaling=INTERCEPT_SCALING,
                random_state=seed,
                l1_ratio=1.0,  # pure L1 (scikit-learn ≥ 1.8 spells it so)
            )
            model.fit(standard, outcome, sample_weight=counts)
            support = _one_per_group(
                [int(usable[i]) for i in np.flatnonzero(model.coef_[0])],
                strength={int(usable[i]): abs(w) for i, w in enumerate(model.coef_[0])},
                groups=groups,
            )
            if len(support) > max_criteria:
                # Too many at once (strong traits enter close together): step back and walk
                # on in smaller steps, so that smaller supports are met; stop once fine, or
                # soon when a support is already in hand.
                if ratio < MIN_PATH_RATIO or (best[0] and refinements == 2):
                    break
                ratio, refinements = math.sqrt(ratio), refinements + 1
                continue
            c *= ratio
            if not support or support in tried:
                continue
            tried.add(support)
            refit = LogisticRegression(C=REFIT_C, solver="newton-cholesky", max_iter=200)
            refit.fit(design[:, support], outcome, sample_weight=counts)
            loss = log_loss(
                outcome,
                refit.predict_proba(design[:, support])[:, 1],
                sample_weight=counts,
                normalize=False,
            )
            score = criterion(support, loss)
            if score < best_score:
                best_score, best, stale = score, (list(support), refit.coef_[0].tolist()), 0
            else:
                stale += 1
                if stale >= PATH_PATIENCE:
                    break
    return best


def _points(coefficients: list[float]) -> list[int]:
    """Integer weights proportional to the log-odds coefficients, the positive ones adding up
    to about POINTS; none rounds to zero (a kept trait keeps at least a point), and none is
    more negative than all the positive points together (which already score 0)."""
    unit = sum(c for c in coefficients if c > 0) / POINTS
    weights = [round(c / unit) or (1 if c > 0 else -1) for c in coefficients]
    floor = -sum(w for w in weights if w > 0)
    return [max(w, floor) for w in weights]


def _training_scores(
    criteria: list[tuple[int, int]], exclusions: list[int], members: np.ndarray
) -> np.ndarray:
    """The candidate's score of each account of a run, from the traits it matched: the scoring
    core's formula (DESIGN §3.3, ``round_half_up`` its own) on the counts it would see, since a
    trait's members are the accounts its condition matches. Held-out accounts are scored by
    the scoring core itself; this only saves scoring every training account once more."""
    import numpy as np

    indices = [index for index, _ in criteria]
    weights = np.array([weight for _, weight in criteria], dtype=np.int64)
    positive = int(weights[weights > 0].sum())
    matched = weights @ members[indices].astype(np.int64)
    scores = np.clip(round_half_up(100 * matched, positive), 0, 100)  # type: ignore[arg-type]
    if exclusions:
        scores[members[exclusions].any(axis=0)] = 0
    return np.asarray(scores)


def _thresholds(scores: np.ndarray) -> tuple[int, int, int]:
    """Tier thresholds A > B > C among the scores the sample holds: B where A+B come nearest a
    quarter of the sample, A nearest a tenth, C where A+B+C come nearest half."""

    def share(threshold: int) -> float:
        return float((scores >= threshold).mean())

    def nearest(options: list[int], target: float) -> int:
        return min(options, key=lambda t: (abs(share(t) - target), -t))

    held = sorted({int(s) for s in scores})
    b = nearest([t for t in held if 1 <= t <= 99] or [max(1, min(99, held[-1]))], TARGET_AB_SHARE)
    a = nearest([t for t in held if t > b] or [b + 1], TARGET_A_SHARE)
    c = nearest([t for t in held if 1 <= t < b] or [b - 1], TARGET_ABC_SHARE)
    return a, b, c
