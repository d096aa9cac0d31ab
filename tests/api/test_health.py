"""ICP health over stored accounts: drift against the baseline, age, fill rates, tier
inversions on recent deals; every figure checked against a direct count."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from app.core.db import libpq_conninfo
from connectors.base import DealRecord

YAML = {"Content-Type": "application/yaml"}
HEALTH = "/api/v1/icps/active/health"
INDUSTRIES = ("online media", "publishing", "media production", "retail", "software", "banking")
COUNTRIES = ("US", "US", "US", "GB", "DE", "CA")
STAGES = ("seed", "series_a", "series_b", "series_c", "growth")
STACK = ("wordpress", "contentful", "sitecore", "hubspot", "shopify", "custom cms", "drupal")


def company(rng: random.Random, n: int) -> dict[str, Any]:
    """A demo-like company: the example ICP's fields, drawn from fixed distributions."""
    return {
        "name": f"Company {n}",
        "industry": rng.choice(INDUSTRIES),
        "country": rng.choice(COUNTRIES),
        "funding_stage": rng.choice(STAGES),
        "total_funding": round(rng.lognormvariate(15, 1.2)),
        "employees": rng.randint(2, 2000),
        "tech_stack": rng.sample(STACK, rng.randint(1, 3)),
        "attributes": {"has_inhouse_seo": rng.random() < 0.4},
    }


def population(n: int, *, seed: int, prefix: str = "acc") -> list[dict[str, Any]]:
    """``n`` accounts drawn with ``seed``, as rows for ``upsert_and_score``."""
    rng = random.Random(seed)
    return [{"external_id": f"{prefix}-{i}", "data": company(rng, i)} for i in range(n)]


async def activate_example(database, example_icp_yaml) -> Any:
    """The example ICP saved and active."""
    from app.icps.service import activate_icp, apply_icp

    async with database.transaction() as session:
        version, _ = await apply_icp(
            session, source=example_icp_yaml, content_type="application/yaml"
        )
        await activate_icp(session, icp_id=version.id)
    return version


async def crm_connection(database) -> Any:
    """A HubSpot connection the accounts belong to (never called)."""
    from app.connections.schemas import ConnectionCreate
    from app.connections.service import create_connection

    async with database.transaction() as session:
        return await create_connection(
            session,
            body=ConnectionCreate(
                kind="hubspot",
                name="crm",
                credentials={"access_token": "t"},
                base_url="http://127.0.0.1:1",
            ),
        )


async def store(database, connection_id, rows: list[dict[str, Any]]) -> None:
    """Upsert accounts and score them with the active ICP, as a sync does."""
    from app.accounts.service import upsert_and_score

    async with database.transaction() as session:
        await upsert_and_score(session, connection_id=connection_id, accounts=rows)


def _fetch(database_url, query: str, *args: Any) -> list[tuple]:
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        return connection.execute(query, args).fetchall()


def _execute(database_url, query: str, *args: Any) -> None:
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        connection.execute(query, args)


def tier_counts(database_url) -> dict[str, int]:
    """Live accounts per tier of their stored verdict, counted directly."""
    rows = _fetch(
        database_url,
        "SELECT s.tier, count(*) FROM account_scores s JOIN accounts a ON a.id = s.account_id "
        "WHERE NOT a.archived GROUP BY 1",
    )
    return dict(rows)


def psi_by_hand(then: dict[str, int], now: dict[str, int]) -> float:
    """Σ (now − then) × ln(now / then) over the tiers' shares, an empty tier as 0.0001."""
    then_shares = [max(then.get(t, 0) / sum(then.values()), 1e-4) for t in "ABCD"]
    now_shares = [max(now.get(t, 0) / sum(now.values()), 1e-4) for t in "ABCD"]
    return sum((a - e) * math.log(a / e) for e, a in zip(then_shares, now_shares, strict=True))


def set_activated_days_ago(database_url, days: int) -> None:
    """Move the active version's activation back in time (no sleeping)."""
    _execute(
        database_url,
        "UPDATE icp_versions SET activated_at = now() - make_interval(days => %s) "
        "WHERE status = 'active'",
        days,
    )


def kinds(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(alert["kind"], alert.get("field")) for alert in body["alerts"]]


@pytest.fixture
async def seeded(database, example_icp_yaml):
    """The example ICP active, its CRM connection, and 1,000 accounts scored."""
    version = await activate_example(database, example_icp_yaml)
    connection = await crm_connection(database)
    rows = population(1000, seed=1)
    await store(database, connection.id, rows)
    return version, connection, rows


async def test_health_without_an_active_icp_is_a_404_that_says_what_to_do(
    app_client, read_headers, database
):
    response = await app_client.get(HEALTH, headers=read_headers)

    assert response.status_code == 404
    assert response.json()["error"] == "NotFound"
    assert "no ICP is active" in response.json()["detail"][0]["message"]
    assert (await app_client.get(HEALTH)).status_code == 401


async def test_a_population_that_moved_industry_and_country_raises_psi_alerts(
    app_client, read_headers, database, database_url, seeded
):
    _, connection, rows = seeded
    first = (await app_client.get(HEALTH, headers=read_headers)).json()
    baseline_tiers = tier_counts(database_url)
    # Half the accounts moved: now retail companies in Germany.
    rng = random.Random(5)
    moved = [
        {**row, "data": {**row["data"], "industry": "retail", "country": "DE"}}
        for row in rows
        if rng.random() < 0.5
    ]
    await store(database, connection.id, moved)

    response = await app_client.get(HEALTH, headers=read_headers)

    assert response.status_code == 200
    body = response.json()
    assert first["baseline_at"] is not None and body["baseline_at"] == first["baseline_at"]
    assert first["alerts"] == [] and first["psi"]["fields"]["industry"] == pytest.approx(0.0)
    assert body["psi"]["fields"]["industry"] >= 0.25
    assert body["psi"]["fields"]["country"] >= 0.25
    assert body["psi"]["fields"]["employees"] < 0.1  # untouched fields stay put
    assert ("field_drift", "industry") in kinds(body)
    assert ("field_drift", "country") in kinds(body)
    # The tier PSI by hand, from direct counts of the stored verdicts then and now.
    by_hand = psi_by_hand(baseline_tiers, tier_counts(database_url))
    assert body["psi"]["tiers"] == pytest.approx(by_hand, rel=1e-9)
    assert by_hand > 0.1  # leaving the US and media costs 45 points: tiers moved
    assert body["accounts"] == 1000


async def test_a_population_drawn_again_from_the_same_distributions_raises_no_alert(
    app_client, read_headers, database, database_url, seeded
):
    _, connection, rows = seeded
    first = (await app_client.get(HEALTH, headers=read_headers)).json()
    baseline_tiers = tier_counts(database_url)
    # Every account replaced by another drawn from the same distributions, in another order.
    others = population(1000, seed=2, prefix="other")
    random.Random(3).shuffle(others)
    await store(database, connection.id, others)
    await store(database, connection.id, [{**row, "archived": True} for row in rows])

    body = (await app_client.get(HEALTH, headers=read_headers)).json()

    assert body["accounts"] == 1000
    assert body["baseline_at"] == first["baseline_at"]
    assert body["alerts"] == []
    # The archived accounts (and their verdicts) are out of the count.
    assert body["psi"]["tiers"] == pytest.approx(
        psi_by_hand(baseline_tiers, tier_counts(database_url)), rel=1e-9
    )
    assert body["psi"]["tiers"] < 0.1
    assert all(value < 0.1 for value in body["psi"]["fields"].values()), body["psi"]
    # Every criterion's field, in criteria order.
    assert list(body["psi"]["fields"]) == [
        "country",
        "industry",
        "funding_stage",
        "total_funding",
        "attributes.has_inhouse_seo",
        "tech_stack",
        "employees",
    ]
    assert body["watch"] == []


@pytest.mark.parametrize(
    ("days", "status", "alerts"),
    [(0, "ok", []), (90, "review_soon", [("age", None)]), (180, "stale", [("age", None)])],
)
async def test_the_status_is_review_soon_at_90_days_and_stale_at_180(
    app_client, read_headers, database_url, seeded, days, status, alerts
):
    await app_client.get(HEALTH, headers=read_headers)  # the baseline, at activation's age
    set_activated_days_ago(database_url, days)

    body = (await app_client.get(HEALTH, headers=read_headers)).json()

    assert (body["age_days"], body["status"]) == (days, status)
    assert kinds(body) == alerts


async def test_a_field_known_on_far_fewer_accounts_raises_a_fill_rate_alert(
    app_client, read_headers, database, seeded
):
    _, connection, rows = seeded
    await app_client.get(HEALTH, headers=read_headers)
    rng = random.Random(8)
    # A category and a number no longer filled in (absent keys, as a CRM export leaves them).
    emptied = [
        {
            **row,
            "data": {
                k: v for k, v in row["data"].items() if k not in ("funding_stage", "total_funding")
            },
        }
        for row in rows
        if rng.random() < 0.3
    ]
    await store(database, connection.id, emptied)

    body = (await app_client.get(HEALTH, headers=read_headers)).json()

    fill = body["fill_rates"]["funding_stage"]
    assert fill["baseline"] == 1.0
    assert fill["current"] == pytest.approx(1 - len(emptied) / 1000)
    assert ("fill_drop", "funding_stage") in kinds(body)
    assert body["fill_rates"]["total_funding"]["current"] == pytest.approx(fill["current"])
    assert ("fill_drop", "total_funding") in kinds(body)
    # The values still known are distributed as before: a fill drop, not a drift.
    assert ("field_drift", "funding_stage") not in kinds(body)
    assert body["fill_rates"]["industry"] == {"baseline": 1.0, "current": 1.0}


A_LIKE = {
    "industry": "online media",
    "country": "US",
    "funding_stage": "series_b",
    "total_funding": 9_000_000,
    "employees": 120,
    "tech_stack": ["contentful"],
    "attributes": {"has_inhouse_seo": True},
}
D_LIKE = {"industry": "retail", "country": "DE", "funding_stage": "seed", "employees": 5}


async def _deals(database, connection_id, outcomes: list[tuple[str, bool, datetime]]) -> None:
    """One closed deal per (account external id, won, closed at); deals marked read."""
    from app.accounts.service import store_outcomes
    from app.connections.service import mark_outcomes_read

    deals = [
        DealRecord(
            external_id=f"deal-{n}",
            account_external_ids=[external_id],
            is_closed=True,
            is_won=won,
            amount=1000.0,
            closed_at=closed_at,
        )
        for n, (external_id, won, closed_at) in enumerate(outcomes)
    ]
    async with database.transaction() as session:
        await store_outcomes(session, connection_id=connection_id, deals=deals)
        await mark_outcomes_read(session, connection_id=connection_id, deals=True, contacts=True)


async def _tiered_accounts(database, example_icp_yaml) -> Any:
    """40 A-tier and 40 D-tier accounts of the example ICP."""
    await activate_example(database, example_icp_yaml)
    connection = await crm_connection(database)
    rows = [{"external_id": f"a-{i}", "data": {**A_LIKE, "name": f"A {i}"}} for i in range(40)]
    rows += [{"external_id": f"d-{i}", "data": {**D_LIKE, "name": f"D {i}"}} for i in range(40)]
    await store(database, connection.id, rows)
    return connection


async def test_recent_deals_won_by_d_and_lost_by_a_raise_a_tier_inversion(
    app_client, read_headers, database, database_url, example_icp_yaml
):
    connection = await _tiered_accounts(database, example_icp_yaml)
    assert tier_counts(database_url) == {"A": 40, "D": 40}
    recent = datetime.now(UTC) - timedelta(days=30)
    await _deals(
        database,
        connection.id,
        [(f"a-{i}", i < 5, recent) for i in range(40)]
        + [(f"d-{i}", i < 30, recent) for i in range(40)],
    )

    body = (await app_client.get(HEALTH, headers=read_headers)).json()

    [alert] = [a for a in body["alerts"] if a["kind"] == "tier_inversion"]
    assert "tier D won 75% of 40 accounts" in alert["detail"]
    assert "tier A 12% of 40" in alert["detail"]


async def test_tiers_winning_in_order_recently_raise_no_inversion_whatever_happened_before(
    app_client, read_headers, database, example_icp_yaml
):
    connection = await _tiered_accounts(database, example_icp_yaml)
    now = datetime.now(UTC)
    # Inverted long ago (outside the 180 days), in order since.
    await _deals(
        database,
        connection.id,
        [(f"a-{i}", False, now - timedelta(days=300)) for i in range(40)]
        + [(f"d-{i}", True, now - timedelta(days=300)) for i in range(40)]
        + [(f"a-{i}", i < 25, now - timedelta(days=20)) for i in range(40)]
        + [(f"d-{i}", i < 4, now - timedelta(days=20)) for i in range(40)],
    )

    body = (await app_client.get(HEALTH, headers=read_headers)).json()

    assert [a for a in body["alerts"] if a["kind"] == "tier_inversion"] == []


async def test_the_baseline_is_taken_once_the_activation_rescore_has_finished(
    app_client, read_headers, write_headers, database, database_url, example_icp_yaml
):
    from app.jobs.runtime import run_worker

    connection = await crm_connection(database)
    await store(database, connection.id, population(500, seed=4))  # no ICP yet: unscored
    created = await app_client.post(
        "/api/v1/icps", content=example_icp_yaml, headers=write_headers | YAML
    )
    activated = await app_client.post(
        f"/api/v1/icps/{created.json()['id']}/activate", headers=write_headers
    )
    assert activated.status_code == 200

    before = (await app_client.get(HEALTH, headers=read_headers)).json()
    await run_worker(concurrency=1, wait=False)  # the rescore, then the baseline it queues

    assert before["baseline_at"] is None and before["psi"]["tiers"] is None
    [(taken_at, accounts, tiers)] = _fetch(
        database_url, "SELECT taken_at, accounts, tiers FROM icp_baselines"
    )
    assert accounts == 500
    assert {t: n for t, n in tiers.items() if n} == tier_counts(database_url)
    assert taken_at >= datetime.fromisoformat(activated.json()["activated_at"])
    jobs = _fetch(
        database_url,
        "SELECT task_name, status::text FROM procrastinate_jobs "
        "WHERE task_name IN ('accounts.rescore_all', 'health.snapshot_baseline') ORDER BY id",
    )
    assert jobs == [
        ("accounts.rescore_all", "succeeded"),
        ("health.snapshot_baseline", "succeeded"),
    ]
    after = (await app_client.get(HEALTH, headers=read_headers)).json()
    assert datetime.fromisoformat(after["baseline_at"]) == taken_at
    assert after["psi"]["tiers"] == pytest.approx(0.0)
