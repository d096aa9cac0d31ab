"""Rescore of 1,000,000 stored accounts on the embedded PostgreSQL (target ≤ 60 s).

Loads a million canonical accounts with COPY, activates examples/icp.yaml and times the
rescore job's body: read → score → bulk write, with a history row for every change. Three
passes: first verdicts (every account new), a changed ICP (every verdict rewritten), and an
unchanged ICP (nothing to write).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path

import orjson
import psycopg
import yaml

from app.core.config import Settings
from app.core.db import close_database, libpq_conninfo, open_database, start_embedded_postgres
from app.core.migrations import upgrade_to_head
from app.jobs.runtime import open_job_queue
from connectors.sandbox.demo_accounts import demo_accounts

ACCOUNTS = int(os.environ.get("BENCH_RESCORE_ACCOUNTS", 1_000_000))
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(conninfo: str) -> None:
    connection_id = uuid.uuid4()
    with psycopg.connect(conninfo) as connection:
        connection.execute(
            "INSERT INTO connections (id, kind, name) VALUES (%s, 'import', 'import')",
            (connection_id,),
        )
        with connection.cursor().copy(
            "COPY accounts (connection_id, external_id, name, domain, data) FROM STDIN"
        ) as copy:
            for external_id, data in demo_accounts(7, ACCOUNTS):
                copy.write_row(
                    (
                        connection_id,
                        external_id,
                        data["name"],
                        data["domain"],
                        orjson.dumps(data).decode(),
                    )
                )
        connection.execute("ANALYZE accounts")


async def _rescore(
    settings: Settings, definition: dict[str, object] | None
) -> tuple[float, dict[str, int]]:
    """Activate ``definition`` as a new version (None: keep the active one), then rescore."""
    from app.accounts.tasks import rescore_all_accounts
    from app.icps.service import activate_icp, create_icp

    database = open_database(settings)
    if definition is not None:
        async with database.transaction() as session:
            version = await create_icp(session, source=definition, content_type="application/json")
            await activate_icp(session, icp_id=version.id)
    started = time.perf_counter()
    counts = await rescore_all_accounts(icp_version_id="bench")
    return time.perf_counter() - started, counts


def run() -> list[str]:
    """Load, then time three rescore passes."""
    with tempfile.TemporaryDirectory(prefix="icp-bench-") as data_dir:
        url = start_embedded_postgres(Path(data_dir))
        upgrade_to_head(url)
        started = time.perf_counter()
        _load(libpq_conninfo(url))
        load_s = time.perf_counter() - started
        settings = Settings(
            database_url=url.render_as_string(hide_password=False),
            data_dir=Path(data_dir),
            _env_file=None,
        )  # type: ignore[call-arg]
        icp = yaml.safe_load((EXAMPLES / "icp.yaml").read_text())
        changed = dict(
            icp,
            criteria=[
                dict(c, weight=c["weight"] + (5 if c["weight"] > 0 else -5))
                for c in icp["criteria"]
            ],
        )

        async def passes() -> list[tuple[float, dict[str, int]]]:
            async with open_job_queue(url, max_size=2):
                results = [
                    await _rescore(settings, icp),
                    await _rescore(settings, changed),
                    await _rescore(settings, None),
                ]
            await close_database()
            return results

        (first_s, first), (changed_s, second), (same_s, third) = asyncio.run(passes())
    target = "target ≤ 60 s"
    return [
        f"rescore, first verdicts: {ACCOUNTS:,} accounts in {first_s:.1f} s "
        f"({ACCOUNTS / first_s:,.0f}/s; {first['history']:,} history rows) — {target}",
        f"rescore, changed ICP: {ACCOUNTS:,} accounts in {changed_s:.1f} s "
        f"({second['changed']:,} verdicts rewritten, {second['history']:,} history rows) — {target}",
        f"rescore, unchanged ICP: {ACCOUNTS:,} accounts in {same_s:.1f} s "
        f"({third['changed']:,} rewritten)",
        f"(loading {ACCOUNTS:,} accounts with COPY took {load_s:.1f} s; not part of the figure)",
    ]


if __name__ == "__main__":
    for line in run():
        print(line)
