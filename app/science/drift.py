"""ICP health statistics (DESIGN §9, keep fresh): age, population drift, fill rates, tier
inversions.

Pure: plain counts in, plain figures out; the numbers come from scipy (the relative entropy
whose symmetric sum is the population stability index), never hand-written formulas. The
counting itself happens in the database (``app.health.repository``): this module says how
each field is binned, and what the counts mean.

How a field is binned, from the criterion that reads it:
- ``categorical`` (text, countries, booleans, attributes compared by value): by value, as the
  scoring core compares it (trimmed, case-folded, ``_``/``-`` as spaces); values rarer than
  ``MIN_CATEGORY_SHARE`` at the baseline are pooled into one "other" bin;
- ``numeric`` (numbers, attributes compared by gt/gte/lt/lte/between): by the baseline's
  deciles, so each bin held about a tenth of the known values then;
- ``list`` (lists, attributes read by contains_any/contains_all): by member, rare members
  pooled as for categories;
- ``presence`` (exists/missing and text_contains criteria — free text has no values worth a
  bin —, dates, a numeric field with no known value at the baseline): known versus unknown.
Drift is measured over the known values (what the verdicts rest on); the share of accounts
with a value is tracked on its own, as the fill rate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from app.scoring.definition import (
    CONTACT_ROLLUP_FIELDS,
    DEAL_ROLLUP_FIELDS,
    LIST_OPS,
    NUMERIC_KINDS,
    NUMERIC_OPS,
    PERSONA_PREFIX,
    PRESENCE_OPS,
    IcpDefinition,
    field_kind,
)

# numpy and scipy are imported where a figure is computed, not with this module (see
# app/science/backtest.py: they weigh about 100 MB that every process would otherwise carry).

__all__ = [
    "Alert",
    "FieldCounts",
    "FieldSpec",
    "age_status",
    "assess",
    "categories",
    "field_counts",
    "field_psi",
    "fill_rate",
    "monitored_fields",
    "numeric_spec",
    "psi",
    "ready_for_baseline",
    "tier_inversions",
]

TIERS: Final = ("A", "B", "C", "D")
# The guides' "revisit it every 3–6 months".
REVIEW_SOON_DAYS: Final = 90
STALE_DAYS: Final = 180
# The population stability index's customary reading: < 0.1 stable, 0.1–0.25 worth watching,
# ≥ 0.25 a population that has moved.
PSI_WATCH: Final = 0.1
PSI_ALERT: Final = 0.25
# A bin empty on one side counts as this share (the index is infinite otherwise).
PSI_FLOOR: Final = 1e-4
# Below this many known values on either side, sampling noise alone reaches the watch level
# ((bins − 1) × (1/n + 1/m) on average): no index is given.
MIN_SAMPLE: Final = 100
# A fill rate falling by this much (10 percentage points) is an alert.
FILL_DROP: Final = 0.10
# Tier inversions are counted over deals closed in the last this many days.
INVERSION_DAYS: Final = 180
QUANTILES: Final = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
MIN_CATEGORY_SHARE: Final = 0.02
MAX_CATEGORIES: Final = 20
# A baseline is taken once at most this share of live accounts lacks a verdict of the active
# version (otherwise its rescore has not finished, and the tiers would mix two versions).
UNSCORED_TOLERANCE: Final = 0.01

KINDS: Final = ("categorical", "numeric", "list", "presence")
ALERT_KINDS: Final = ("age", "tier_drift", "field_drift", "fill_drop", "tier_inversion")
STATUSES: Final = ("ok", "review_soon", "stale")


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """How one field is binned. ``bins``: categories or members (bin 0 pools the rest, bin
    i is ``bins[i - 1]``), numeric edges (bin i holds ``bins[i - 1] <= x < bins[i]``, as
    PostgreSQL's ``width_bucket`` counts), or nothing (presence)."""

    field: str
    kind: str
    bins: tuple[Any, ...] = ()

    @property
    def size(self) -> int:
        """How many bins a distribution of this field has."""
        return 0 if self.kind == "presence" else len(self.bins) + 1

    def as_json(self) -> dict[str, Any]:
        """``{kind, bins}``, as a baseline stores it."""
        return {"kind": self.kind, "bins": list(self.bins)}


@dataclass(frozen=True, slots=True)
class FieldCounts:
    """One field over the live accounts: how many there are, how many have a value, and the
    distribution of those values over the field's bins (list fields: of their members)."""

    total: int
    known: int
    counts: tuple[int, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """``{total, known, counts}``, as a baseline stores it."""
        return {"total": self.total, "known": self.known, "counts": list(self.counts)}


@dataclass(frozen=True, slots=True)
class Alert:
    """Something about the active ICP that deserves a person's attention. ``key`` names the
    condition (same key, same alert: it is announced once while it lasts)."""

    kind: str
    detail: str
    key: str
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """``{kind, detail, field}``."""
        return {"kind": self.kind, "detail": self.detail, "field": self.field}


def age_status(age_days: int) -> str:
    """``ok`` under 90 days, ``review_soon`` from 90, ``stale`` from 180."""
    if age_days >= STALE_DAYS:
        return "stale"
    if age_days >= REVIEW_SOON_DAYS:
        return "review_soon"
    return "ok"


def _is_rollup(field: str) -> bool:
    return (
        field in DEAL_ROLLUP_FIELDS
        or field in CONTACT_ROLLUP_FIELDS
        or field.startswith(PERSONA_PREFIX)
    )


def monitored_fields(definition: IcpDefinition) -> list[tuple[str, str]]:
    """(field, kind) for each field the criteria read, in criteria order, binned as the first
    criterion reading it compares it. Roll-ups of deals and contacts are left out: they grow
    as deals close and people are added, which is the business going on, not drift."""
    chosen: dict[str, str] = {}
    for criterion in definition.criteria:
        field = criterion.field
        if field in chosen or _is_rollup(field):
            continue
        kind = field_kind(field)
        if (
            criterion.op in PRESENCE_OPS
            or criterion.op == "text_contains"
            or kind
            in (
                "datetime",
                "dict",
            )
        ):
            chosen[field] = "presence"
        elif criterion.op in NUMERIC_OPS or kind in NUMERIC_KINDS:
            chosen[field] = "numeric"
        elif criterion.op in LIST_OPS or kind == "list":
            chosen[field] = "list"
        else:
            chosen[field] = "categorical"
    return list(chosen.items())


def categories(counts: Mapping[Any, int]) -> tuple[str, ...]:
    """The values (or list members) that get a bin of their own, from their counts (None:
    unknown, not a value): at least ``MIN_CATEGORY_SHARE`` of all, the ``MAX_CATEGORIES``
    most frequent, most frequent first (ties by value); the rest pool into "other"."""
    known = [(value, n) for value, n in counts.items() if value is not None]
    total = sum(n for _, n in known)
    if total <= 0:
        return ()
    kept = sorted(
        ((value, n) for value, n in known if n / total >= MIN_CATEGORY_SHARE),
        key=lambda pair: (-pair[1], pair[0]),
    )
    return tuple(value for value, _ in kept[:MAX_CATEGORIES])


def numeric_spec(field: str, quantiles: Sequence[float | None] | None) -> FieldSpec:
    """A numeric field binned by the baseline's quantiles (ties collapse into one edge); a
    field with no known value at the baseline can only be watched for presence."""
    edges = tuple(sorted({float(q) for q in quantiles or () if q is not None}))
    if not edges:
        return FieldSpec(field, "presence")
    return FieldSpec(field, "numeric", edges)


def field_counts(
    spec: FieldSpec,
    values: Mapping[Any, int],
    *,
    live: int,
    members: Mapping[str, int] | None = None,
) -> FieldCounts:
    """A field's counts in its bins, from how many live accounts hold each value (None:
    unknown; categorical values normalised, numbers by bin, ``UNBINNED``-style negatives
    known but not binnable) and, for a list, how often each member occurs."""
    known = sum(n for value, n in values.items() if value is not None)
    if spec.kind in ("categorical", "list"):
        occurrences = (members or {}) if spec.kind == "list" else values
        kept = set(spec.bins)
        other = sum(
            n for value, n in occurrences.items() if value is not None and value not in kept
        )
        counts = (other, *(occurrences.get(value, 0) for value in spec.bins))
    elif spec.kind == "numeric":
        counts = tuple(values.get(index, 0) for index in range(spec.size))
    else:
        counts = ()
    return FieldCounts(total=live, known=known, counts=counts)


def ready_for_baseline(*, live: int, unscored: int) -> bool:
    """Whether the active version's verdicts cover the live accounts well enough for a
    baseline (its rescore has finished)."""
    return live > 0 and unscored <= UNSCORED_TOLERANCE * live


def psi(expected: Sequence[int], actual: Sequence[int]) -> float | None:
    """Population stability index of ``actual`` against ``expected`` (counts per bin, same
    bins): Σ (a − e) × ln(a / e) over the bins' shares, which is the relative entropy taken
    both ways; an empty bin counts as ``PSI_FLOOR``. None when either side has fewer than
    ``MIN_SAMPLE`` values."""
    import numpy as np
    from scipy.special import rel_entr

    if len(expected) != len(actual):
        raise ValueError("expected and actual must count the same bins")
    e_total, a_total = sum(expected), sum(actual)
    if e_total < MIN_SAMPLE or a_total < MIN_SAMPLE:
        return None
    e = np.maximum(np.asarray(expected, dtype=float) / e_total, PSI_FLOOR)
    a = np.maximum(np.asarray(actual, dtype=float) / a_total, PSI_FLOOR)
    return float(np.sum(rel_entr(a, e) + rel_entr(e, a)))


def fill_rate(counts: FieldCounts) -> float | None:
    """The share of live accounts with a value; None with no live account."""
    return counts.known / counts.total if counts.total else None


def field_psi(spec: FieldSpec, baseline: FieldCounts, current: FieldCounts) -> float | None:
    """The field's drift since the baseline: over its bins of known values, or (presence
    fields) over known versus unknown."""
    if spec.kind == "presence":
        return psi(
            (baseline.known, baseline.total - baseline.known),
            (current.known, current.total - current.known),
        )
    return psi(baseline.counts, current.counts)


def tier_inversions(tiers: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(higher, lower) tier pairs where the lower tier won more often than the higher one
    beyond chance: the lower tier's Wilson interval lies wholly above the higher one's.
    ``tiers``: rows of ``app.science.backtest.tier_table``, best tier first."""
    inverted = []
    for index, higher in enumerate(tiers):
        for lower in tiers[index + 1 :]:
            high_ci, low_ci = higher["win_rate_ci"], lower["win_rate_ci"]
            if high_ci is None or low_ci is None:
                continue
            if lower["win_rate"] > higher["win_rate"] and low_ci[0] > high_ci[1]:
                inverted.append((higher["tier"], lower["tier"]))
    return inverted


def _percent(share: float) -> str:
    return f"{100 * share:.0f}%"


def assess(
    *,
    age_days: int,
    tier_psi: float | None,
    field_psis: Mapping[str, float | None],
    fill_rates: Mapping[str, tuple[float | None, float | None]],
    tiers: Sequence[Mapping[str, Any]],
) -> list[Alert]:
    """Every alert the figures call for, in a stable order: age, tier drift, field drift,
    fill-rate drops, tier inversions. ``fill_rates``: field → (baseline, current);
    ``tiers``: the tier rows of the recent closed deals (``tier_table``)."""
    alerts: list[Alert] = []
    status = age_status(age_days)
    if status != "ok":
        due = "is past the 6 months" if status == "stale" else "is past the 3 months"
        alerts.append(
            Alert(
                "age",
                f"the active ICP has not changed in {age_days} days and {due} the guides give "
                "it: review it against what closed since",
                key=f"age:{status}",
            )
        )
    if tier_psi is not None and tier_psi >= PSI_ALERT:
        alerts.append(
            Alert(
                "tier_drift",
                f"the tier distribution moved since the baseline (PSI {tier_psi:.2f} ≥ "
                f"{PSI_ALERT})",
                key="tier_drift",
            )
        )
    for field, value in field_psis.items():
        if value is not None and value >= PSI_ALERT:
            alerts.append(
                Alert(
                    "field_drift",
                    f"{field}: its values moved since the baseline (PSI {value:.2f} ≥ {PSI_ALERT})",
                    key=f"field_drift:{field}",
                    field=field,
                )
            )
    for field, (then, now) in fill_rates.items():
        if then is not None and now is not None and then - now >= FILL_DROP - 1e-9:
            alerts.append(
                Alert(
                    "fill_drop",
                    f"{field}: known for {_percent(now)} of accounts, down from "
                    f"{_percent(then)} at the baseline",
                    key=f"fill_drop:{field}",
                    field=field,
                )
            )
    by_tier = {row["tier"]: row for row in tiers}
    for higher, lower in tier_inversions(tiers):
        high, low = by_tier[higher], by_tier[lower]
        alerts.append(
            Alert(
                "tier_inversion",
                f"over deals closed in the last {INVERSION_DAYS} days tier {lower} won "
                f"{_percent(low['win_rate'])} of {low['accounts']} accounts (95% interval "
                f"{_percent(low['win_rate_ci'][0])}–{_percent(low['win_rate_ci'][1])}), "
                f"tier {higher} {_percent(high['win_rate'])} of {high['accounts']} "
                f"({_percent(high['win_rate_ci'][0])}–{_percent(high['win_rate_ci'][1])})",
                key=f"tier_inversion:{higher}<{lower}",
            )
        )
    return alerts
