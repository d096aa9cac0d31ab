"""The job queue: deferral inside the caller's transaction, and the rescore-all job."""

from __future__ import annotations

import itertools

import psycopg
import pytest

from app.core.db import libpq_conninfo

ACCOUNTS_CSV = b"""external_id,name,country,industry,employees
a,Alpha,US,Online Media,50
b,Beta,DE,Retail,50
c,Gamma,US,Publishing,5
"""


def _jobs(database_url) -> list[tuple[str, str]]:
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        rows = connection.execute(
            "SELECT task_name, status::text FROM procrastinate_jobs ORDER BY id"
        ).fetchall()
    return [(r[0], r[1]) for r in rows]


async def _apply(database, example_icp_yaml, *, activate: bool):
    from app.icps.service import activate_icp, apply_icp

    async with database.transaction() as session:
        version, _ = await apply_icp(
            session, source=example_icp_yaml, content_type="application/yaml"
        )
        if activate:
            version = (await activate_icp(session, icp_id=version.id)).version
    return version


async def test_activation_defers_a_rescore_in_the_same_transaction(
    database, database_url, example_icp_yaml
):
    await _apply(database, example_icp_yaml, activate=True)
    assert _jobs(database_url) == [("accounts.rescore_all", "todo")]


async def test_a_rolled_back_activation_leaves_no_job(database, database_url, example_icp_yaml):
    from app.icps.service import activate_icp

    version = await _apply(database, example_icp_yaml, activate=False)

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with database.transaction() as session:
            await activate_icp(session, icp_id=version.id)
            raise Abort
    assert _jobs(database_url) == []


async def test_repeated_activations_queue_one_rescore(database, database_url, example_icp_yaml):
    from app.icps.service import activate_icp, create_icp

    first = await _apply(database, example_icp_yaml, activate=True)
    async with database.transaction() as session:
        second = await create_icp(session, source=example_icp_yaml, content_type="application/yaml")
        await activate_icp(session, icp_id=second.id)
    async with database.transaction() as session:
        await activate_icp(session, icp_id=first.id)
    assert [status for _, status in _jobs(database_url)] == ["todo"]


async def test_rescore_job_scores_every_account_with_history(
    database, database_url, example_icp_yaml
):
    from app.accounts.service import import_accounts_csv
    from app.jobs.runtime import run_worker

    async with database.transaction() as session:
        await import_accounts_csv(session, content=ACCOUNTS_CSV)  # no active ICP: unscored
    await _apply(database, example_icp_yaml, activate=True)
    await run_worker(concurrency=1, wait=False)

    rescores = [job for job in _jobs(database_url) if job[0] == "accounts.rescore_all"]
    assert rescores == [("accounts.rescore_all", "succeeded")]
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        scores = dict(
            connection.execute(
                "SELECT a.external_id, s.score FROM account_scores s JOIN accounts a ON a.id = s.account_id"
            ).fetchall()
        )
        history = connection.execute("SELECT count(*) FROM account_score_history").fetchone()
    assert scores == {"a": 45, "b": 0, "c": 25}
    assert history == (3,)


async def test_a_finished_rescore_shows_its_attempt_start_and_end(database, example_icp_yaml):
    from app.icps.service import activate_icp, create_icp
    from app.jobs.repository import JobRepository
    from app.jobs.runtime import run_worker

    async with database.transaction() as session:
        version = await create_icp(
            session, source=example_icp_yaml, content_type="application/yaml"
        )
        activation = await activate_icp(session, icp_id=version.id)
    await run_worker(concurrency=1, wait=False)
    async with database.transaction() as session:
        job = await JobRepository(session).get(activation.rescore_job_id or 0)

    assert job is not None
    assert (job.task, job.status, job.attempts) == ("accounts.rescore_all", "succeeded", 1)
    assert job.queued_at and job.started_at and job.finished_at
    assert job.queued_at <= job.started_at <= job.finished_at


async def test_rescore_writes_no_history_when_nothing_changed(
    database, database_url, example_icp_yaml
):
    from app.accounts.service import import_accounts_csv
    from app.accounts.tasks import rescore_all_accounts

    await _apply(database, example_icp_yaml, activate=True)
    async with database.transaction() as session:
        await import_accounts_csv(session, content=ACCOUNTS_CSV)
    result = await rescore_all_accounts(icp_version_id="test")
    assert result == {"scored": 3, "changed": 0, "history": 0}


async def test_a_worker_killed_mid_job_has_its_job_retried(database, database_url):
    """A job left 'doing' by a dead worker (no heartbeat) is requeued by the periodic task."""
    from app.jobs.periodic import retry_stalled_jobs

    with psycopg.connect(libpq_conninfo(database_url), autocommit=True) as connection:
        worker_id = connection.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '1 hour') RETURNING id"
        ).fetchone()[0]
        connection.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status, worker_id) "
            "VALUES ('scoring', 'app.accounts.tasks.rescore_all_accounts', "
            "'{\"icp_version_id\": \"x\"}', 'doing', %s)",
            (worker_id,),
        )
    requeued = await retry_stalled_jobs(timestamp=0)
    assert requeued == 1
    assert _jobs(database_url)[-1] == ("app.accounts.tasks.rescore_all_accounts", "todo")


def test_every_task_is_registered_under_its_explicit_name_and_its_former_path():
    from app.jobs import job_app
    from app.jobs.names import LEGACY_NAMES, TaskName

    job_app.perform_import_paths()
    ours = {name: task for name, task in job_app.tasks.items() if "procrastinate." not in name}
    assert {task.name for task in ours.values()} == set(TaskName)
    for name, legacy in LEGACY_NAMES.items():
        assert ours[legacy] is ours[name]


async def test_a_job_queued_by_the_previous_release_under_its_old_name_still_runs(
    database, database_url
):
    """Jobs deferred before tasks had names carry the dotted path: the upgraded worker runs them."""
    import procrastinate.tasks

    from app.jobs import job_app
    from app.jobs.runtime import run_worker

    old = procrastinate.tasks.configure_task(
        name="app.accounts.tasks.rescore_all_accounts",
        job_manager=job_app.job_manager,
        queue="scoring",
    )
    await old.defer_async(icp_version_id="queued-before-the-upgrade")
    await run_worker(concurrency=1, wait=False)

    # (the worker also ran the periodic tasks that came due)
    assert _jobs(database_url)[0] == ("app.accounts.tasks.rescore_all_accounts", "succeeded")


async def test_deferring_an_unknown_task_name_fails_instead_of_queueing_a_job_no_worker_takes(
    database, database_url
):
    import procrastinate.exceptions

    from app.jobs import JobRequest, defer

    with pytest.raises(procrastinate.exceptions.TaskNotFound):
        async with database.transaction() as session:
            await defer(session, JobRequest("accounts.no_such_task"))  # type: ignore[arg-type]
    assert _jobs(database_url) == []


async def test_a_sync_whose_job_fails_terminally_is_marked_failed_with_the_reason(
    database, database_url, key_rotation
):
    """A worker that cannot decrypt the credentials (another process's key) must not leave
    the run 'running' forever."""
    from app.connections.schemas import ConnectionCreate
    from app.connections.service import create_connection
    from app.jobs.runtime import run_worker
    from app.sync.service import get_sync_run, request_sync

    async with database.transaction() as session:
        connection = await create_connection(
            session,
            body=ConnectionCreate(
                kind="hubspot",
                name="crm",
                credentials={"access_token": "t"},
                base_url="http://127.0.0.1:9",
            ),
        )
        run = await request_sync(session, connection_id=connection.id, mode="full")
    key_rotation.drop_old_key()  # this "worker" holds a key the credentials were not sealed with
    await run_worker(concurrency=1, wait=False)

    async with database.transaction() as session:
        finished = await get_sync_run(session, run_id=run.id)
    assert finished.status == "failed"
    assert "cannot be decrypted" in (finished.error or "")
    assert finished.finished_at is not None


def test_stalled_jobs_are_looked_for_often_enough_to_requeue_within_30_seconds():
    from datetime import datetime

    import croniter

    from app.jobs.periodic import STALLED_CHECK_CRON

    runs = croniter.croniter(STALLED_CHECK_CRON, datetime(2026, 1, 1))
    times = [runs.get_next(datetime) for _ in range(10)]
    assert max((b - a).total_seconds() for a, b in itertools.pairwise(times)) <= 15


async def test_a_worker_that_stops_on_its_own_is_started_again_until_cancelled(monkeypatch, caplog):
    """procrastinate's worker raises when its database is unreachable and returns when its
    listening connection dies; either way a long-running process starts it again."""
    import asyncio

    import procrastinate.exceptions

    from app.jobs import runtime

    runs = 0
    third_started = asyncio.Event()

    async def flaky_worker(*, concurrency: int) -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            refused = psycopg.OperationalError("connection refused")
            raise procrastinate.exceptions.ConnectorException() from refused
        if runs == 2:
            return  # its listener died; it stopped and unregistered
        third_started.set()
        await asyncio.Event().wait()  # healthy: runs until cancelled

    monkeypatch.setattr(runtime, "run_worker", flaky_worker)
    monkeypatch.setattr(runtime, "RESTART_DELAYS_SECONDS", (0.0,))
    supervised = asyncio.create_task(runtime.run_worker_until_cancelled(concurrency=1))
    await asyncio.wait_for(third_started.wait(), timeout=10)
    supervised.cancel()
    with pytest.raises(asyncio.CancelledError):
        await supervised

    assert runs == 3
    restarts = [r.getMessage() for r in caplog.records if "starting it again" in r.getMessage()]
    assert restarts == [
        "job worker stopped (connection refused); starting it again in 0 s",
        "job worker stopped (its database connection was lost); starting it again in 0 s",
    ]


# "a" moved to Germany while a rescore of every account was under way: it scores less.
A_MOVED_CSV = b"""external_id,name,country,industry,employees
a,Alpha,DE,Online Media,50
"""


def _scores_and_history(database_url) -> tuple[dict[str, int], dict[str, list[int]]]:
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        scores = dict(
            connection.execute(
                "SELECT a.external_id, s.score FROM account_scores s "
                "JOIN accounts a ON a.id = s.account_id"
            ).fetchall()
        )
        history: dict[str, list[int]] = {}
        for external_id, score in connection.execute(
            "SELECT a.external_id, h.score FROM account_score_history h "
            "JOIN accounts a ON a.id = h.account_id ORDER BY h.id"
        ).fetchall():
            history.setdefault(external_id, []).append(score)
    return scores, history


async def test_a_rescore_does_not_undo_a_verdict_stored_after_it_read_the_account(
    database, database_url, example_icp_yaml, monkeypatch
):
    """The rescore read "a" in Alpha's old state; before it wrote that batch, "a" changed
    and was rescored from its new data (a webhook, a sync). The batch is refused and scored
    again: the newer verdict stays, and the stale one leaves no history behind."""
    from app.accounts import pipeline
    from app.accounts.pipeline import rescore_active_version
    from app.accounts.service import import_accounts_csv

    version = await _apply(database, example_icp_yaml, activate=True)
    async with database.transaction() as session:
        await import_accounts_csv(session, content=ACCOUNTS_CSV)
    real_store = pipeline.store_verdicts

    async def change_first(session, **kwargs):
        async with database.transaction() as other:  # committed before the batch is written
            await import_accounts_csv(other, content=A_MOVED_CSV)
        monkeypatch.setattr(pipeline, "store_verdicts", real_store)
        return await real_store(session, **kwargs)

    monkeypatch.setattr(pipeline, "store_verdicts", change_first)
    progress = await rescore_active_version(database, version)

    scores, history = _scores_and_history(database_url)
    assert scores == {"a": 25, "b": 0, "c": 25}  # not 45: from Alpha's old data
    assert history["a"] == [45, 25]
    assert (progress.scored, progress.changed, progress.history) == (3, 0, 0)


async def test_a_rescore_does_not_undo_a_verdict_committed_while_it_writes(
    database, database_url, example_icp_yaml, monkeypatch
):
    """The newer verdict's writer holds its row while the rescore writes the same account:
    the rescore waits for it, is refused once it commits, and scores the batch again."""
    import asyncio

    from app.accounts import pipeline
    from app.accounts.pipeline import rescore_active_version
    from app.accounts.service import import_accounts_csv

    version = await _apply(database, example_icp_yaml, activate=True)
    async with database.transaction() as session:
        await import_accounts_csv(session, content=ACCOUNTS_CSV)
    real_store = pipeline.store_verdicts
    attempts = 0

    async def beside_a_writer(session, **kwargs):
        nonlocal attempts
        attempts += 1
        if attempts > 1:
            return await real_store(session, **kwargs)
        async with database.transaction() as other:
            await import_accounts_csv(other, content=A_MOVED_CSV)  # holds a's verdict row
            storing = asyncio.create_task(real_store(session, **kwargs))
            await _until_someone_waits_for_a_lock(database_url)
        return await storing  # the other commits first, then the rescore's write goes on

    monkeypatch.setattr(pipeline, "store_verdicts", beside_a_writer)
    progress = await rescore_active_version(database, version)

    scores, history = _scores_and_history(database_url)
    assert scores == {"a": 25, "b": 0, "c": 25}
    assert history["a"] == [45, 25]
    assert attempts == 2 and progress.scored == 3


async def test_a_rescore_gives_up_on_a_batch_refused_too_often(
    database, example_icp_yaml, monkeypatch
):
    """Refused again and again (a storm of edits on the same accounts): the rescore stops
    with the database's error after its attempts, and the job is retried as a whole."""
    from app.accounts import pipeline
    from app.accounts.pipeline import BATCH_ATTEMPTS, rescore_active_version
    from app.accounts.service import import_accounts_csv

    version = await _apply(database, example_icp_yaml, activate=True)
    async with database.transaction() as session:
        await import_accounts_csv(session, content=ACCOUNTS_CSV)
    attempts = 0

    async def always_refused(session, **kwargs):
        nonlocal attempts
        attempts += 1
        raise psycopg.errors.SerializationFailure("could not serialize access")

    monkeypatch.setattr(pipeline, "store_verdicts", always_refused)
    with pytest.raises(psycopg.errors.SerializationFailure):
        await rescore_active_version(database, version)
    assert attempts == BATCH_ATTEMPTS


async def _until_someone_waits_for_a_lock(database_url) -> None:
    import asyncio

    async with await psycopg.AsyncConnection.connect(
        libpq_conninfo(database_url), autocommit=True
    ) as connection:
        for _ in range(200):
            cursor = await connection.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            row = await cursor.fetchone()
            if row and row[0]:
                return
            await asyncio.sleep(0.02)
    raise AssertionError("the rescore's save never waited for the other writer")


async def test_a_rescore_job_failed_by_a_storm_of_edits_starts_over_a_little_later(
    database, database_url, example_icp_yaml, monkeypatch
):
    """Every attempt at a batch refused: the job fails, is queued again after RESCORE_RETRY's
    wait, and its next attempt rescores every account."""
    from app.accounts import pipeline
    from app.accounts.pipeline import BATCH_ATTEMPTS
    from app.accounts.service import import_accounts_csv
    from app.jobs.runtime import run_worker

    async with database.transaction() as session:
        await import_accounts_csv(session, content=ACCOUNTS_CSV)  # no active ICP: unscored
    await _apply(database, example_icp_yaml, activate=True)
    real_store = pipeline.store_verdicts
    refused = 0

    async def refused_at_first(session, **kwargs):
        nonlocal refused
        if refused < BATCH_ATTEMPTS:
            refused += 1
            raise psycopg.errors.SerializationFailure("could not serialize access")
        return await real_store(session, **kwargs)

    monkeypatch.setattr(pipeline, "store_verdicts", refused_at_first)
    await run_worker(concurrency=1, wait=False)
    rescores = [job for job in _jobs(database_url) if job[0] == "accounts.rescore_all"]
    assert rescores == [("accounts.rescore_all", "todo")]  # queued again, for later
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        connection.execute(  # later is now
            "UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo'"
        )
    await run_worker(concurrency=1, wait=False)

    rescores = [job for job in _jobs(database_url) if job[0] == "accounts.rescore_all"]
    assert rescores == [("accounts.rescore_all", "succeeded")]
    scores, _ = _scores_and_history(database_url)
    assert scores == {"a": 45, "b": 0, "c": 25}
