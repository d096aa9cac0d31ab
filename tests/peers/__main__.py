"""``make peers``: the ecosystem's own extractors, unchanged, against freshly seeded fakes, side
by side with icp-sync's own full sync of the same data (DESIGN §7's fidelity bar).

Not part of ``make test``: it installs third-party packages (pinned, each in its own
virtualenv under ``.peers/``). Prints, per peer, records per stream against what the fake
holds, errors, calls and seconds, and writes the figures into README's Peers section.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.bench.bench_sync import _timed_sync
from tests.bench.harness import sandbox_process
from tests.peers import hubspot, salesforce
from tests.peers.report import PeerReport

README = Path(__file__).resolve().parents[2] / "README.md"
START, END = "<!-- peers:start -->", "<!-- peers:end -->"
# The same data for every extractor: companies with their contacts and deals.
SEED, COMPANIES, CONTACTS_PER_COMPANY, DEALS_PER_COMPANY = 7, 2_000, 3, 2


def icp_sync_lines() -> list[str]:
    """icp-sync's own full sync of the same seeded data, both CRMs: records and calls."""
    lines = []
    with sandbox_process() as sandboxes:
        for kind, url, ca_file in (
            ("hubspot", sandboxes.hubspot_url, None),
            ("salesforce", sandboxes.salesforce_url, sandboxes.ca_file),
        ):
            seconds, counts, stats, *_ = asyncio.run(
                _timed_sync(
                    url,
                    companies=COMPANIES,
                    calls_per_10s=0,
                    seed=SEED,
                    kind=kind,
                    ca_file=ca_file,
                    deals_per_company=DEALS_PER_COMPANY,
                    contacts_per_company=CONTACTS_PER_COMPANY,
                )
            )
            lines.append(
                f"icp-sync ({kind}): {seconds:.1f} s, {stats['total']} calls — companies "
                f"{counts.get('fetched', 0):,}, deals {counts.get('deals_fetched', 0):,}, "
                f"contacts {counts.get('contacts_fetched', 0):,} read; "
                f"{counts.get('written', 0):,} verdicts written"
            )
    return lines


def main(selected: list[str]) -> int:
    """Run the peers (default: all), then icp-sync's own sync; 1 if a peer fell short."""
    peers = {
        "tap-hubspot": lambda: hubspot.run(
            seed=SEED,
            companies=COMPANIES,
            contacts_per_company=CONTACTS_PER_COMPANY,
            deals_per_company=DEALS_PER_COMPANY,
        ),
        "tap-salesforce": lambda: salesforce.run(
            seed=SEED,
            companies=COMPANIES,
            contacts_per_company=CONTACTS_PER_COMPANY,
            deals_per_company=DEALS_PER_COMPANY,
        ),
        "tap-salesforce-bulk": lambda: salesforce.run(
            seed=SEED,
            companies=COMPANIES,
            contacts_per_company=CONTACTS_PER_COMPANY,
            deals_per_company=DEALS_PER_COMPANY,
            api_type="BULK",
        ),
    }
    reports: list[PeerReport] = []
    lines: list[str] = []
    for name, run in peers.items():
        if selected and name not in selected:
            continue
        started = time.perf_counter()
        report = run()
        reports.append(report)
        print(f"[{name}] ({time.perf_counter() - started:.0f}s)")
        for line in report.lines():
            print(f"  {line}")
        lines += report.lines()
    own = icp_sync_lines()
    for line in own:
        print(f"  {line}")
    lines += own
    if not selected:
        stamp = (
            f"Measured {datetime.now(UTC):%Y-%m-%d} with `make peers` ({COMPANIES:,} companies, "
            f"{CONTACTS_PER_COMPANY} contacts and {DEALS_PER_COMPANY} deals each, seed {SEED}):"
        )
        block = "\n".join([START, stamp, "", "```", *lines, "```", END])
        text = README.read_text()
        if START in text and END in text:
            before, rest = text.split(START, 1)
            README.write_text(before + block + rest.split(END, 1)[1])
            print(f"wrote figures to {README.name}")
    return 0 if all(report.passed for report in reports) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
