"""ICP health rules: the active version's age, its population's drift against the baseline
taken once its activation rescore finished, fill rates, tier inversions on recent deals; the
daily check that announces each alert once, and the gauges /metrics exports."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.metrics import (
    ICP_AGE_DAYS,
    ICP_FIELD_PSI,
    ICP_HEALTH_ALERTS,
    ICP_HEALTH_CHECKED,
    ICP_HEALTH_STATUS,
    ICP_TIER_PSI,
)
from app.health.repository import Distributions, HealthRepository
from app.health.schemas import HealthOut
from app.icps.repository import IcpRepository
from app.icps.service import compiled_icp, get_active_icp
from app.insights.schemas import Window
from app.insights.service import stored_sample_rows
from app.jobs import JobRequest, defer
from app.models import IcpBaseline, IcpVersion
from app.science.backtest import tier_table
from app.science.drift import (
    ALERT_KINDS,
    INVERSION_DAYS,
    PSI_ALERT,
    PSI_WATCH,
    QUANTILES,
    STATUSES,
    TIERS,
    Alert,
    FieldCounts,
    FieldSpec,
    age_status,
    assess,
    categories,
    field_counts,
    field_psi,
    fill_rate,
    monitored_fields,
    numeric_spec,
    psi,
    ready_for_baseline,
)
from app.subscriptions.repository import record_event

HEALTH_ALERT_EVENT = "icp.health_alert"


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


def age_days(version: IcpVersion, *, now: datetime) -> int:
    """Whole days since the version was (last) activated."""
    since = version.activated_at or version.created_at
    return max(0, (now - since).days)


def _baseline_is_current(baseline: IcpBaseline | None, version: IcpVersion) -> bool:
    """A baseline counts for the version's current activation only (activating it again
    later starts over, as its age does)."""
    since = version.activated_at or version.created_at
    return baseline is not None and baseline.taken_at >= since


def _specs_of(baseline: IcpBaseline, fields: Sequence[tuple[str, str]]) -> list[FieldSpec]:
    """The baseline's bins, in criteria order (JSONB keeps keys in an order of its own)."""
    return [
        FieldSpec(field, baseline.fields[field]["kind"], tuple(baseline.fields[field]["bins"]))
        for field, _ in fields
        if field in baseline.fields
    ]


def _counts_of(stored: dict[str, Any]) -> FieldCounts:
    return FieldCounts(stored["total"], stored["known"], tuple(stored["counts"]))


@dataclass(frozen=True, slots=True)
class _Population:
    """The live accounts now: how many, how many lack a verdict of the version, the tier
    distribution of those that have one, and each field's counts in its bins."""

    live: int
    unscored: int
    tiers: dict[str, int]
    fields: dict[str, FieldCounts]


def _population(specs: Sequence[FieldSpec], counted: Distributions) -> _Population:
    """The counts in each field's bins."""
    return _Population(
        live=counted.live,
        unscored=counted.tiers.get(None, 0),
        tiers={tier: counted.tiers.get(tier, 0) for tier in TIERS},
        fields={
            spec.field: field_counts(
                spec,
                counted.fields[spec.field],
                live=counted.live,
                members=counted.members.get(spec.field),
            )
            for spec in specs
        },
    )


async def _count(
    repository: HealthRepository, version: IcpVersion, specs: Sequence[FieldSpec]
) -> Distributions:
    """The live accounts counted per tier and per value of each field (numbers in their
    bins, lists by member)."""
    return await repository.distributions(
        icp_version_id=version.id, fields=[(spec.field, spec.kind, spec.bins) for spec in specs]
    )


@dataclass(frozen=True, slots=True)
class _Observed:
    """The baseline that stands (None until one can be taken), the bins, and today."""

    baseline: IcpBaseline | None
    specs: list[FieldSpec]
    population: _Population


async def _observe(session: AsyncSession, version: IcpVersion, *, now: datetime) -> _Observed:
    """Today's population in the baseline's bins; when the version has no baseline for its
    activation yet and its rescore has finished, today's population becomes the baseline,
    in bins chosen from it (frequent values and members, deciles)."""
    repository = HealthRepository(session)
    fields = monitored_fields(compiled_icp(version).definition)
    baseline = await repository.baseline(version.id)
    if baseline is not None and _baseline_is_current(baseline, version):
        specs = _specs_of(baseline, fields)
        return _Observed(
            baseline, specs, _population(specs, await _count(repository, version, specs))
        )
    # Deciles first: numbers are counted by bin in the one pass that also counts the values
    # the other fields' bins are chosen from.
    quantiles = await repository.quantiles(
        [field for field, kind in fields if kind == "numeric"], QUANTILES
    )
    draft = [
        numeric_spec(field, quantiles[field]) if kind == "numeric" else FieldSpec(field, kind)
        for field, kind in fields
    ]
    counted = await _count(repository, version, draft)
    specs = [
        FieldSpec(spec.field, spec.kind, categories(counted.fields[spec.field]))
        if spec.kind == "categorical"
        else FieldSpec(spec.field, spec.kind, categories(counted.members[spec.field]))
        if spec.kind == "list"
        else spec
        for spec in draft
    ]
    population = _population(specs, counted)
    if not ready_for_baseline(live=population.live, unscored=population.unscored):
        return _Observed(None, specs, population)
    baseline = await repository.save_baseline(
        IcpBaseline(
            icp_version_id=version.id,
            taken_at=now,
            accounts=population.live,
            tiers=population.tiers,
            fields={
                spec.field: spec.as_json() | population.fields[spec.field].as_json()
                for spec in specs
            },
        )
    )
    return _Observed(baseline, specs, population)


async def take_baseline(session: AsyncSession, *, now: datetime | None = None) -> bool:
    """Snapshot the active version's population as its baseline, unless it already has one
    for this activation or its rescore has not finished; whether it has one now."""
    version = await IcpRepository(session).get_active()
    if version is None:
        return False
    if _baseline_is_current(await HealthRepository(session).baseline(version.id), version):
        return True
    observed = await _observe(session, version, now=now or utc_now())
    return observed.baseline is not None


async def _evaluate(
    session: AsyncSession, version: IcpVersion, *, now: datetime
) -> tuple[dict[str, Any], list[Alert]]:
    """The version's health now (the ``HealthOut`` shape, JSON-ready) and its alerts."""
    observed = await _observe(session, version, now=now)
    baseline, population = observed.baseline, observed.population
    tier_psi: float | None = None
    field_psis: dict[str, float | None] = {spec.field: None for spec in observed.specs}
    fills: dict[str, tuple[float | None, float | None]] = {
        spec.field: (None, fill_rate(population.fields[spec.field])) for spec in observed.specs
    }
    if baseline is not None:
        tier_psi = psi(
            [baseline.tiers.get(t, 0) for t in TIERS], [population.tiers[t] for t in TIERS]
        )
        for spec in observed.specs:
            then = _counts_of(baseline.fields[spec.field])
            now_counts = population.fields[spec.field]
            field_psis[spec.field] = field_psi(spec, then, now_counts)
            fills[spec.field] = (fill_rate(then), fill_rate(now_counts))
    # Tier inversions: the backtest's own sample and per-tier table over recent deals, with
    # the stored verdicts (the active version's scores of the stored data).
    window = Window(closed_after=now - timedelta(days=INVERSION_DAYS))
    rows = await stored_sample_rows(session, window=window)
    tiers = await asyncio.to_thread(tier_table, rows)
    days = age_days(version, now=now)
    alerts = assess(
        age_days=days, tier_psi=tier_psi, field_psis=field_psis, fill_rates=fills, tiers=tiers
    )
    named = {"tiers": tier_psi, **field_psis}
    report = HealthOut.model_validate(
        {
            "icp_id": version.id,
            "icp_version": version.label,
            "activated_at": version.activated_at,
            "age_days": days,
            "status": age_status(days),
            "baseline_at": baseline.taken_at if baseline is not None else None,
            "accounts": population.live,
            "psi": {"tiers": tier_psi, "fields": field_psis},
            "watch": [
                name
                for name, value in named.items()
                if value is not None and PSI_WATCH <= value < PSI_ALERT
            ],
            "fill_rates": {
                field: {"baseline": then, "current": current}
                for field, (then, current) in fills.items()
            },
            "alerts": [alert.as_dict() for alert in alerts],
            "evaluated_at": now,
        }
    )
    return report.model_dump(mode="json"), alerts


async def icp_health(session: AsyncSession, *, now: datetime | None = None) -> dict[str, Any]:
    """The active version's health now (NotFound when none is active). Takes the version's
    baseline first if it has none yet and its rescore has finished; announces nothing (the
    daily check does)."""
    version = await get_active_icp(session)
    report, _ = await _evaluate(session, version, now=now or utc_now())
    return report


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """What a daily check found: the version, its alerts, and those announced for the first
    time."""

    icp_version: str
    alerts: int
    announced: int


async def check_icp_health(
    session: AsyncSession, *, now: datetime | None = None
) -> HealthCheck | None:
    """The daily check: evaluate the active version, announce every alert that was not
    standing at its previous check as an ``icp.health_alert`` event (an alert that cleared
    and came back is announced again), and keep the result for /metrics. None when no ICP
    is active."""
    now = now or utc_now()
    version = await IcpRepository(session).get_active()
    if version is None:
        return None
    report, alerts = await _evaluate(session, version, now=now)
    repository = HealthRepository(session)
    previous = await repository.latest_check(version.id, for_update=True)
    standing = set(previous.alert_keys) if previous is not None else set()
    jobs: list[JobRequest] = []
    announced = 0
    for alert in alerts:
        if alert.key in standing:
            continue
        announced += 1
        reaction = await record_event(
            session, event_type=HEALTH_ALERT_EVENT, payload=_alert_payload(report, alert)
        )
        jobs += reaction.jobs
    await repository.save_check(
        icp_version_id=version.id,
        checked_at=now,
        report=report,
        alert_keys=[alert.key for alert in alerts],
    )
    if jobs:  # one delivery pass sends them all
        await defer(session, jobs[0])
    return HealthCheck(version.label, alerts=len(alerts), announced=announced)


def _alert_payload(report: dict[str, Any], alert: Alert) -> dict[str, Any]:
    """What a subscriber receives: the alert, and the health figures it came with."""
    return {
        "icp_id": report["icp_id"],
        "icp_version": report["icp_version"],
        "alert": alert.as_dict(),
        "status": report["status"],
        "age_days": report["age_days"],
        "baseline_at": report["baseline_at"],
        "psi": report["psi"],
        "occurred_at": report["evaluated_at"],
    }


async def refresh_health_gauges(session: AsyncSession, *, now: datetime | None = None) -> None:
    """Set the ICP health gauges: age and status of the active version from its activation,
    drift and alerts from its latest daily check (NaN where there is nothing to say)."""
    standing = await standing_health(session, now=now)
    ICP_FIELD_PSI.clear()  # forget fields of a version no longer active
    if standing is None:
        ICP_AGE_DAYS.set(math.nan)
        for status in STATUSES:
            ICP_HEALTH_STATUS.labels(status).set(0)
        for kind in ALERT_KINDS:
            ICP_HEALTH_ALERTS.labels(kind).set(0)
        ICP_TIER_PSI.set(math.nan)
        ICP_HEALTH_CHECKED.set(math.nan)
        return
    ICP_AGE_DAYS.set(standing.age_days)
    for status in STATUSES:
        ICP_HEALTH_STATUS.labels(status).set(1 if status == standing.age_status else 0)
    report = standing.report or {}
    kinds = [alert["kind"] for alert in report.get("alerts", [])]
    for kind in ALERT_KINDS:
        ICP_HEALTH_ALERTS.labels(kind).set(kinds.count(kind))
    psis = report.get("psi", {})
    ICP_TIER_PSI.set(_gauge(psis.get("tiers")))
    for field, value in psis.get("fields", {}).items():
        ICP_FIELD_PSI.labels(field).set(_gauge(value))
    checked = standing.checked_at
    ICP_HEALTH_CHECKED.set(checked.timestamp() if checked is not None else math.nan)


def _gauge(value: float | None) -> float:
    return math.nan if value is None else value


@dataclass(frozen=True, slots=True)
class StandingHealth:
    """The active version's age now and what its latest daily check found (None before its
    first check): read, not recomputed, so a page can show it over a million accounts."""

    version: IcpVersion
    age_days: int
    age_status: str
    checked_at: datetime | None
    report: dict[str, Any] | None


async def standing_health(
    session: AsyncSession, *, now: datetime | None = None
) -> StandingHealth | None:
    """The active version's standing health, or None when no version is active."""
    version = await IcpRepository(session).get_active()
    if version is None:
        return None
    days = age_days(version, now=now or utc_now())
    check = await HealthRepository(session).latest_check(version.id)
    return StandingHealth(
        version,
        days,
        age_status(days),
        check.checked_at if check is not None else None,
        check.report if check is not None else None,
    )
