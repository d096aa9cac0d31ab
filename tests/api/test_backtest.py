"""Backtesting an ICP version over stored accounts and deals: equal to a direct count."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg

from app.core.db import libpq_conninfo
from connectors.base import DealRecord

YAML = {"Content-Type": "application/yaml"}


async def _seed(database, example_icp_yaml) -> tuple[str, str]:
    """The example ICP active; 300 demo accounts; deals closed over 2025–2026, won more often
    by the accounts the example ICP likes (the demo data's own signal)."""
    from app.accounts.service import store_outcomes, upsert_and_score
    from app.connections.schemas import ConnectionCreate
    from app.connections.service import create_connection, mark_outcomes_read
    from app.icps.service import activate_icp, apply_icp
    from connectors.sandbox.common.demo_accounts import canonical_account
    from connectors.sandbox.common.demo_data import generate_companies

    async with database.transaction() as session:
        version, _ = await apply_icp(
            session, source=example_icp_yaml, content_type="application/yaml"
        )
        await activate_icp(session, icp_id=version.id)
        connection = await create_connection(
            session,
            body=ConnectionCreate(
                kind="hubspot",
                name="crm",
                credentials={"access_token": "t"},
                base_url="http://127.0.0.1:1",
            ),
        )
        companies = list(
            generate_companies(5, 300, deals_per_company=2, today=datetime(2026, 11, 1).date())
        )
        await upsert_and_score(
            session,
            connection_id=connection.id,
            accounts=[
                {"external_id": str(n), "data": canonical_account(c)}
                for n, c in enumerate(companies)
            ],
        )
        deals = [
            DealRecord(
                external_id=f"{n}-{k}",
                account_external_ids=[str(n)],
                is_closed=deal["outcome"] != "open",
                is_won=deal["outcome"] == "won",
                amount=deal["amount"],
                closed_at=datetime.combine(deal["close_date"], datetime.min.time(), UTC)
                if deal["outcome"] != "open"
                else None,
            )
            for n, company in enumerate(companies)
            for k, deal in enumerate(company["deals"])
        ]
        await store_outcomes(session, connection_id=connection.id, deals=deals)
        await mark_outcomes_read(session, connection_id=connection.id, deals=True, contacts=True)
    return str(version.id), str(connection.id)


def _direct_count(database_url, *, after=None, min_amount=None) -> dict[str, tuple[int, int]]:
    """Per tier of the stored verdicts: (accounts, won) among accounts with a closed deal."""
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        rows = connection.execute(
            """
            SELECT s.tier, count(*), count(*) FILTER (WHERE won) FROM (
                SELECT a.id, bool_or(d.is_won AND (%(min)s::float8 IS NULL
                                                   OR d.amount >= %(min)s::float8)) AS won
                FROM accounts a
                JOIN deal_accounts da ON da.account_external_id = a.external_id
                JOIN deals d ON d.id = da.deal_id AND d.is_closed
                WHERE %(after)s::timestamptz IS NULL OR d.closed_at >= %(after)s::timestamptz
                GROUP BY a.id
            ) sample JOIN account_scores s ON s.account_id = sample.id GROUP BY s.tier
            """,
            {"after": after, "min": min_amount},
        ).fetchall()
    return {tier: (accounts, won) for tier, accounts, won in rows}


async def test_a_backtest_of_the_active_version_equals_a_direct_count(
    app_client, read_headers, database, database_url, example_icp_yaml
):
    icp_id, _ = await _seed(database, example_icp_yaml)

    response = await app_client.post(f"/api/v1/icps/{icp_id}/backtest", headers=read_headers)

    assert response.status_code == 200
    body = response.json()
    counted = _direct_count(database_url)
    for tier in body["tiers"]:
        assert (tier["accounts"], tier["won"]) == counted.get(tier["tier"], (0, 0))
    assert body["sample"]["accounts"] == sum(a for a, _ in counted.values())
    tiers = {t["tier"]: t for t in body["tiers"]}
    assert tiers["A"]["win_rate"] > tiers["D"]["win_rate"]  # the planted signal shows
    assert body["auc"] > 0.55


async def test_a_window_min_amount_and_connections_narrow_the_sample(
    app_client, read_headers, database, database_url, example_icp_yaml
):
    icp_id, connection_id = await _seed(database, example_icp_yaml)
    after = "2026-01-01T00:00:00Z"

    def backtest(body):
        return app_client.post(f"/api/v1/icps/{icp_id}/backtest", json=body, headers=read_headers)

    recent = (await backtest({"closed_after": after})).json()
    big = (await backtest({"success": {"min_amount": 5000}})).json()
    other = (await backtest({"connection_ids": [str(uuid.uuid4())]})).json()
    mine = (await backtest({"connection_ids": [connection_id]})).json()

    by_tier = {t["tier"]: (t["accounts"], t["won"]) for t in recent["tiers"]}
    assert by_tier == {
        t: _direct_count(database_url, after=datetime(2026, 1, 1, tzinfo=UTC)).get(t, (0, 0))
        for t in "ABCD"
    }
    assert big["sample"]["won"] == sum(
        w for _, w in _direct_count(database_url, min_amount=5000).values()
    )
    assert other["sample"]["accounts"] == 0 and other["auc"] is None
    assert mine["sample"] == (await backtest({})).json()["sample"]


async def test_bad_backtest_requests_are_4xx(app_client, read_headers, database, example_icp_yaml):
    icp_id, _ = await _seed(database, example_icp_yaml)
    url = f"/api/v1/icps/{icp_id}/backtest"

    missing = await app_client.post(f"/api/v1/icps/{uuid.uuid4()}/backtest", headers=read_headers)
    reversed_window = await app_client.post(
        url,
        json={"closed_after": "2026-02-01T00:00:00Z", "closed_before": "2026-01-01T00:00:00Z"},
        headers=read_headers,
    )
    negative = await app_client.post(
        url, json={"success": {"min_amount": -1}}, headers=read_headers
    )
    unknown = await app_client.post(url, json={"since": "yesterday"}, headers=read_headers)
    anonymous = await app_client.post(url)

    assert missing.status_code == 404
    assert [r.status_code for r in (reversed_window, negative, unknown)] == [422, 422, 422]
    assert anonymous.status_code == 401


async def test_a_backtest_reads_persona_and_deal_roll_ups_as_the_stored_verdicts_do(
    app_client, read_headers, write_headers, database, database_url, example_icp_yaml
):
    """An ICP scoring on personas and deal roll-ups: the backtest's one-pass read (roll-ups
    in SQL, persona counts per batch) tiers each account as the activation's rescore did."""
    import yaml

    from app.accounts.pipeline import rescore_active_version
    from app.accounts.service import store_outcomes
    from app.connections.service import mark_outcomes_read
    from app.icps.service import get_active_icp
    from connectors.base import ContactRecord

    _, connection_id = await _seed(database, example_icp_yaml)
    titles = ["VP Marketing", "Head of SEO", "Software Engineer", "CEO"]
    async with database.transaction() as session:
        await store_outcomes(
            session,
            connection_id=uuid.UUID(connection_id),
            contacts=[
                ContactRecord(f"c{n}", [str(n % 300)], title=titles[n % len(titles)])
                for n in range(0, 600, 3)
            ],
        )
        await mark_outcomes_read(
            session, connection_id=uuid.UUID(connection_id), deals=True, contacts=True
        )
    icp = yaml.safe_load(example_icp_yaml)
    icp["name"] = "People and deals"
    icp["criteria"] += [
        {"id": "buyer", "field": "personas.economic_buyer", "op": "gte", "value": 1, "weight": 30},
        {"id": "champion", "field": "personas.seo_champion", "op": "gte", "value": 1, "weight": 20},
        {"id": "repeat", "field": "lost_deals", "op": "gte", "value": 1, "weight": 10},
    ]
    saved = await app_client.post("/api/v1/icps", json=icp, headers=write_headers)
    await app_client.post(f"/api/v1/icps/{saved.json()['id']}/activate", headers=write_headers)
    async with database.transaction() as session:
        version = await get_active_icp(session)
    await rescore_active_version(database, version)

    body = (
        await app_client.post(f"/api/v1/icps/{saved.json()['id']}/backtest", headers=read_headers)
    ).json()

    counted = _direct_count(database_url)
    assert {t["tier"]: (t["accounts"], t["won"]) for t in body["tiers"]} == {
        tier: counted.get(tier, (0, 0)) for tier in "ABCD"
    }
    assert len(counted) >= 3  # the personas and roll-ups spread the accounts over tiers
