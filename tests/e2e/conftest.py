"""End to end: the service's pipeline, the official HubSpot client, the HubSpot sandbox."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from hubspot import HubSpot

from connectors.sandbox.common.admin_client import SandboxAdmin
from tests.conftest import HUBSPOT_CLIENT_SECRET, SANDBOX_TOKEN

TOKEN = SANDBOX_TOKEN
CLIENT_SECRET = HUBSPOT_CLIENT_SECRET
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ICP_PROPERTIES = [
    "icp_fit_score",
    "icp_tier",
    "icp_is_mql",
    "icp_is_sql",
    "icp_fit_reasons",
    "icp_version",
    "icp_scored_at",
]


@pytest.fixture
def hubspot_reset() -> dict[str, Any]:
    """End to end, the HubSpot sandbox starts empty; tests seed what they need."""
    return {"seed": 3, "companies": 0}


@pytest.fixture
def salesforce_reset() -> dict[str, Any]:
    """End to end, the Salesforce org starts empty, its daily limit far away."""
    return {"daily_max": 1_000_000, "seed": 4, "accounts": 0}


async def make_connection(database, url: str, *, token: str = TOKEN, **settings: Any) -> uuid.UUID:
    """A HubSpot connection to the sandbox (unthrottled unless ``rate_limit_per_10s``)."""
    from app.connections.schemas import ConnectionCreate
    from app.connections.service import create_connection
    from app.demo import demo_settings

    options = demo_settings("hubspot").model_copy(
        update={"rate_limit_per_10s": 0, "lookback_seconds": 0} | settings
    )
    async with database.transaction() as session:
        connection = await create_connection(
            session,
            body=ConnectionCreate(
                kind="hubspot",
                name=f"sandbox {uuid.uuid4().hex[:6]}",
                credentials={"access_token": token, "client_secret": CLIENT_SECRET},
                base_url=url,
                settings=options,
            ),
        )
    return connection.id


async def activate_example_icp(database, path: Path = EXAMPLES / "icp.yaml"):
    from app.icps.service import activate_icp, apply_icp

    source = path.read_bytes()
    async with database.transaction() as session:
        version, _ = await apply_icp(session, source=source, content_type="application/yaml")
        return (await activate_icp(session, icp_id=version.id)).version


async def sync(database, connection_id: uuid.UUID, mode: str = "full"):
    """Queue a run and carry it out in this process, as a worker would. Its job leaves the
    queue in the transaction that queued it: the worker of a test's ``service_url`` would
    otherwise carry out the same run at the same time (and the two deadlock)."""
    from sqlalchemy import text

    from app.sync.pipeline import run_sync
    from app.sync.service import request_sync

    async with database.transaction() as session:
        run = await request_sync(session, connection_id=connection_id, mode=mode)
        await session.execute(
            text(
                "DELETE FROM procrastinate_jobs "
                "WHERE task_name = 'sync.run' AND args->>'sync_run_id' = :run_id"
            ),
            {"run_id": str(run.id)},
        )
    return await run_sync(database, run_id=run.id)


def read_back(hubspot: HubSpot) -> dict[str, dict[str, Any]]:
    """Every company's icp_* properties as the sandbox holds them, by HubSpot id."""
    found: dict[str, dict[str, Any]] = {}
    after = None
    while True:
        page = hubspot.crm.companies.basic_api.get_page(
            limit=100, after=after, properties=ICP_PROPERTIES
        )
        for company in page.results:
            found[company.id] = company.properties
        if page.paging is None:
            return found
        after = page.paging.next.after


def calls(sandbox: SandboxAdmin, key: str) -> int:
    """Calls the sandbox counted for one ``METHOD /path/template``."""
    return int(sandbox.stats()["calls"].get(key, 0))


BATCH_UPDATE = "POST /crm/v3/objects/companies/batch/update"


# -- Salesforce ----------------------------------------------------------------------------


async def salesforce_connection(
    database, salesforce_server, *, credentials: dict[str, str] | None = None, **settings: Any
) -> uuid.UUID:
    """A Salesforce connection to the sandbox (unthrottled, no lookback)."""
    from app.connections.schemas import ConnectionCreate
    from app.connections.service import create_connection
    from app.demo import demo_settings

    async with database.transaction() as session:
        connection = await create_connection(
            session,
            body=ConnectionCreate(
                kind="salesforce",
                name=f"salesforce {uuid.uuid4().hex[:6]}",
                credentials={"instance_url": salesforce_server.url, "access_token": SANDBOX_TOKEN}
                | (credentials or {}),
                settings=demo_settings("salesforce").model_copy(
                    update={
                        "ca_bundle": salesforce_server.ca_pem,
                        "rate_limit_per_10s": 0,
                        "lookback_seconds": 0,
                    }
                    | settings
                ),
            ),
        )
    return connection.id
