"""Test fixtures: a real PostgreSQL (embedded by default, or ICP_SYNC_TEST_DATABASE_URL's
server), migrated once per session; every test starts from empty tables."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import requests
from cryptography.fernet import Fernet
from hubspot import HubSpot
from pydantic import SecretStr
from simple_salesforce import Salesforce
from sqlalchemy import URL, make_url

from app.core.config import Settings
from app.core.db import (
    Database,
    libpq_conninfo,
    release_embedded_postgres,
    start_embedded_postgres,
)
from app.core.migrations import upgrade_to_head
from app.core.security import configure_secrets
from app.models import Base
from connectors.sandbox.common.admin_client import SandboxAdmin
from connectors.sandbox.common.server import RunningServer, start_server
from connectors.sandbox.hubspot import create_app as create_hubspot_app
from connectors.sandbox.salesforce import create_app as create_salesforce_app
from connectors.sandbox.salesforce import tls_files, trusting_session

# Emptied between tests: every table of ours, and procrastinate's (so no job leaks into the
# next test); the list comes from the schema, so a new table is never forgotten.
OUR_TABLES = [table.name for table in Base.metadata.sorted_tables]
JOB_QUEUE_TABLES = """
    SELECT tablename FROM pg_tables
    WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate\\_%'
"""


@pytest.fixture(scope="session")
def database_url() -> Iterator[URL]:
    """A fresh, migrated database for this test session."""
    external = os.environ.get("ICP_SYNC_TEST_DATABASE_URL")
    if external:
        server = make_url(external).set(drivername="postgresql+psycopg")
        name = f"icp_sync_test_{uuid.uuid4().hex[:8]}"
        admin_conninfo = libpq_conninfo(server.set(database="postgres"))
        with psycopg.connect(admin_conninfo, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = server.set(database=name)
        upgrade_to_head(url)
        yield url
        with psycopg.connect(admin_conninfo, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        with tempfile.TemporaryDirectory(prefix="icp-sync-test-") as data_dir:
            url = start_embedded_postgres(Path(data_dir))
            upgrade_to_head(url)
            yield url
            release_embedded_postgres(Path(data_dir))


@pytest.fixture(scope="session")
def settings(database_url: URL, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings pointing at the test database."""
    from app.core import db

    db._resolved_url = database_url
    settings = Settings(
        database_url=database_url.render_as_string(hide_password=False),
        data_dir=tmp_path_factory.mktemp("data"),
        # The database is shared with subprocesses (serve, workers): one key for all, as
        # production must have it.
        secret_keys=SecretStr(Fernet.generate_key().decode()),
        max_body_bytes=5 * 1024 * 1024,
        _env_file=None,  # type: ignore[call-arg]
    )
    configure_secrets(settings)
    return settings


@pytest.fixture(autouse=True)
def _empty_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "database_url" not in request.fixturenames:
        return
    url: URL = request.getfixturevalue("database_url")
    with psycopg.connect(libpq_conninfo(url), autocommit=True) as connection:
        queue_tables = [row[0] for row in connection.execute(JOB_QUEUE_TABLES)]
        tables = ", ".join(OUR_TABLES + queue_tables)
        connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture
async def database(settings: Settings, database_url: URL) -> AsyncIterator[Database]:
    """The process-wide database with the job queue open, as the service has it."""
    from app.core.db import close_database, open_database
    from app.jobs.runtime import open_job_queue

    database = open_database(settings)
    async with open_job_queue(database_url, max_size=2):
        yield database
    await close_database()


@pytest.fixture
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The FastAPI app (no in-process worker) behind an httpx client."""
    from app.main import create_app

    app = create_app(settings, run_worker=False, migrate=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def _key(app_client: httpx.AsyncClient, scopes: list[str]) -> dict[str, str]:
    from app.apikeys.service import create_api_key
    from app.core.db import get_database

    async with get_database().transaction() as session:
        key = await create_api_key(session, name="test " + ",".join(scopes), scopes=scopes)
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def admin_headers(app_client: httpx.AsyncClient) -> dict[str, str]:
    """Authorization header of an admin key."""
    return await _key(app_client, ["admin"])


@pytest.fixture
async def write_headers(app_client: httpx.AsyncClient) -> dict[str, str]:
    """Authorization header of a write key."""
    return await _key(app_client, ["write"])


@pytest.fixture
async def read_headers(app_client: httpx.AsyncClient) -> dict[str, str]:
    """Authorization header of a read-only key."""
    return await _key(app_client, ["read"])


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def example_icp_yaml() -> bytes:
    """The ICP of DESIGN §3.2."""
    return (EXAMPLES / "icp.yaml").read_bytes()


class KeyRotation:
    """Rotating ICP_SYNC_SECRET_KEYS the way README says: a new key in front, reseal, then the
    old key dropped."""

    def __init__(self, settings: Settings) -> None:
        from cryptography.fernet import Fernet

        self.settings = settings
        self.new_key = Fernet.generate_key().decode()
        assert settings.secret_keys is not None
        self.current_key = settings.secret_keys.get_secret_value()

    def _use(self, keys: str) -> None:
        from pydantic import SecretStr

        configure_secrets(self.settings.model_copy(update={"secret_keys": SecretStr(keys)}))

    def add_new_key(self) -> None:
        """The new key first, the current one still accepted."""
        self._use(f"{self.new_key},{self.current_key}")

    def drop_old_key(self) -> None:
        """Only the new key left."""
        self._use(self.new_key)


@pytest.fixture
def key_rotation(settings: Settings) -> Iterator[KeyRotation]:
    """A key rotation; the test's own keys are back afterwards."""
    yield KeyRotation(settings)
    configure_secrets(settings)


# -- the CRM sandboxes, one of each per test session ----------------------------------------

SANDBOX_TOKEN = "sandbox-token"  # both sandboxes' access token
HUBSPOT_CLIENT_SECRET = "sandbox-secret"  # what the HubSpot sandbox signs webhooks with


@dataclass(frozen=True)
class SandboxServer:
    """A sandbox on a free loopback port; for Salesforce's https, the CA file that trusts it."""

    server: RunningServer
    ca_file: str | None = None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def ca_pem(self) -> str:
        assert self.ca_file is not None
        return Path(self.ca_file).read_text()


@pytest.fixture(scope="session")
def hubspot_server() -> Iterator[SandboxServer]:
    """The HubSpot sandbox (http)."""
    app = create_hubspot_app(token=SANDBOX_TOKEN, client_secret=HUBSPOT_CLIENT_SECRET)
    with start_server(app) as server:
        yield SandboxServer(server)


@pytest.fixture(scope="session")
def salesforce_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """The Salesforce sandbox (https, signed by a CA of its own)."""
    ca_file, cert_file, key_file = tls_files(tmp_path_factory.mktemp("salesforce-tls"))
    app = create_salesforce_app(token=SANDBOX_TOKEN)
    with start_server(app, ssl_certfile=cert_file, ssl_keyfile=key_file) as server:
        yield SandboxServer(server, ca_file)


@contextlib.contextmanager
def quiet_hubspot(server: SandboxServer, **reset: Any) -> Iterator[SandboxAdmin]:
    """The HubSpot sandbox reset (``reset``: seed, companies, …) with no faults, no rate
    limit and no webhooks."""
    with SandboxAdmin(server.url) as admin:
        admin.faults()
        admin.rate_limit(0)
        admin.webhooks(None, redeliver=False)
        admin.reset(**reset)
        yield admin


@contextlib.contextmanager
def quiet_salesforce(
    server: SandboxServer, *, daily_max: int, **reset: Any
) -> Iterator[SandboxAdmin]:
    """The Salesforce sandbox reset (``reset``: seed, accounts, …) with no faults, no
    outbound messages and an unused daily allocation of ``daily_max`` calls."""
    with SandboxAdmin(server.url, verify=server.ca_file or True) as admin:
        admin.faults()
        admin.post("outbound", {"target_url": None})
        admin.post("limits", {"used": 0, "max": daily_max})
        admin.reset(**reset)
        yield admin


# -- the sandbox fixtures every directory shares; a directory overrides hubspot_reset or
# salesforce_reset to start from other data ----------------------------------------------------


@pytest.fixture
def hubspot_reset() -> dict[str, Any]:
    """How ``hubspot_admin`` reseeds the HubSpot sandbox before a test."""
    return {"seed": 7, "companies": 50}


@pytest.fixture
def hubspot_admin(
    hubspot_server: SandboxServer, hubspot_reset: dict[str, Any]
) -> Iterator[SandboxAdmin]:
    """The HubSpot sandbox reseeded per ``hubspot_reset``: no faults, limits or webhooks."""
    with quiet_hubspot(hubspot_server, **hubspot_reset) as admin:
        yield admin


@pytest.fixture
def hubspot(hubspot_admin: SandboxAdmin) -> HubSpot:
    """The official client, pointed at the sandbox by its ``host`` setting."""
    return HubSpot(access_token=SANDBOX_TOKEN, host=hubspot_admin.url)


@pytest.fixture
def salesforce_reset() -> dict[str, Any]:
    """How ``sf_admin`` reseeds the Salesforce sandbox (and its daily allocation)."""
    return {"daily_max": 15000, "seed": 7, "accounts": 50}


@pytest.fixture
def sf_admin(
    salesforce_server: SandboxServer, salesforce_reset: dict[str, Any]
) -> Iterator[SandboxAdmin]:
    """The Salesforce sandbox reseeded per ``salesforce_reset``: no faults, no outbound
    messages, an unused daily allocation, only the configured token valid."""
    with quiet_salesforce(salesforce_server, **salesforce_reset) as admin:
        yield admin


@pytest.fixture
def sf_sessions(salesforce_server: SandboxServer) -> Iterator[Callable[[], requests.Session]]:
    """Makes requests sessions that trust the sandbox CA, closed after the test (idle TLS
    keep-alive connections would hold up the server's shutdown)."""
    made: list[requests.Session] = []

    def make() -> requests.Session:
        assert salesforce_server.ca_file is not None
        made.append(trusting_session(salesforce_server.ca_file))
        return made[-1]

    yield make
    for session in made:
        session.close()


@pytest.fixture
def sf(
    sf_admin: SandboxAdmin,
    salesforce_server: SandboxServer,
    sf_sessions: Callable[[], requests.Session],
) -> Salesforce:
    """simple-salesforce, pointed at the sandbox by ``instance_url``, trusting its CA."""
    return Salesforce(
        instance_url=salesforce_server.url,
        session_id=SANDBOX_TOKEN,
        session=sf_sessions(),
        object_pairs_hook=dict,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def service_url(settings: Settings) -> Iterator[str]:
    """`icp-sync serve` (API + worker) on the test database, as a separate process."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ICP_SYNC_")}
    assert settings.database_url is not None and settings.secret_keys is not None
    env |= {
        "ICP_SYNC_DATABASE_URL": settings.database_url.get_secret_value(),
        "ICP_SYNC_SECRET_KEYS": settings.secret_keys.get_secret_value(),
        "ICP_SYNC_DATA_DIR": str(settings.data_dir),
        "ICP_SYNC_PORT": str(port),
        "ICP_SYNC_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen([sys.executable, "-m", "app", "serve"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(30)
