"""HubSpot end to end: sync, score and write back through hubspot-api-client and the sandbox."""

from __future__ import annotations

import threading

import psycopg
import pytest

from app.core.db import libpq_conninfo
from connectors.base import RetriableError
from tests.e2e.conftest import (
    BATCH_UPDATE,
    EXAMPLES,
    activate_example_icp,
    calls,
    make_connection,
    read_back,
    sync,
)


def _stored(database_url, connection_id) -> dict[str, tuple]:
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        rows = connection.execute(
            """
            SELECT a.external_id, s.score, s.tier, s.is_mql, s.is_sql, a.archived
            FROM accounts a LEFT JOIN account_scores s ON s.account_id = a.id
            WHERE a.connection_id = %s
            """,
            (connection_id,),
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def _outbox(database_url) -> int:
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        return connection.execute("SELECT count(*) FROM writeback_outbox").fetchone()[0]


def _assert_crm_matches(hubspot, stored) -> None:
    crm = read_back(hubspot)
    live = {k: v for k, v in stored.items() if not v[4]}
    assert set(live) <= set(crm)
    for external_id, (score, tier, is_mql, is_sql, _) in live.items():
        properties = crm[external_id]
        assert properties["icp_fit_score"] == str(score), external_id
        assert properties["icp_tier"] == tier
        assert properties["icp_is_mql"] == ("true" if is_mql else "false")
        assert properties["icp_is_sql"] == ("true" if is_sql else "false")
        assert properties["icp_version"] == "US new media, post-Series A v1"
        assert properties["icp_fit_reasons"].startswith(f"{tier} {score}")


@pytest.mark.slow
async def test_full_sync_of_5000_companies_writes_every_verdict_back(
    database, database_url, hubspot_admin, hubspot
):
    hubspot_admin.reset(seed=3, companies=5000)
    await activate_example_icp(database)
    connection_id = await make_connection(database, hubspot_admin.url)

    run = await sync(database, connection_id)

    assert run.status == "succeeded", run.error
    assert run.counts["fetched"] == 5000
    assert run.counts["scored"] == 5000
    assert run.counts["written"] == 5000
    assert run.counts["write_failed"] == 0
    stored = _stored(database_url, connection_id)
    assert len(stored) == 5000
    _assert_crm_matches(hubspot, stored)
    assert _outbox(database_url) == 0
    tiers = {v[1] for v in stored.values()}
    assert {"A", "D"} <= tiers  # the demo data has real fits and misfits


async def test_incremental_right_after_a_full_sync_writes_nothing(database, hubspot_admin):
    hubspot_admin.reset(seed=3, companies=300)
    await activate_example_icp(database)
    connection_id = await make_connection(database, hubspot_admin.url)
    await sync(database, connection_id)
    writes_before = calls(hubspot_admin, BATCH_UPDATE)

    run = await sync(database, connection_id, mode="incremental")

    assert run.status == "succeeded", run.error
    assert calls(hubspot_admin, BATCH_UPDATE) == writes_before
    assert run.counts["written"] == 0


async def test_three_edited_companies_are_picked_up_and_written_in_one_batch(
    database, database_url, hubspot_admin, hubspot
):
    hubspot_admin.reset(seed=3, companies=300)
    await activate_example_icp(database)
    connection_id = await make_connection(database, hubspot_admin.url)
    await sync(database, connection_id)
    ids = sorted(_stored(database_url, connection_id))[:3]
    # Make each of them a perfect fit, so their verdicts change.
    hubspot_admin.edits(
        ids=ids,
        properties={
            "country": "United States",
            "industry": "ONLINE_MEDIA",
            "funding_stage": "series_b",
            "total_money_raised": "9000000",
            "has_inhouse_seo": "true",
            "web_technologies": "contentful",
            "numberofemployees": "120",
        },
    )
    writes_before = calls(hubspot_admin, BATCH_UPDATE)

    run = await sync(database, connection_id, mode="incremental")

    assert run.status == "succeeded", run.error
    assert run.counts["upserted"] == 3
    assert run.counts["written"] == 3
    assert calls(hubspot_admin, BATCH_UPDATE) == writes_before + 1
    crm = read_back(hubspot)
    assert all(crm[i]["icp_tier"] == "A" for i in ids)


def _changed_icp(tmp_path):
    """The example ICP with different weights: every verdict moves."""
    path = tmp_path / "icp.yaml"
    text = (EXAMPLES / "icp.yaml").read_text().replace("weight: 25", "weight: 35")
    path.write_text(text)
    return path


async def _rescore_and_flush(database, connection_id):
    from app.accounts.tasks import rescore_all_accounts
    from app.writeback.tasks import flush_writebacks

    await rescore_all_accounts(icp_version_id="test")
    return await flush_writebacks(connection_id=str(connection_id))


async def test_archived_company_is_marked_archived_and_no_longer_written(
    database, database_url, hubspot_admin, hubspot, tmp_path
):
    hubspot_admin.reset(seed=3, companies=120)
    await activate_example_icp(database)
    connection_id = await make_connection(database, hubspot_admin.url)
    await sync(database, connection_id)
    victim = sorted(_stored(database_url, connection_id))[0]
    hubspot.crm.companies.basic_api.archive(victim)

    await sync(database, connection_id, mode="full")
    assert _stored(database_url, connection_id)[victim][4] is True

    await activate_example_icp(database, _changed_icp(tmp_path))
    flushed = await _rescore_and_flush(database, connection_id)

    assert flushed == {"written": 119, "failed": 0}
    assert _outbox(database_url) == 0


async def test_partial_batch_failure_keeps_the_refused_writes_and_retries_them(
    database, database_url, hubspot_admin, hubspot, tmp_path
):
    hubspot_admin.reset(seed=3, companies=150)
    await activate_example_icp(database)
    connection_id = await make_connection(database, hubspot_admin.url)
    await sync(database, connection_id)
    gone = sorted(_stored(database_url, connection_id))[:2]
    for company_id in gone:  # deleted in HubSpot; icp-sync has not heard yet
        hubspot.crm.companies.basic_api.archive(company_id)

    await activate_example_icp(database, _changed_icp(tmp_path))
    flushed = await _rescore_and_flush(database, connection_id)

    assert flushed == {"written": 148, "failed": 2}
    with psycopg.connect(libpq_conninfo(database_url), autocommit=True) as connection:
        pending = connection.execute(
            "SELECT a.external_id, o.attempts, o.last_error FROM writeback_outbox o "
            "JOIN accounts a ON a.id = o.account_id ORDER BY 1"
        ).fetchall()
        assert [(p[0], p[1]) for p in pending] == [(gone[0], 1), (gone[1], 1)]
        assert all(p[2] for p in pending)
        connection.execute("UPDATE writeback_outbox SET next_attempt_at = now()")
    from app.writeback.tasks import flush_writebacks

    assert await flush_writebacks(connection_id=str(connection_id)) == {"written": 0, "failed": 2}
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        attempts = connection.execute("SELECT attempts FROM writeback_outbox").fetchall()
    assert attempts == [(2,), (2,)]


@pytest.mark.slow
async def test_incremental_sync_loses_no_company_when_25000_share_one_timestamp(
    database, database_url, hubspot_admin
):
    hubspot_admin.reset(seed=3, companies=25_000, same_timestamp=True, deals_per_company=0)
    await activate_example_icp(database)
    connection_id = await make_connection(database, hubspot_admin.url)
    # No cursor yet: the first incremental sync reads everything through search.
    from app.connections.repository import ConnectionRepository

    async with database.transaction() as session:
        connection = await ConnectionRepository(session).get(connection_id)
        connection.sync_state = {"cursor": {"modified_since": "2000-01-01T00:00:00+00:00"}}

    run = await sync(database, connection_id, mode="incremental")

    assert run.status == "succeeded", run.error
    assert run.counts["fetched"] == 25_000
    assert len(_stored(database_url, connection_id)) == 25_000


async def test_invalid_token_fails_the_run_clearly_and_loses_nothing(
    database, database_url, hubspot_admin
):
    hubspot_admin.reset(seed=3, companies=50)
    await activate_example_icp(database)
    connection_id = await make_connection(database, hubspot_admin.url, token="wrong-token")

    run = await sync(database, connection_id)

    assert run.status == "failed"
    assert "token" in (run.error or "").lower()
    assert _stored(database_url, connection_id) == {}


async def test_sync_completes_with_20_percent_429_and_5xx(
    database, database_url, hubspot_admin, hubspot
):
    hubspot_admin.reset(seed=3, companies=1000)
    await activate_example_icp(database)
    connection_id = await make_connection(database, hubspot_admin.url)
    hubspot_admin.faults(error_rate=0.2, status_codes=[429, 500, 502, 503])

    run = await sync(database, connection_id)

    hubspot_admin.faults()
    assert run.status == "succeeded", run.error
    assert run.counts["written"] == 1000
    assert run.counts["api_calls"] > 20  # retries are counted
    assert _outbox(database_url) == 0
    _assert_crm_matches(hubspot, _stored(database_url, connection_id))


async def test_connections_due_for_their_interval_get_an_incremental_sync(
    database, database_url, hubspot_admin
):
    from app.sync.tasks import schedule_incremental_syncs

    due = await make_connection(database, hubspot_admin.url, sync_interval_minutes=5)
    await make_connection(database, hubspot_admin.url, sync_interval_minutes=None)

    assert await schedule_incremental_syncs(timestamp=0) == 1
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        runs = connection.execute("SELECT connection_id, mode, status FROM sync_runs").fetchall()
    assert runs == [(due, "incremental", "queued")]
    # The run is recent now: nothing more is due.
    assert await schedule_incremental_syncs(timestamp=0) == 0


async def test_a_sync_through_the_job_queue_and_the_cli_progress(database, hubspot_admin, settings):
    """`icp-sync sync` queues the run and works the queue until the run ends."""
    from app.sync.pipeline import follow_sync_run
    from app.sync.service import request_sync

    hubspot_admin.reset(seed=3, companies=250)
    await activate_example_icp(database)
    connection_id = await make_connection(database, hubspot_admin.url)
    async with database.transaction() as session:
        run = await request_sync(session, connection_id=connection_id, mode="full")
    seen: list[dict] = []
    finished = await follow_sync_run(database, run.id, show=seen.append)

    assert finished.status == "succeeded", finished.error
    assert finished.counts["written"] == 250
    assert seen[-1]["status"] == "succeeded"


async def test_a_resumed_run_counts_every_write_made_before_it_died(
    database, database_url, hubspot_admin, monkeypatch
):
    """The process dies after some write-back rounds committed but before its progress was
    saved again: the resumed run still counts exactly the writes the CRM received."""
    from app.sync import pipeline
    from app.sync.pipeline import run_sync
    from app.sync.service import request_sync
    from connectors.base import RetriableError

    hubspot_admin.reset(seed=5, companies=5_000)
    await activate_example_icp(database)
    connection_id = await make_connection(database, hubspot_admin.url)
    async with database.transaction() as session:
        run = await request_sync(session, connection_id=connection_id, mode="full")
    save_progress = pipeline._save_progress
    saves = 0

    async def dying_on_the_fourth_save(*args, **kwargs):
        nonlocal saves
        saves += 1
        if saves == 4:
            raise RetriableError("the worker died here")
        await save_progress(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_save_progress", dying_on_the_fourth_save)
    with pytest.raises(RetriableError):
        await run_sync(database, run_id=run.id)
    monkeypatch.setattr(pipeline, "_save_progress", save_progress)
    finished = await run_sync(database, run_id=run.id)

    assert finished.status == "succeeded", finished.error
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        confirmed = connection.execute("SELECT count(*) FROM account_writebacks").fetchone()[0]
    assert confirmed == 5_000
    assert finished.counts["written"] == confirmed
    assert _outbox(database_url) == 0


async def test_a_connection_shows_its_last_sync(database, hubspot_admin, app_client, admin_headers):
    hubspot_admin.reset(seed=2, companies=30)
    await activate_example_icp(database)
    connection_id = await make_connection(database, hubspot_admin.url)
    before = await app_client.get(f"/api/v1/connections/{connection_id}", headers=admin_headers)
    assert before.json()["last_sync"] is None

    run = await sync(database, connection_id)

    shown = (
        await app_client.get(f"/api/v1/connections/{connection_id}", headers=admin_headers)
    ).json()["last_sync"]
    assert shown["id"] == str(run.id) and shown["status"] == "succeeded"
    assert shown["counts"]["written"] == 30 and shown["finished_at"] is not None


async def test_a_sync_is_counted_in_metrics_with_every_crm_call_it_made(database, hubspot_admin):
    from prometheus_client import REGISTRY

    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    hubspot_admin.reset(seed=3, companies=300)
    await activate_example_icp(database)
    connection_id = await make_connection(database, hubspot_admin.url)
    runs_before = sample("icp_sync_sync_runs_total", kind="hubspot", status="succeeded")
    answered_before = sample("icp_sync_crm_calls_total", kind="hubspot", status="200")
    crm_calls_before = hubspot_admin.stats()["total"]

    run = await sync(database, connection_id)

    assert run.status == "succeeded", run.error
    assert sample("icp_sync_sync_runs_total", kind="hubspot", status="succeeded") == runs_before + 1
    answered = sample("icp_sync_crm_calls_total", kind="hubspot", status="200") - answered_before
    assert answered == hubspot_admin.stats()["total"] - crm_calls_before
    assert answered >= run.counts["api_calls"] > 0


async def test_a_full_sync_repairs_icp_fields_edited_by_hand_or_lost_in_a_restore(
    database, database_url, hubspot_admin, hubspot
):
    from hubspot.crm.companies import SimplePublicObjectInput

    hubspot_admin.reset(seed=3, companies=200)
    await activate_example_icp(database)
    connection_id = await make_connection(database, hubspot_admin.url)
    await sync(database, connection_id)
    stored = _stored(database_url, connection_id)
    edited, restored = sorted(stored)[:3], sorted(stored)[3:5]
    for external_id in edited:  # a rep overrides the verdict by hand
        hubspot.crm.companies.basic_api.update(
            external_id,
            SimplePublicObjectInput(
                properties={"icp_tier": "A", "icp_fit_score": "99", "icp_is_sql": "true"}
            ),
        )
    for external_id in restored:  # a CRM restore from before icp-sync wrote anything
        hubspot.crm.companies.basic_api.update(
            external_id,
            SimplePublicObjectInput(
                properties=dict.fromkeys(("icp_tier", "icp_fit_score", "icp_is_mql"), "")
            ),
        )
    writes_before = calls(hubspot_admin, BATCH_UPDATE)

    run = await sync(database, connection_id)

    assert run.status == "succeeded", run.error
    assert run.counts["repaired"] == 5
    assert run.counts["written"] == 5
    assert calls(hubspot_admin, BATCH_UPDATE) == writes_before + 1
    _assert_crm_matches(hubspot, _stored(database_url, connection_id))
    again = await sync(database, connection_id)
    assert again.counts["repaired"] == 0 and again.counts["written"] == 0


class _CallsInFlight:
    """The connection's real connector, its write calls counted as they overlap (and, when
    told, the first refused before it is sent, as a CRM that keeps failing would end it)."""

    def __init__(self, connector, *, fail_first: bool = False) -> None:
        self.connector = connector
        self.fail_first = fail_first
        self.started = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()
        real = connector.write_batch

        def write_batch(updates):
            with self._lock:
                self.started += 1
                first = self.started == 1
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
            try:
                if first and self.fail_first:
                    raise RetriableError("HubSpot kept answering 503")
                return real(updates)
            finally:
                with self._lock:
                    self.in_flight -= 1

        connector.write_batch = write_batch


async def _moved_verdicts(database, hubspot_admin, tmp_path, *, companies: int):
    """A synced connection whose every verdict a new ICP moved, its writes queued; with the
    connection's connector, counting its write calls."""
    from app.accounts.tasks import rescore_all_accounts
    from app.connections.service import get_connection, open_connector

    hubspot_admin.reset(seed=3, companies=companies)
    await activate_example_icp(database)
    connection_id = await make_connection(database, hubspot_admin.url)
    await sync(database, connection_id)
    await activate_example_icp(database, _changed_icp(tmp_path))
    await rescore_all_accounts(icp_version_id="test")
    async with database.transaction() as session:
        connection = await get_connection(session, connection_id=connection_id)
    return connection_id, open_connector(connection, database_url=database.url)


async def test_a_write_back_round_keeps_two_crm_calls_in_flight(
    database, database_url, hubspot_admin, hubspot, tmp_path
):
    from app.writeback.pipeline import CALLS_IN_FLIGHT, flush_outbox

    connection_id, opened = await _moved_verdicts(
        database, hubspot_admin, tmp_path, companies=1_000
    )
    hubspot_admin.faults(latency_ms=50)  # long enough for the calls of a round to overlap
    calls = _CallsInFlight(opened.connector)
    try:
        counts = await flush_outbox(
            database, connection_id=connection_id, connector=calls.connector
        )
    finally:
        hubspot_admin.faults()
        opened.close()

    assert counts.written == 1_000 and counts.failed == 0
    assert calls.started == 10  # one round: ten batches of 100
    assert calls.most_in_flight == CALLS_IN_FLIGHT == 2
    assert _outbox(database_url) == 0
    crm = read_back(hubspot)
    for external_id, (score, tier, *_) in _stored(database_url, connection_id).items():
        assert crm[external_id]["icp_fit_score"] == str(score)
        assert crm[external_id]["icp_tier"] == tier
        assert crm[external_id]["icp_version"].endswith(" v2")


async def test_a_write_call_that_fails_stops_its_round_and_nothing_of_it_is_confirmed(
    database, database_url, hubspot_admin, tmp_path
):
    from app.writeback.pipeline import flush_outbox

    connection_id, opened = await _moved_verdicts(
        database, hubspot_admin, tmp_path, companies=1_000
    )
    calls = _CallsInFlight(opened.connector, fail_first=True)
    try:
        with pytest.raises(RetriableError, match="503"):
            await flush_outbox(database, connection_id=connection_id, connector=calls.connector)
    finally:
        opened.close()

    assert calls.started <= 2  # the call beside the failed one, and no further
    assert _outbox(database_url) == 1_000  # all still to be written (again, the same values)


async def test_a_queued_write_of_what_the_crm_already_holds_costs_no_call(
    database, database_url, hubspot_admin
):
    """Writes queued against a confirmation their writer could not see yet (a rescore's
    batch reads one snapshot) are dropped by the flush, not sent: more of them than a round
    takes, and the one that differs is still written."""
    from app.connections.service import get_connection, open_connector
    from app.writeback.pipeline import flush_outbox

    hubspot_admin.reset(seed=3, companies=300)
    await activate_example_icp(database)
    connection_id = await make_connection(database, hubspot_admin.url)
    await sync(database, connection_id)
    assert _outbox(database_url) == 0
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        connection.execute(
            """
            INSERT INTO writeback_outbox (account_id, connection_id, icp_version_id, score,
                                          tier, is_mql, is_sql, reasons, scored_at)
            SELECT s.account_id, a.connection_id, s.icp_version_id, s.score, s.tier,
                   s.is_mql, s.is_sql, s.reasons, s.scored_at
            FROM account_scores s JOIN accounts a ON a.id = s.account_id
            """
        )
        differing = connection.execute(
            "UPDATE writeback_outbox SET score = 99 WHERE account_id = "
            "(SELECT max(account_id) FROM writeback_outbox) RETURNING account_id"
        ).fetchone()[0]
    writes_before = calls(hubspot_admin, BATCH_UPDATE)
    async with database.transaction() as session:
        connection = await get_connection(session, connection_id=connection_id)
    opened = open_connector(connection, database_url=database.url)
    try:
        counts = await flush_outbox(
            database, connection_id=connection_id, connector=opened.connector
        )
    finally:
        opened.close()

    assert (counts.written, counts.failed) == (1, 0)
    assert calls(hubspot_admin, BATCH_UPDATE) == writes_before + 1
    assert _outbox(database_url) == 0
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        held = connection.execute(
            "SELECT score FROM account_writebacks WHERE account_id = %s", (differing,)
        ).fetchone()
    assert held == (99,)
