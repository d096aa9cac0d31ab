"""``icp-sync demo``: a working instance in one command, for a first look.

It starts the HubSpot and Salesforce sandboxes with seeded companies, connects them, applies
the example ICP, imports the sample CSV, runs a full sync of each and prints what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
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
from app.sync.pipeline import follow_sync_run
from app.sync.service import request_sync
from connectors.sandbox.common.server import RunningServer, start_server
from connectors.sandbox.hubspot import create_app as hubspot_app
from connectors.sandbox.salesforce import create_app as salesforce_app
from connectors.sandbox.salesforce import tls_files

# Shipped inside the package (package data), so the demo runs from any install; the
# top-level examples/ of a checkout points here.
EXAMPLES = resources.files("app") / "examples"
DEMO_COMPANIES = 2_000
SANDBOX_TOKEN = "sandbox-token"
SANDBOX_SECRET = "sandbox-secret"


def demo_settings(kind: str) -> ConnectionSettings:
    """How a demo org maps: the sandboxes keep funding stage, NPS, an in-house SEO flag and a
    competitor flag in custom fields (as real orgs would), named here for the example ICP."""
    if kind == "hubspot":
        return ConnectionSettings(
            field_map={"funding_stage": "funding_stage", "nps": "nps_score"},
            extra_properties={
                "has_inhouse_seo": "has_inhouse_seo",
                "is_competitor": "is_competitor",
            },
        )
    return ConnectionSettings(
        field_map={
            "funding_stage": "Funding_Stage__c",
            "total_funding": "Total_Funding__c",
            "nps": "NPS__c",
            "tech_stack": "Tech_Stack__c",
        },
        extra_properties={
            "has_inhouse_seo": "Has_Inhouse_SEO__c",
            "is_competitor": "Is_Competitor__c",
        },
    )


@dataclass(slots=True)
class DemoCrm:
    """One sandboxed CRM the demo connects, and how."""

    kind: str
    name: str
    server: RunningServer
    credentials: dict[str, str]
    settings: ConnectionSettings


def start_demo_sandboxes(*, port: int, data_dir: Path) -> list[DemoCrm]:
    """HubSpot at ``port`` and Salesforce (https, local CA) at ``port + 1``, seeded, in
    background threads of this process (``port=0``: any free ports)."""
    hubspot = start_server(
        hubspot_app(
            token=SANDBOX_TOKEN, client_secret=SANDBOX_SECRET, seed=1, companies=DEMO_COMPANIES
        ),
        port=port,
    )
    ca, cert, key = tls_files(data_dir)
    salesforce = start_server(
        salesforce_app(token=SANDBOX_TOKEN, seed=2, accounts=DEMO_COMPANIES),
        port=port + 1 if port else 0,
        ssl_certfile=cert,
        ssl_keyfile=key,
    )
    return [
        DemoCrm(
            kind="hubspot",
            name="HubSpot sandbox (demo)",
            server=hubspot,
            credentials={"access_token": SANDBOX_TOKEN, "client_secret": SANDBOX_SECRET},
            settings=demo_settings("hubspot"),
        ),
        DemoCrm(
            kind="salesforce",
            name="Salesforce sandbox (demo)",
            server=salesforce,
            credentials={"instance_url": salesforce.url, "access_token": SANDBOX_TOKEN},
            settings=demo_settings("salesforce").model_copy(
                update={"ca_bundle": Path(ca).read_text()}
            ),
        ),
    ]


@dataclass(slots=True)
class CrmOutcome:
    """What the demo's full sync of one CRM did."""

    crm: DemoCrm
    run: SyncRun
    tiers: dict[str, int]
    top: list[tuple[Account, AccountScore]]

    def render(self) -> str:
        """A few lines about this CRM."""
        counts = self.run.counts
        tiers = "  ".join(f"{t}: {self.tiers.get(t, 0):,}" for t in "ABCD")
        top = "\n".join(
            f"  {score.score:>3} {score.tier}  {(account.name or account.external_id)[:30]:<30} "
            f"{score.reasons[:110]}"
            for account, score in self.top
        )
        error = f" ({self.run.error})" if self.run.error else ""
        return (
            f"{self.crm.name} at {self.crm.server.url}: full sync {self.run.status}{error}: "
            f"{counts.get('fetched', 0):,} companies read, {counts.get('scored', 0):,} scored, "
            f"{counts.get('written', 0):,} written back, {counts.get('api_calls', 0):,} API calls\n"
            f"  tiers: {tiers}\n  top {len(self.top)}:\n{top}"
        )


@dataclass(slots=True)
class DemoSummary:
    """What the demo set up, to print."""

    icp: IcpVersion
    imported: ImportReport
    crms: list[CrmOutcome]
    admin_key: str

    def render(self, url: str) -> str:
        """The text a newcomer reads first."""
        return "\n".join(
            [
                f"ICP: {self.icp.label} (active)",
                f"CSV: {self.imported.imported} accounts imported from examples/accounts.csv",
                *(outcome.render() for outcome in self.crms),
                "",
                f"API: {url}   docs: {url}/docs",
                "admin API key (shown once):",
                self.admin_key,
            ]
        )


async def prepare_demo(database: Database, crms: list[DemoCrm]) -> DemoSummary:
    """Apply and activate examples/icp.yaml, import examples/accounts.csv, connect each
    sandbox afresh, run a full sync of each and mint an admin key."""
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
    outcomes = [await _connect_and_sync(database, crm) for crm in crms]
    async with database.transaction() as session:
        key = await create_api_key(
            session, name=f"demo {datetime.now(UTC):%Y-%m-%d %H:%M}", scopes=["admin"]
        )
    return DemoSummary(version, report, outcomes, key)


async def _connect_and_sync(database: Database, crm: DemoCrm) -> CrmOutcome:
    async with database.transaction() as session:
        connections = ConnectionRepository(session)
        previous = await connections.by_name(crm.name)
        if previous is not None:
            # The sandbox starts afresh each time; so does its demo connection.
            await connections.delete(previous)
        connection = await create_connection(
            session,
            body=ConnectionCreate(
                kind=crm.kind,
                name=crm.name,
                credentials=crm.credentials,
                base_url=crm.server.url if crm.kind == "hubspot" else None,
                settings=crm.settings,
            ),
        )
        run = await request_sync(session, connection_id=connection.id, mode="full")

    def quiet(_: dict[str, Any]) -> None:
        return None

    finished = await follow_sync_run(database, run.id, show=quiet)
    async with database.transaction() as session:
        repository = AccountRepository(session)
        tiers = await repository.tier_counts(connection_id=connection.id)
        top = await repository.top_scored(10, connection_id=connection.id)
    return CrmOutcome(crm, finished, tiers, top)
