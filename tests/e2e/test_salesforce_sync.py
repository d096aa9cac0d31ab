"""Salesforce end to end: the same pipeline through simple-salesforce and the Salesforce
sandbox (https, local CA) — the counterparts of the HubSpot scenarios."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from simple_salesforce import Salesforce

from app.core.db import libpq_conninfo
from connectors.base import RetriableError
from connectors.sandbox.common.admin_client import SandboxAdmin
from tests.e2e.conftest import EXAMPLES, activate_example_icp, salesforce_connection

COMPOSITE_PATCH = "PATCH /services/data/v{version}/composite/sobjects"


async def _sync(database, connection_id, mode="full"):
    from app.sync.pipeline import run_sync
    from app.sync.service import request_sync

    async with database.transaction() as session:
        run = await request_sync(session, connection_id=connection_id, mode=mode)
    return await run_sync(database, run_id=run.id), run.id


def _stored(database_url, connection_id) -> dict[str, tuple]:
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        rows = connection.execute(
            "SELECT a.external_id, s.score, s.tier, s.is_mql, s.is_sql, a.archived "
            "FROM accounts a LEFT JOIN account_scores s ON s.account_id = a.id "
            "WHERE a.connection_id = %s",
            (connection_id,),
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def _outbox(database_url) -> int:
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        return connection.execute("SELECT count(*) FROM writeback_outbox").fetchone()[0]


def _crm(sf: Salesforce) -> dict[str, dict[str, Any]]:
    result = sf.query_all(
        "SELECT Id, ICP_Fit_Score__c, ICP_Tier__c, ICP_Is_MQL__c, ICP_Is_SQL__c, "
        "ICP_Fit_Reasons__c, ICP_Version__c FROM Account"
    )
    return {r["Id"]: r for r in result["records"]}


def _writes(sandbox: SandboxAdmin) -> int:
    calls = sandbox.stats()["calls"]
    return sum(n for key, n in calls.items() if key.startswith("PATCH") and "composite" in key)


def _assert_crm_matches(sf, stored) -> None:
    crm = _crm(sf)
    for external_id, (score, tier, is_mql, is_sql, archived) in stored.items():
        if archived:
            continue
        record = crm[external_id]
        assert record["ICP_Fit_Score__c"] == score, external_id
        assert record["ICP_Tier__c"] == tier
        assert record["ICP_Is_MQL__c"] is is_mql
        assert record["ICP_Is_SQL__c"] is is_sql
        assert record["ICP_Version__c"] == "US new media, post-Series A v1"


@pytest.mark.slow
async def test_full_sync_of_5000_accounts_is_written_and_read_back(
    database, database_url, sf_admin, sf, salesforce_server
):
    sf_admin.reset(seed=4, accounts=5000, opportunities_per_account=0)
    await activate_example_icp(database)
    connection_id = await salesforce_connection(database, salesforce_server)

    run, _ = await _sync(database, connection_id)

    assert run.status == "succeeded", run.error
    assert run.counts["fetched"] == 5000
    assert run.counts["written"] == 5000
    stored = _stored(database_url, connection_id)
    assert len(stored) == 5000
    _assert_crm_matches(sf, stored)
    assert _outbox(database_url) == 0


async def test_incremental_after_a_full_sync_writes_nothing_and_3_edits_write_3(
    database, database_url, sf_admin, salesforce_server
):
    sf_admin.reset(seed=4, accounts=400, opportunities_per_account=0)
    await activate_example_icp(database)
    connection_id = await salesforce_connection(database, salesforce_server)
    await _sync(database, connection_id)
    writes = _writes(sf_admin)

    quiet, _ = await _sync(database, connection_id, mode="incremental")
    assert quiet.status == "succeeded", quiet.error
    assert quiet.counts["written"] == 0
    assert _writes(sf_admin) == writes

    ids = sorted(_stored(database_url, connection_id))[:3]
    sf_admin.edits(
        ids=ids,
        fields={
            "BillingCountry": "United States",
            "Industry": "Online Media",
            "Funding_Stage__c": "series_b",
            "Total_Funding__c": 9000000,
            "Tech_Stack__c": "Contentful",
            "NumberOfEmployees": 120,
        },
    )
    edited, _ = await _sync(database, connection_id, mode="incremental")
    assert edited.counts["upserted"] == 3
    assert edited.counts["written"] == 3
    assert _writes(sf_admin) == writes + 1


async def test_deleted_account_is_archived_and_refused_writes_are_retried(
    database, database_url, sf_admin, salesforce_server, tmp_path
):
    from app.accounts.tasks import rescore_all_accounts
    from app.writeback.tasks import flush_writebacks

    sf_admin.reset(seed=4, accounts=150, opportunities_per_account=0)
    await activate_example_icp(database)
    connection_id = await salesforce_connection(database, salesforce_server)
    await _sync(database, connection_id)
    first, second, third = sorted(_stored(database_url, connection_id))[:3]
    sf_admin.post("delete", {"ids": [first]})
    await _sync(database, connection_id, mode="incremental")
    assert _stored(database_url, connection_id)[first][4] is True

    # Deleted behind our back: the write of a new verdict is refused per record.
    sf_admin.post("delete", {"ids": [second, third]})
    changed = tmp_path / "icp.yaml"
    changed.write_text((EXAMPLES / "icp.yaml").read_text().replace("weight: 25", "weight: 35"))
    await activate_example_icp(database, changed)
    await rescore_all_accounts(icp_version_id="test")
    flushed = await flush_writebacks(connection_id=str(connection_id))

    assert flushed == {"written": 147, "failed": 2}
    with psycopg.connect(libpq_conninfo(database_url), autocommit=True) as connection:
        pending = connection.execute(
            "SELECT a.external_id, o.attempts FROM writeback_outbox o "
            "JOIN accounts a ON a.id = o.account_id ORDER BY 1"
        ).fetchall()
        assert pending == sorted([(second, 1), (third, 1)])
        connection.execute("UPDATE writeback_outbox SET next_attempt_at = now()")
    assert await flush_writebacks(connection_id=str(connection_id)) == {"written": 0, "failed": 2}


async def test_sync_completes_with_20_percent_5xx_and_timeouts(
    database, database_url, sf_admin, sf, salesforce_server
):
    sf_admin.reset(seed=4, accounts=1000, opportunities_per_account=0)
    await activate_example_icp(database)
    connection_id = await salesforce_connection(database, salesforce_server)
    sf_admin.faults(error_rate=0.2, status_codes=[500, 502, 503], seed=11)

    run, _ = await _sync(database, connection_id)

    sf_admin.faults()
    assert run.status == "succeeded", run.error
    assert run.counts["written"] == 1000
    assert _outbox(database_url) == 0
    _assert_crm_matches(sf, _stored(database_url, connection_id))


async def test_missing_custom_fields_fail_the_run_naming_each(
    database, database_url, sf_admin, salesforce_server
):
    sf_admin.reset(seed=4, accounts=20, custom_fields=False)
    await activate_example_icp(database)
    connection_id = await salesforce_connection(database, salesforce_server)

    run, _ = await _sync(database, connection_id)

    assert run.status == "failed"
    for field in ("ICP_Fit_Score__c", "ICP_Tier__c", "ICP_Is_MQL__c", "ICP_Is_SQL__c"):
        assert field in run.error
    assert _stored(database_url, connection_id) == {}


async def test_daily_limit_stops_the_sync_cleanly_and_it_resumes_without_loss(
    database, database_url, sf_admin, salesforce_server
):
    from app.sync.pipeline import run_sync

    sf_admin.reset(seed=4, accounts=6000, opportunities_per_account=0)
    await activate_example_icp(database)
    connection_id = await salesforce_connection(database, salesforce_server)
    # 80% of 10 calls is 8: the sync stops after a few pages and writes.
    sf_admin.post("limits", {"used": 0, "max": 10})

    from app.sync.service import request_sync

    async with database.transaction() as session:
        run = await request_sync(session, connection_id=connection_id, mode="full")
    with pytest.raises(RetriableError):
        await run_sync(database, run_id=run.id)
    part = len(_stored(database_url, connection_id))
    assert 0 < part < 6000

    sf_admin.post("limits", {"used": 0, "max": 1_000_000})  # a new day
    finished = await run_sync(database, run_id=run.id)

    assert finished.status == "succeeded", finished.error
    assert len(_stored(database_url, connection_id)) == 6000
    assert _outbox(database_url) == 0


async def test_a_full_sync_repairs_icp_fields_edited_by_hand_or_lost_in_a_restore(
    database, database_url, sf_admin, sf, salesforce_server
):
    sf_admin.reset(seed=4, accounts=150, opportunities_per_account=0)
    await activate_example_icp(database)
    connection_id = await salesforce_connection(database, salesforce_server)
    await _sync(database, connection_id)
    stored = _stored(database_url, connection_id)
    edited, restored = sorted(stored)[:2], sorted(stored)[2:5]
    for account_id in edited:  # a rep overrides the verdict by hand
        sf.Account.update(account_id, {"ICP_Tier__c": "A", "ICP_Fit_Score__c": 99})
    for account_id in restored:  # a restore from before icp-sync wrote anything
        sf.Account.update(
            account_id,
            {"ICP_Tier__c": None, "ICP_Fit_Score__c": None, "ICP_Version__c": None},
        )
    writes_before = _writes(sf_admin)

    run, _ = await _sync(database, connection_id)

    assert run.status == "succeeded", run.error
    assert run.counts["repaired"] == 5
    assert run.counts["written"] == 5
    assert _writes(sf_admin) == writes_before + 1
    _assert_crm_matches(sf, _stored(database_url, connection_id))
    again, _ = await _sync(database, connection_id)
    assert again.counts["repaired"] == 0 and again.counts["written"] == 0
