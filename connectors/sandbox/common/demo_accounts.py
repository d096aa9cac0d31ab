"""The sandbox's demo companies in canonical form (DESIGN §3.1), for CSV samples and benchmarks.

``python -m connectors.sandbox.common.demo_accounts --count 400 > examples/accounts.csv``
regenerates the sample CSV; the same seed always gives the same file.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterator
from datetime import date
from typing import Any, TextIO

from connectors.sandbox.common.demo_data import generate_companies

# Deal dates are relative to a fixed day, so the sample is byte-for-byte reproducible.
SAMPLE_DAY = date(2026, 11, 1)
CSV_COLUMNS = [
    "external_id",
    "name",
    "domain",
    "industry",
    "employees",
    "annual_revenue",
    "country",
    "region",
    "city",
    "funding_stage",
    "total_funding",
    "founded_year",
    "tech_stack",
    "lifecycle_stage",
    "is_customer",
    "open_deals",
    "lifetime_value",
    "nps",
    "attributes.has_inhouse_seo",
    "attributes.is_competitor",
]


def canonical_account(company: dict[str, Any]) -> dict[str, Any]:
    """A demo company as canonical fields (raw values kept, as a CRM export has them)."""
    deals = company["deals"]
    won = [d["amount"] for d in deals if d["outcome"] == "won"]
    account = {
        "name": company["name"],
        "domain": company["domain"],
        "industry": company["industry"],
        "employees": company["employees"],
        "annual_revenue": company["annual_revenue"],
        "country": company["country"],
        "region": company["state"],
        "city": company["city"],
        "funding_stage": company["funding_stage"],
        "total_funding": company["total_funding"],
        "founded_year": company["founded_year"],
        "tech_stack": company["tech_stack"],
        "lifecycle_stage": company["lifecycle_stage"],
        "is_customer": company["lifecycle_stage"] == "customer",
        "open_deals": sum(1 for d in deals if d["outcome"] == "open"),
        "lifetime_value": float(sum(won)) if won else None,
        "nps": company["nps"],
        "attributes": {
            key: company[key]
            for key in ("has_inhouse_seo", "is_competitor")
            if company[key] is not None
        },
    }
    return {key: value for key, value in account.items() if value not in (None, {}, [])}


def demo_accounts(
    seed: int, count: int, *, today: date = SAMPLE_DAY
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(external id, canonical account) for ``count`` demo companies."""
    for index, company in enumerate(generate_companies(seed, count, today=today)):
        yield f"demo-{seed}-{index:07d}", canonical_account(company)


def write_csv(out: TextIO, *, seed: int, count: int) -> None:
    """The sample CSV: canonical columns, ``;``-separated tech stack, attributes.* columns."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for external_id, account in demo_accounts(seed, count):
        attributes = account.get("attributes", {})
        row: list[Any] = []
        for column in CSV_COLUMNS:
            if column == "external_id":
                value: Any = external_id
            elif column.startswith("attributes."):
                value = attributes.get(column.removeprefix("attributes."))
            else:
                value = account.get(column)
            if isinstance(value, list):
                value = ";".join(value)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, float) and value.is_integer():
                value = int(value)
            row.append("" if value is None else value)
        writer.writerow(row)


def main() -> None:
    """Write the sample CSV to stdout."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--count", type=int, default=400)
    args = parser.parse_args()
    write_csv(sys.stdout, seed=args.seed, count=args.count)


if __name__ == "__main__":
    main()
