"""Scoring throughput: ``python -m tests.bench.bench_scoring [N]``.

Builds N deterministic accounts shaped like CRM data (typed values mixed with raw strings,
missing fields, a few competitors), compiles ``examples/icp.yaml`` and times scoring them all
with the full breakdown, on one core. Figures are best of 3 repetitions:

- ``scoring``: the steady state (one compiled ICP reused, as in a sync or a rescore);
- ``fresh_compile``: a new CompiledIcp each repetition, so its result memo starts empty,
  and the process-wide caches of coerced CRM strings are emptied too (a cold start);
- ``no_memo``: every result rebuilt (``memo_size=0``), the worst case.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.scoring import CompiledIcp, IcpDefinition, compile_icp, parse_definition, score_account
from app.scoring.engine import clear_value_caches

TARGET_PER_SECOND = 250_000
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "icp.yaml"

COUNTRIES = ["US", "US", "US", "us", "United States", "USA", "GB", "UK", "DE", "France", "CA", ""]
INDUSTRIES = [
    "Online Media",
    "online media",
    "Publishing",
    " publishing ",
    "Media Production",
    "Software",
    "Retail",
    "Financial Services",
    "",
]
STAGES = ["Seed", "Series A", "series_a", "Series B", "series_c", "Growth", "IPO", ""]
STACK = [
    "WordPress",
    "Sitecore",
    "Contentful",
    "Adobe Experience Manager",
    "HubSpot CMS",
    "Google Analytics",
    "Custom CMS",
    "React",
]


def make_accounts(n: int, *, seed: int = 42) -> list[dict[str, Any]]:
    """``n`` varied, deterministic canonical accounts, about a third with raw string values."""
    rng = random.Random(seed)
    accounts: list[dict[str, Any]] = []
    for index in range(n):
        raw = rng.random() < 0.35
        account: dict[str, Any] = {"external_id": str(index), "name": f"Company {index}"}
        if rng.random() < 0.9:
            account["country"] = rng.choice(COUNTRIES)
        if rng.random() < 0.85:
            account["industry"] = rng.choice(INDUSTRIES)
        if rng.random() < 0.6:
            account["funding_stage"] = rng.choice(STAGES)
        if rng.random() < 0.7:
            funding = rng.choice([0, 500_000, 2_000_000, 3_000_000, 12_500_000, 80_000_000])
            account["total_funding"] = f"{funding:,}" if raw else float(funding)
        if rng.random() < 0.9:
            employees = rng.choice([3, 8, 12, 45, 120, 800, 5000])
            account["employees"] = str(employees) if raw else employees
        if rng.random() < 0.75:
            stack = rng.sample(STACK, rng.randint(0, 4))
            account["tech_stack"] = ";".join(stack) if raw else stack
        if rng.random() < 0.8:
            account["open_deals"] = rng.choice(["0", "1", "3"] if raw else [0, 0, 1, 2])
        attributes: dict[str, Any] = {}
        if rng.random() < 0.6:
            seo = rng.random() < 0.5
            attributes["has_inhouse_seo"] = ("true" if seo else "false") if raw else seo
        if rng.random() < 0.02:
            attributes["is_competitor"] = True
        if attributes or rng.random() < 0.5:
            account["attributes"] = attributes
        accounts.append(account)
    return accounts


def load_example() -> IcpDefinition:
    """The ICP of DESIGN §3.2, from ``examples/icp.yaml``."""
    return parse_definition(EXAMPLE.read_text(encoding="utf-8"), content_type="application/yaml")


def _cold(definition: IcpDefinition) -> CompiledIcp:
    clear_value_caches()
    return compile_icp(definition)


def _best_rate(
    accounts: list[dict[str, Any]], compiled_for_run: Callable[[], CompiledIcp], repeat: int
) -> float:
    best = float("inf")
    for _ in range(repeat):
        compiled = compiled_for_run()
        started = time.perf_counter()
        for account in accounts:
            score_account(compiled, account)
        best = min(best, time.perf_counter() - started)
    return len(accounts) / best


def measure(n: int = 200_000, *, repeat: int = 3) -> dict[str, Any]:
    """Time scoring ``n`` accounts; returns accounts per second for each regime."""
    definition = load_example()
    accounts = make_accounts(n)
    steady = compile_icp(definition)
    for account in accounts[:10_000]:
        score_account(steady, account)  # warm the memo and the value caches
    figures: dict[str, Any] = {
        "accounts": n,
        "scoring": _best_rate(accounts, lambda: steady, repeat),
        "fresh_compile": _best_rate(accounts, lambda: _cold(definition), repeat),
        "no_memo": _best_rate(accounts, lambda: compile_icp(definition, memo_size=0), repeat),
        "distinct_results": len(steady._memo),
        "target": TARGET_PER_SECOND,
    }
    return figures


def run(n: int = 200_000) -> list[str]:
    """The figures as result lines (what ``make bench`` prints and records)."""
    figures = measure(n)
    return [
        f"scoring with full breakdown, one core: {figures['scoring']:,.0f} accounts/s "
        f"(target ≥ {TARGET_PER_SECOND:,})",
        f"scoring, fresh compile and cold caches: {figures['fresh_compile']:,.0f} accounts/s",
        f"scoring, no memo (every result rebuilt): {figures['no_memo']:,.0f} accounts/s",
        f"({figures['accounts']:,} accounts, {figures['distinct_results']:,} distinct results)",
    ]


def main() -> None:
    """Print the figures, one per line."""
    for line in run(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000):
        print(line)


if __name__ == "__main__":
    main()
