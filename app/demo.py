"""``icp-sync demo``: a working instance in one command, for a first look.

It starts the HubSpot sandbox with seeded companies, connects it, applies the example ICP,
imports the sample CSV, runs a full sync and prints what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.accounts.repository import AccountRepository
from app.accounts.service import ImportReport, import_accounts_csv
from app.apikeys.service import create_api_key
from app.connections.repository import ConnectionRepository
from app.connections.schemas import ConnectionCreate, ConnectionSettings
from app.connections.service import create_connection
from app.core.db import Database
from app.icps.service import activate_icp, apply_icp
from app.models import Account, AccountScore, IcpVersion, SyncRun
from app.sync.service import follow_sync_run, request_sync
from connectors.sandbox.server import RunningServer, start_server

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
DEMO_CONNECTION = "HubSpot sandbox (demo)"
DEMO_COMPANIES = 2_000
SANDBOX_TOKEN = "sandbox-token"
SANDBOX_SECRET = "sandbox-secret"
# The sandbox's demo portal keeps these as custom properties (as a real portal would).
DEMO_SETTINGS = ConnectionSettings(
    field_map={"funding_stage": "funding_stage", "nps": "nps_score"},
    extra_properties=["has_inhouse_seo", "is_competitor"],
)


def start_demo_sandbox(*, port: int) -> RunningServer:
    """The HubSpot sandbox, seeded, in a background thread of this process."""
    from connectors.hubspot.sandbox import create_app

    app = create_app(
        token=SANDBOX_TOKEN, client_secret=SANDBOX_SECRET, seed=1, companies=DEMO_COMPANIES
    )
    return start_server(app, port=port)


@dataclass(slots=True)
class DemoSummary:
    """What the demo set up, to print."""

    icp: IcpVersion
    imported: ImportReport
    sandbox_url: str
    run: SyncRun
    tiers: dict[str, int]
    top: list[tuple[Account, AccountScore]]
    admin_key: str

    def render(self, url: str) -> str:
        """The text a newcomer reads first."""
        tiers = "  ".join(f"{t}: {self.tiers.get(t, 0):,}" for t in "ABCD")
        top = "\n".join(
            f"  {score.score:>3} {score.tier}  {(account.name or account.external_id)[:30]:<30} "
            f"{score.reasons[:110]}"
            for account, score in self.top
        )
        counts = self.run.counts
        return (
            f"ICP: {self.icp.label} (active)\n"
            f"CSV: {self.imported.imported} accounts imported from examples/accounts.csv\n"
            f"HubSpot sandbox at {self.sandbox_url}: full sync {self.run.status}: "
            f"{counts.get('fetched', 0):,} companies read, {counts.get('scored', 0):,} scored, "
            f"{counts.get('written', 0):,} written back, {counts.get('api_calls', 0):,} API calls\n"
            f"HubSpot tiers: {tiers}\n"
            f"top {len(self.top)} in HubSpot:\n{top}\n\n"
            f"API: {url}   docs: {url}/docs\n"
            f"admin API key (shown once):\n{self.admin_key}"
        )


async def prepare_demo(database: Database, sandbox_url: str) -> DemoSummary:
    """Apply and activate examples/icp.yaml, import examples/accounts.csv, connect the
    sandbox afresh, run a full sync and mint an admin key."""
    async with database.transaction() as session:
        version, _ = await apply_icp(
            session,
            source=(EXAMPLES / "icp.yaml").read_bytes(),
            content_type="application/yaml",
        )
        version = await activate_icp(session, icp_id=version.id)
    async with database.transaction() as session:
        report = await import_accounts_csv(
            session, content=(EXAMPLES / "accounts.csv").read_bytes()
        )
        connections = ConnectionRepository(session)
        previous = await connections.by_name(DEMO_CONNECTION)
        if previous is not None:
            # The sandbox starts empty of our fields each time; so does the demo connection.
            await connections.delete(previous)
        connection = await create_connection(
            session,
            body=ConnectionCreate(
                kind="hubspot",
                name=DEMO_CONNECTION,
                credentials={"access_token": SANDBOX_TOKEN, "client_secret": SANDBOX_SECRET},
                base_url=sandbox_url,
                settings=DEMO_SETTINGS,
            ),
        )
        run = await request_sync(session, connection_id=connection.id, mode="full")

    def quiet(_: dict[str, Any]) -> None:
        return None

    finished = await follow_sync_run(database, run.id, show=quiet)
    async with database.transaction() as session:
        key = await create_api_key(
            session, name=f"demo {datetime.now(UTC):%Y-%m-%d %H:%M}", scopes=["admin"]
        )
        repository = AccountRepository(session)
        tiers = await repository.tier_counts(connection_id=connection.id)
        top = await repository.top_scored(10, connection_id=connection.id)
    return DemoSummary(version, report, sandbox_url, finished, tiers, top, key)
