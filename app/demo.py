"""``icp-sync demo``: a working instance in one command, for a first look.

It starts the HubSpot and Salesforce sandboxes with seeded companies, connects them, applies
the example ICP, imports the sample CSV, runs a full sync of each, points each sandbox's
webhooks at the service (so an edit in the CRM is rescored within seconds) and prints what
happened. Run again, it reuses what it made: the ICP version, its connections (the sandboxes
start afresh, and so do they) and its admin key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.repository import AccountRepository
from app.accounts.service import ImportReport, import_accounts_csv
from app.apikeys.service import authenticate, create_api_key
from app.connections.repository import ConnectionRepository
from app.connections.schemas import ConnectionCreate, ConnectionSettings
from app.connections.service import create_connection
from app.contacts.repository import ContactRepository
from app.core.db import Database
from app.core.errors import Unauthorized
from app.core.security import Scope
from app.icps.service import activate_icp, apply_icp, compiled_icp, get_active_icp
from app.insights.schemas import Window
from app.insights.service import backtest_icp
from app.models import Account, AccountScore, IcpVersion, SyncRun
from app.scoring.reasons import SEPARATOR, join_within
from app.sync.pipeline import follow_sync_run
from app.sync.service import request_sync
from connectors.sandbox.common.admin_client import SandboxAdmin
from connectors.sandbox.common.server import RunningServer, start_server
from connectors.sandbox.hubspot import create_app as hubspot_app
from connectors.sandbox.salesforce import create_app as salesforce_app
from connectors.sandbox.salesforce import tls_files

# Shipped inside the package (package data), so the demo runs from any install; the
# top-level examples/ of a checkout points here.
EXAMPLES = resources.files("app") / "examples"
DEMO_COMPANIES = 2_000
# Each with two deals (the fakes' default) and three people, for outcomes and personas.
DEMO_CONTACTS_PER_COMPANY = 3
SANDBOX_TOKEN = "sandbox-token"
SANDBOX_SECRET = "sandbox-secret"
# The ?secret= of the Salesforce sandbox's Outbound Messages to the demo (16+ characters).
OUTBOUND_SECRET = "demo-outbound-secret"
# The demo's admin key, kept owner-only in the data dir so a second run reuses it.
DEMO_KEY_FILE = "demo-admin.key"


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
    ca_file: str | None = None

    @property
    def records(self) -> str:
        """What this CRM calls the records icp-sync scores."""
        return "companies" if self.kind == "hubspot" else "accounts"

    def admin(self) -> SandboxAdmin:
        """A client for this sandbox's ``/_sandbox/`` admin endpoints."""
        return SandboxAdmin(self.server.url, verify=self.ca_file or True)

    def send_webhooks_to(self, service_url: str, connection_id: Any) -> None:
        """Point the sandbox's change notifications at the service."""
        with self.admin() as admin:
            if self.kind == "hubspot":
                admin.webhooks(f"{service_url}/webhooks/hubspot/{connection_id}")
            else:
                target = f"{service_url}/webhooks/salesforce/{connection_id}"
                admin.post("outbound", {"target_url": f"{target}?secret={OUTBOUND_SECRET}"})

    def edit_command(self) -> str:
        """The one command that makes a rep's edit in this sandbox."""
        return (
            f"curl -s{'k' if self.ca_file else ''} -X POST {self.server.url}/_sandbox/edits "
            "-H 'Content-Type: application/json' -d '{\"count\": 1}'"
        )


def start_demo_sandboxes(*, port: int, data_dir: Path) -> list[DemoCrm]:
    """HubSpot at ``port`` and Salesforce (https, local CA) at ``port + 1``, seeded, in
    background threads of this process (``port=0``: any free ports)."""
    hubspot = start_server(
        hubspot_app(
            token=SANDBOX_TOKEN,
            client_secret=SANDBOX_SECRET,
            seed=1,
            companies=DEMO_COMPANIES,
            contacts_per_company=DEMO_CONTACTS_PER_COMPANY,
        ),
        port=port,
    )
    ca, cert, key = tls_files(data_dir)
    salesforce = start_server(
        salesforce_app(
            token=SANDBOX_TOKEN,
            seed=2,
            accounts=DEMO_COMPANIES,
            contacts_per_account=DEMO_CONTACTS_PER_COMPANY,
        ),
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
            credentials={
                "instance_url": salesforce.url,
                "access_token": SANDBOX_TOKEN,
                "webhook_secret": OUTBOUND_SECRET,
            },
            settings=demo_settings("salesforce").model_copy(
                update={"ca_bundle": Path(ca).read_text()}
            ),
            ca_file=ca,
        ),
    ]


@dataclass(slots=True)
class CrmOutcome:
    """What the demo's full sync of one CRM did."""

    crm: DemoCrm
    run: SyncRun
    stats: dict[str, Any]
    top: list[tuple[Account, AccountScore]]
    # Contacts matching each persona of the active ICP, by label.
    personas: dict[str, int]
    # The active ICP's backtest on this CRM's seeded deals.
    backtest: dict[str, Any]

    def render(self) -> str:
        """A few lines about this CRM."""
        counts = self.run.counts
        tiers = "  ".join(f"{t}: {self.stats['tiers'][t]:,}" for t in "ABCD")
        top = "\n".join(
            f"  {score.score:>3} {score.tier}  {(account.name or account.external_id)[:30]:<30} "
            f"{_whole_reasons(score.reasons, width=90)}"
            for account, score in self.top
        )
        error = f" ({self.run.error})" if self.run.error else ""
        personas = " · ".join(f"{label} {n:,}" for label, n in self.personas.items())
        sample = self.backtest["sample"]
        win_rates = " · ".join(
            f"{t['tier']} {100 * t['win_rate']:.0f}%"
            if t["win_rate"] is not None
            else f"{t['tier']} —"
            for t in self.backtest["tiers"]
        )
        auc = f", AUC {self.backtest['auc']:.2f}" if self.backtest["auc"] is not None else ""
        return (
            f"{self.crm.name} at {self.crm.server.url}: full sync {self.run.status}{error}: "
            f"{counts.get('fetched', 0):,} {self.crm.records} read, "
            f"{counts.get('scored', 0):,} scored, {counts.get('written', 0):,} written back, "
            f"{counts.get('api_calls', 0):,} API calls\n"
            f"  tiers: {tiers}   MQL: {self.stats['mql']:,}  SQL: {self.stats['sql']:,}\n"
            f"  deals: {counts.get('deals_fetched', 0):,} read; contacts: "
            f"{counts.get('contacts_fetched', 0):,} read ({personas or 'no personas'})\n"
            f"  win rate by tier on the {sample['accounts']:,} accounts with closed deals: "
            f"{win_rates}{auc}\n"
            f"  top {len(self.top)}:\n{top}"
        )


def _whole_reasons(reasons: str, *, width: int) -> str:
    """As many of a verdict's reasons as fit in ``width``, never one cut short."""
    return join_within(reasons.split(SEPARATOR), width)


@dataclass(slots=True)
class DemoSummary:
    """What the demo set up, to print."""

    icp: IcpVersion
    imported: ImportReport
    crms: list[CrmOutcome]
    admin_key: str

    def render(self, url: str) -> str:
        """The text a newcomer reads first."""
        hubspot = next((o.crm for o in self.crms if o.crm.kind == "hubspot"), None)
        edit = (
            [
                "Each sandbox sends its changes to the service's webhooks. Make a rep's edit and",
                "watch the company's icp_* properties change within seconds:",
                f"  {hubspot.edit_command()}",
                f"  curl -s {hubspot.server.url}/_sandbox/companies/<an id it printed>",
            ]
            if hubspot
            else []
        )
        return "\n".join(
            [
                f"ICP: {self.icp.label} (active)",
                f"CSV: {self.imported.imported} accounts imported from examples/accounts.csv",
                *(outcome.render() for outcome in self.crms),
                "",
                *edit,
                "",
                f"Dashboard: {url}/   API: {url}/api/v1   docs: {url}/docs",
                f"admin API key, to sign in to the dashboard and call the API (kept in "
                f"{DEMO_KEY_FILE} of the data dir for the next run):",
                self.admin_key,
            ]
        )


async def prepare_demo(
    database: Database, crms: list[DemoCrm], *, service_url: str, data_dir: Path
) -> DemoSummary:
    """Apply and activate examples/icp.yaml (no new version when unchanged), import
    examples/accounts.csv, connect each sandbox afresh, run a full sync of each, point its
    webhooks at ``service_url``, and reuse (or mint) the demo's admin key."""
    async with database.transaction() as session:
        version, _ = await apply_icp(
            session,
            source=(EXAMPLES / "icp.yaml").read_bytes(),
            content_type="application/yaml",
        )
        version = (await activate_icp(session, icp_id=version.id)).version
    async with database.transaction() as session:
        report = await import_accounts_csv(
            session, content=(EXAMPLES / "accounts.csv").read_bytes()
        )
    outcomes = [await _connect_and_sync(database, crm, service_url) for crm in crms]
    async with database.transaction() as session:
        key = await _demo_admin_key(session, data_dir)
    return DemoSummary(version, report, outcomes, key)


async def _demo_admin_key(session: AsyncSession, data_dir: Path) -> str:
    """The key an earlier run made, while it still works; else a new one, kept owner-only."""
    kept = _kept_key(data_dir)
    if kept is not None:
        try:
            await authenticate(session, token=kept, scope=Scope.ADMIN)
            return kept
        except Unauthorized:
            pass  # revoked, or the database was reset: make another
    key = await create_api_key(session, name="demo", scopes=["admin"])
    _keep_key(data_dir, key)
    return key


def _kept_key(data_dir: Path) -> str | None:
    path = data_dir.expanduser() / DEMO_KEY_FILE
    return path.read_text().strip() if path.exists() else None


def _keep_key(data_dir: Path, key: str) -> None:
    path = data_dir.expanduser() / DEMO_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")


async def _connect_and_sync(database: Database, crm: DemoCrm, service_url: str) -> CrmOutcome:
    settings = crm.settings
    if crm.kind == "salesforce":
        with crm.admin() as admin:
            organization = admin.get("outbound")["organization_id"]
        settings = settings.model_copy(update={"salesforce_organization_id": organization})
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
                settings=settings,
            ),
        )
        run = await request_sync(session, connection_id=connection.id, mode="full")

    def quiet(_: dict[str, Any]) -> None:
        return None

    finished = await follow_sync_run(database, run.id, show=quiet)
    # Wired after the full sync, so its own write-backs do not come back as a flood of echoes.
    crm.send_webhooks_to(service_url, connection.id)
    async with database.transaction() as session:
        repository = AccountRepository(session)
        stats = await repository.stats(connection_id=connection.id)
        top = await repository.top_scored(10, connection_id=connection.id)
        active = await get_active_icp(session)
        contacts = ContactRepository(session)
        personas = {
            persona.label or persona.id: await contacts.count_matching(connection.id, persona)
            for persona in compiled_icp(active).definition.personas
        }
        backtest = await backtest_icp(
            session, icp_id=active.id, window=Window(connection_ids=[connection.id])
        )
    return CrmOutcome(crm, finished, stats, top, personas, backtest)
