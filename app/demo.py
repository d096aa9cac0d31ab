"""``icp-sync demo``: a working instance in one command, for a first look."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.accounts.repository import AccountRepository
from app.accounts.service import ImportReport, import_accounts_csv
from app.apikeys.service import create_api_key
from app.core.db import Database
from app.icps.service import activate_icp, apply_icp
from app.models import Account, AccountScore, IcpVersion

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@dataclass(slots=True)
class DemoSummary:
    """What the demo set up, to print."""

    icp: IcpVersion
    imported: ImportReport
    tiers: dict[str, int]
    top: list[tuple[Account, AccountScore]]
    admin_key: str

    def render(self, url: str) -> str:
        """The text a newcomer reads first."""
        tiers = "  ".join(f"{t}: {self.tiers.get(t, 0)}" for t in "ABCD")
        top = "\n".join(
            f"  {score.score:>3} {score.tier}  {(account.name or account.external_id)[:32]:<32} "
            f"{score.reasons[:120]}"
            for account, score in self.top
        )
        return (
            f"ICP: {self.icp.label} (active)\n"
            f"accounts: {self.imported.imported} imported from examples/accounts.csv\n"
            f"tiers: {tiers}\n"
            f"top {len(self.top)}:\n{top}\n\n"
            f"API: {url}   docs: {url}/docs\n"
            f"admin API key (shown once):\n{self.admin_key}"
        )


async def prepare_demo(database: Database) -> DemoSummary:
    """Apply and activate examples/icp.yaml, import examples/accounts.csv, mint an admin key."""
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
        key = await create_api_key(
            session, name=f"demo {datetime.now(UTC):%Y-%m-%d %H:%M}", scopes=["admin"]
        )
        repository = AccountRepository(session)
        tiers = await repository.tier_counts()
        top = await repository.top_scored(10)
    return DemoSummary(version, report, tiers, top, key)
