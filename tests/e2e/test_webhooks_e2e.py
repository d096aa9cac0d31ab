"""CRM-triggered rescoring through the real service process: the HubSpot sandbox's own
webhook emitter calls `icp-sync serve`, whose worker writes the new verdict back."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from app.core.db import libpq_conninfo
from tests.e2e.conftest import BATCH_UPDATE, activate_example_icp, calls, make_connection, sync

PERFECT_FIT = {
    "country": "United States",
    "industry": "ONLINE_MEDIA",
    "funding_stage": "series_b",
    "total_money_raised": "9000000",
    "has_inhouse_seo": "true",
    "web_technologies": "contentful",
    "numberofemployees": "120",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def service(settings) -> Iterator[str]:
    """`icp-sync serve` (API + worker) on the test database, as a separate process."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ICP_SYNC_")}
    env |= {
        "ICP_SYNC_DATABASE_URL": settings.database_url.get_secret_value(),
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


def _tier(hubspot, company_id: str) -> str | None:
    company = hubspot.crm.companies.basic_api.get_by_id(company_id, properties=["icp_tier"])
    return company.properties.get("icp_tier")


@pytest.mark.slow
async def test_a_reps_edit_reaches_the_icp_properties_with_no_sync_run(
    database, database_url, sandbox, hubspot, service
):
    sandbox.reset(seed=3, companies=60)
    await activate_example_icp(database)
    connection_id = await make_connection(database, sandbox.url)
    await sync(database, connection_id)
    crm = hubspot.crm.companies.basic_api.get_page(limit=100, properties=["icp_tier"]).results
    target = next(c.id for c in crm if c.properties.get("icp_tier") == "D")
    sandbox.webhooks(f"{service}/webhooks/hubspot/{connection_id}")

    sandbox.edits(ids=[target], properties=PERFECT_FIT)

    deadline = time.monotonic() + 30
    for _ in range(300):  # polls the CRM: nothing here can signal us
        if _tier(hubspot, target) == "A" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert _tier(hubspot, target) == "A"
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        runs = connection.execute("SELECT count(*) FROM sync_runs").fetchone()[0]
    assert runs == 1  # only the initial full sync: the webhook did the rest

    # Our write-back echoes back as icp_* propertyChange events: they must cause no write.
    writes = calls(sandbox, BATCH_UPDATE)
    await asyncio.sleep(3)
    assert calls(sandbox, BATCH_UPDATE) == writes
    delivered = sandbox.get("webhooks")
    assert delivered.get("failed", 0) == 0, delivered
