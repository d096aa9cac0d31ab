"""Previewing an activation: every figure equal to what the activation then does."""

from __future__ import annotations

from collections import Counter

import psycopg
import yaml

from app.core.db import libpq_conninfo
from tests.api.test_backtest import _seed

YAML = {"Content-Type": "application/yaml"}


def _verdicts(database_url) -> dict[int, tuple]:
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        rows = connection.execute(
            "SELECT account_id, score, tier, is_mql, is_sql FROM account_scores"
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def _outbox(database_url) -> dict[str, int]:
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        rows = connection.execute(
            "SELECT connection_id::text, count(*) FROM writeback_outbox GROUP BY 1"
        ).fetchall()
    return dict(rows)


async def test_a_preview_says_exactly_what_the_activation_then_does(
    app_client, read_headers, write_headers, database, database_url, example_icp_yaml
):
    from prometheus_client import REGISTRY

    from app.accounts.pipeline import rescore_active_version
    from app.icps.service import get_active_icp

    await _seed(database, example_icp_yaml)
    changed = yaml.safe_load(example_icp_yaml)
    changed["name"] = "Media only"
    changed["criteria"] = [c for c in changed["criteria"] if c["id"] != "us_based"]
    changed["tiers"] = {"A": 70, "B": 50, "C": 30}
    candidate = (
        await app_client.post(
            "/api/v1/icps", content=yaml.safe_dump(changed), headers=write_headers | YAML
        )
    ).json()
    before = _verdicts(database_url)
    crm_calls = sum(
        s.value
        for m in REGISTRY.collect()
        if m.name == "icp_sync_crm_calls"
        for s in m.samples
        if s.name.endswith("_total")
    )

    preview = (
        await app_client.post(f"/api/v1/icps/{candidate['id']}/preview", headers=read_headers)
    ).json()

    assert _verdicts(database_url) == before  # stores nothing
    assert crm_calls == sum(
        s.value
        for m in REGISTRY.collect()
        if m.name == "icp_sync_crm_calls"
        for s in m.samples
        if s.name.endswith("_total")
    )  # calls no CRM
    await app_client.post(f"/api/v1/icps/{candidate['id']}/activate", headers=write_headers)
    async with database.transaction() as session:
        version = await get_active_icp(session)
    await rescore_active_version(database, version)
    after = _verdicts(database_url)

    moves = Counter((before[i][1], after[i][1]) for i in after)
    for tier_before, row in preview["transitions"].items():
        for tier_after, n in row.items():
            assert moves[(tier_before, tier_after)] == n, (tier_before, tier_after)
    assert preview["accounts"] == len(after) == sum(moves.values())
    assert preview["mql"] == {
        "gained": sum(1 for i in after if after[i][2] and not before[i][2]),
        "lost": sum(1 for i in after if before[i][2] and not after[i][2]),
    }
    # Each account's verdict differs from what its CRM last confirmed: its outbox row is the
    # write the activation makes (queued, then flushed by the write-back job).
    assert preview["writes_needed"] == _outbox(database_url)
    assert preview["against"]["name"] == "US new media, post-Series A"
    movers = preview["top_movers"]
    assert movers and all(m["score_after"] == after[m["account_id"]][0] for m in movers)
    deltas = [abs(m["score_after"] - (m["score_before"] or 0)) for m in movers]
    assert deltas == sorted(deltas, reverse=True)
    assert set(preview["backtests"]) == {"candidate", "active"}


async def test_a_preview_of_an_unknown_version_is_a_404(app_client, read_headers):
    response = await app_client.post(
        "/api/v1/icps/00000000-0000-0000-0000-000000000000/preview", headers=read_headers
    )

    assert response.status_code == 404


async def test_a_preview_s_backtests_equal_each_version_s_own_backtest(
    app_client, read_headers, write_headers, database, example_icp_yaml, monkeypatch
):
    active_id, _ = await _seed(database, example_icp_yaml)
    changed = yaml.safe_load(example_icp_yaml)
    changed["name"] = "Heavier funding"
    changed["criteria"][3]["weight"] = 40
    candidate = (
        await app_client.post(
            "/api/v1/icps", content=yaml.safe_dump(changed), headers=write_headers | YAML
        )
    ).json()

    from app.insights import service

    async def no_second_pass(*args, **kwargs):
        raise AssertionError("the preview read its accounts twice")

    # Both backtests come from the preview's one pass: the active version's from the
    # verdicts stored for it.
    with monkeypatch.context() as patched:
        patched.setattr(service, "backtest_icp", no_second_pass)
        preview = (
            await app_client.post(f"/api/v1/icps/{candidate['id']}/preview", headers=read_headers)
        ).json()

    for name, icp_id in (("candidate", candidate["id"]), ("active", active_id)):
        alone = await app_client.post(f"/api/v1/icps/{icp_id}/backtest", headers=read_headers)
        assert preview["backtests"][name] == alone.json(), name
