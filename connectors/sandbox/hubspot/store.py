"""The in-memory CRM: objects of one type as dicts of string properties, in id order.

Ids only grow, so the live and archived id lists stay sorted by appending; list paging is a
bisect, never a scan. Search scans (HubSpot's search is a separate index anyway) but stays tight.
"""

from __future__ import annotations

import bisect
import gc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from connectors.sandbox.common.demo_data import generate_companies
from connectors.sandbox.hubspot.properties import (
    PropertyCatalog,
    format_datetime,
    format_epoch_ms,
)
from connectors.sandbox.hubspot.property_specs import industry_value, option_value

__all__ = ["CrmObject", "ObjectStore", "PropertyChange", "Sandbox"]

# HubSpot record ids are large integers; each object type gets its own range, as in a real portal.
FIRST_ID: Final = {"companies": 5_000_000_001, "deals": 9_000_000_001}
SINGULAR: Final = {"companies": "company", "deals": "deal"}
_DEMO_INDUSTRY: Final = {"Software": "COMPUTER_SOFTWARE"}


class CrmObject:
    """One record: its id, string properties, timestamps and associations."""

    __slots__ = (
        "archived",
        "archived_at",
        "associations",
        "created_at",
        "id",
        "properties",
        "updated_at",
    )

    def __init__(
        self, object_id: int, properties: dict[str, str], created_at: str, updated_at: str
    ) -> None:
        self.id = object_id
        self.properties = properties
        self.created_at = created_at
        self.updated_at = updated_at
        self.archived = False
        self.archived_at: str | None = None
        self.associations: dict[str, list[int]] = {}


@dataclass(frozen=True)
class PropertyChange:
    """A value that changed on a record: what webhooks report."""

    object_id: int
    name: str
    value: str | None


@dataclass
class ObjectStore:
    """Every record of one object type."""

    object_type: str
    catalog: PropertyCatalog
    records: dict[int, CrmObject] = field(default_factory=dict)
    live_ids: list[int] = field(default_factory=list)
    archived_ids: list[int] = field(default_factory=list)
    next_id: int = 0

    def __post_init__(self) -> None:
        self.next_id = FIRST_ID[self.object_type]

    def clear(self) -> None:
        """Forget every record; ids start again from the first one."""
        self.records.clear()
        self.live_ids.clear()
        self.archived_ids.clear()
        self.next_id = FIRST_ID[self.object_type]

    def get(self, object_id: int | str, *, archived: bool = False) -> CrmObject | None:
        """The record, if it exists and its archived state is the one asked for."""
        try:
            record = self.records.get(int(object_id))
        except (TypeError, ValueError):
            return None
        if record is None or record.archived != archived:
            return None
        return record

    def add(
        self, properties: dict[str, str], *, now: str, created_at: str | None = None
    ) -> CrmObject:
        """Store a new record with the next id."""
        object_id = self.next_id
        self.next_id += 1
        created = created_at or now
        properties["hs_object_id"] = str(object_id)
        properties["createdate"] = properties.get("createdate") or created
        properties["hs_lastmodifieddate"] = now
        record = CrmObject(object_id, properties, properties["createdate"], now)
        self.records[object_id] = record
        self.live_ids.append(object_id)
        return record

    def update(
        self, record: CrmObject, values: dict[str, str | None], *, now: str
    ) -> list[PropertyChange]:
        """Apply normalised values; bump the modification date only if something changed."""
        properties = record.properties
        changes = []
        for name, value in values.items():
            if properties.get(name) == value:
                continue
            if value is None:
                properties.pop(name, None)
            else:
                properties[name] = value
            changes.append(PropertyChange(record.id, name, value))
        if changes:
            properties["hs_lastmodifieddate"] = now
            record.updated_at = now
        return changes

    def archive(self, record: CrmObject, *, now: str) -> None:
        """Move a record to the archive (HubSpot's recycle bin)."""
        if record.archived:
            return
        record.archived = True
        record.archived_at = now
        record.updated_at = now
        del self.live_ids[bisect.bisect_left(self.live_ids, record.id)]
        bisect.insort(self.archived_ids, record.id)

    def page(
        self, after: int, limit: int, *, archived: bool = False
    ) -> tuple[list[CrmObject], int | None]:
        """Records with id ≥ ``after``, at most ``limit``, and the cursor of the next page."""
        ids = self.archived_ids if archived else self.live_ids
        start = bisect.bisect_left(ids, after)
        chunk = ids[start : start + limit + 1]
        records = self.records
        page = [records[i] for i in chunk[:limit]]
        next_after = chunk[limit] if len(chunk) > limit else None
        return page, next_after

    def live(self) -> Iterator[CrmObject]:
        """Every live record, in id order."""
        records = self.records
        return (records[i] for i in self.live_ids)


def _number(value: float | int) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _company_properties(company: dict[str, Any]) -> dict[str, str]:
    props: dict[str, str] = {"name": company["name"], "domain": company["domain"]}
    industry = company["industry"]
    props["industry"] = _DEMO_INDUSTRY.get(industry) or industry_value(industry)
    for key, name in (
        ("employees", "numberofemployees"),
        ("annual_revenue", "annualrevenue"),
        ("total_funding", "total_money_raised"),
        ("nps", "nps_score"),
    ):
        if company[key] is not None:
            props[name] = _number(company[key])
    for key, name in (
        ("country", "country"),
        ("state", "state"),
        ("city", "city"),
        ("funding_stage", "funding_stage"),
        ("lifecycle_stage", "lifecyclestage"),
    ):
        if company[key]:
            props[name] = company[key]
    if company["founded_year"] is not None:
        props["founded_year"] = str(company["founded_year"])
    if company["tech_stack"]:
        props["web_technologies"] = ";".join(option_value(t) for t in company["tech_stack"])
    for key in ("has_inhouse_seo", "is_competitor"):
        if company[key] is not None:
            props[key] = "true" if company[key] else "false"
    deals = company["deals"]
    props["hs_num_open_deals"] = str(sum(1 for d in deals if d["outcome"] == "open"))
    won = sum(d["amount"] for d in deals if d["outcome"] == "won")
    if won:
        props["total_revenue"] = _number(won)
    return props


def _midnight(day: date) -> str:
    return f"{day.isoformat()}T00:00:00.000Z"


def _deal_properties(deal: dict[str, Any]) -> dict[str, str]:
    closed = deal["outcome"] != "open"
    return {
        "dealname": deal["name"],
        "amount": _number(deal["amount"]),
        "dealstage": deal["stage"],
        "pipeline": "default",
        "closedate": _midnight(deal["close_date"]),
        "dealtype": "newbusiness" if deal["name"].endswith("New business") else "existingbusiness",
        "hs_is_closed": "true" if closed else "false",
        "hs_is_closed_won": "true" if deal["outcome"] == "won" else "false",
        "createdate": _midnight(deal["created_date"]),
    }


class Sandbox:
    """The whole fake portal: companies, deals and their associations."""

    def __init__(self) -> None:
        self.stores: dict[str, ObjectStore] = {
            object_type: ObjectStore(object_type, PropertyCatalog(object_type))
            for object_type in FIRST_ID
        }

    @property
    def companies(self) -> ObjectStore:
        """The companies."""
        return self.stores["companies"]

    @property
    def deals(self) -> ObjectStore:
        """The deals."""
        return self.stores["deals"]

    def reset(
        self,
        *,
        seed: int,
        companies: int,
        deals_per_company: int,
        same_timestamp: bool = False,
        now: datetime | None = None,
    ) -> dict[str, int]:
        """Replace all records with ``companies`` seeded demo companies and their deals.

        Creation and modification dates lie within the year before ``now``; with
        ``same_timestamp`` every company shares one ``hs_lastmodifieddate`` (one second before
        ``now``), which is what it takes to hit the 10,000-result search cap on one value.
        """
        for store in self.stores.values():
            store.clear()
            store.catalog = PropertyCatalog(store.object_type)
        # Millions of long-lived dicts: cyclic GC passes over them would dominate seeding time.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._seed(seed, companies, deals_per_company, same_timestamp, now)
        finally:
            if gc_was_enabled:
                gc.enable()

    def _seed(
        self,
        seed: int,
        companies: int,
        deals_per_company: int,
        same_timestamp: bool,
        now: datetime | None,
    ) -> dict[str, int]:
        now = now or datetime.now(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        now_ms = int(now.timestamp() * 1000)
        shared = format_datetime(now - timedelta(seconds=1))
        year_ms = 365 * 86_400_000
        company_store, deal_store = self.companies, self.deals
        deal_count = 0
        for index, company in enumerate(
            generate_companies(
                seed, companies, deals_per_company=deals_per_company, today=now.date()
            )
        ):
            # Spread over the last year deterministically from the index: later ids, later dates.
            age = year_ms - (index * 7_919_993) % year_ms
            created_ms = now_ms - age - 86_400_000
            modified_ms = created_ms + (index * 104_729) % (age + 1)
            created = format_epoch_ms(created_ms)
            modified = shared if same_timestamp else format_epoch_ms(modified_ms)
            record = company_store.add(
                _company_properties(company), now=modified, created_at=created
            )
            deal_ids = []
            for deal in company["deals"]:
                deal_created = _midnight(deal["created_date"])
                deal_record = deal_store.add(
                    _deal_properties(deal), now=max(modified, deal_created), created_at=deal_created
                )
                deal_record.associations["companies"] = [record.id]
                deal_ids.append(deal_record.id)
                deal_count += 1
            if deal_ids:
                record.associations["deals"] = deal_ids
        return {"companies": companies, "deals": deal_count}

    def associate(self, deal_id: int, company_ids: Iterable[int]) -> None:
        """Link a deal to companies, both ways."""
        deal = self.deals.records[deal_id]
        for company_id in company_ids:
            company = self.companies.records.get(company_id)
            if company is None:
                continue
            linked = deal.associations.setdefault("companies", [])
            if company_id not in linked:
                linked.append(company_id)
                company.associations.setdefault("deals", []).append(deal_id)
