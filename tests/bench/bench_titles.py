"""Title classifier throughput: ``python -m tests.bench.bench_titles``.

Titles come from the seeded demo contacts (as CRMs hold them: abbreviations, suffixes, case).
Two figures, best of 3, on one core:

- ``distinct``: every distinct title classified from scratch (the cache bypassed): the cost of
  the tables themselves;
- ``stream``: 300,000 contacts' titles in CRM order through the cached classifier, as a sync
  classifies them (titles repeat: a CRM has far fewer distinct titles than contacts).
"""

from __future__ import annotations

import time
from datetime import date

from app.scoring.titles import classify_title
from connectors.sandbox.common.demo_data import generate_companies

TARGET_PER_SECOND = 200_000


def _titles(companies: int) -> list[str | None]:
    return [
        contact["title"]
        for company in generate_companies(
            5, companies, contacts_per_company=3, deals_per_company=0, today=date(2026, 1, 1)
        )
        for contact in company["contacts"]
    ]


def _best_rate(count: int, work: object) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        work()  # type: ignore[operator]
        best = min(best, time.perf_counter() - started)
    return count / best


def run() -> list[str]:
    """Result lines."""
    stream = _titles(100_000)
    distinct = [t for t in dict.fromkeys(stream) if t]
    uncached = classify_title.__wrapped__

    def classify_distinct() -> None:
        for title in distinct * 20:
            uncached(title)

    def classify_stream() -> None:
        classify_title.cache_clear()
        for title in stream:
            classify_title(title)

    cold = _best_rate(20 * len(distinct), classify_distinct)
    warm = _best_rate(len(stream), classify_stream)
    return [
        f"title classifier, {len(distinct):,} distinct titles from scratch: {cold:,.0f} titles/s "
        f"on one core (target ≥ {TARGET_PER_SECOND:,})",
        f"title classifier, {len(stream):,} contacts' titles as a sync meets them (cached): "
        f"{warm:,.0f} titles/s",
    ]


if __name__ == "__main__":
    print("\n".join(run()))
