"""The HubSpot sandbox's search: filters, sorts, totals, paging and the 10,000-result cap."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.companies import PublicObjectSearchRequest
from hubspot.crm.companies.exceptions import ApiException

from connectors.sandbox.common.admin_client import SandboxAdmin

Props = dict[str, Any]


def _everything(client: HubSpot, properties: list[str]) -> list[Props]:
    rows: list[Props] = []
    after = None
    while True:
        page = client.crm.companies.basic_api.get_page(
            limit=100, after=after, properties=properties
        )
        rows.extend({"id": r.id, **r.properties} for r in page.results)
        if page.paging is None:
            return rows
        after = page.paging.next.after


def _search_ids(client: HubSpot, **request: Any) -> tuple[int, list[str]]:
    ids: list[str] = []
    after: str | None = None
    total = 0
    while True:
        result = client.crm.companies.search_api.do_search(
            public_object_search_request=PublicObjectSearchRequest(
                limit=200, after=after, **request
            )
        )
        total = result.total
        ids.extend(r.id for r in result.results)
        if result.paging is None:
            return total, ids
        after = result.paging.next.after


def _num(value: str | None) -> float | None:
    return float(value) if value else None


def _employees(row: Props) -> float | None:
    return _num(row["numberofemployees"])


FILTER_CASES: list[tuple[dict[str, Any], Callable[[Props], bool]]] = [
    (
        {"propertyName": "industry", "operator": "EQ", "value": "ONLINE_MEDIA"},
        lambda r: r["industry"] == "ONLINE_MEDIA",
    ),
    (
        {"propertyName": "industry", "operator": "NEQ", "value": "ONLINE_MEDIA"},
        lambda r: r["industry"] != "ONLINE_MEDIA",
    ),
    (
        {"propertyName": "numberofemployees", "operator": "LT", "value": "10"},
        lambda r: (_employees(r) or 1e99) < 10,
    ),
    (
        {"propertyName": "numberofemployees", "operator": "LTE", "value": "10"},
        lambda r: (_employees(r) or 1e99) <= 10,
    ),
    (
        {"propertyName": "numberofemployees", "operator": "GT", "value": "200"},
        lambda r: (_employees(r) or -1) > 200,
    ),
    (
        {"propertyName": "numberofemployees", "operator": "GTE", "value": "200"},
        lambda r: (_employees(r) or -1) >= 200,
    ),
    (
        {
            "propertyName": "numberofemployees",
            "operator": "BETWEEN",
            "value": "20",
            "highValue": "100",
        },
        lambda r: 20 <= (_employees(r) or -1) <= 100,
    ),
    (
        {"propertyName": "country", "operator": "IN", "values": ["united states", "us", "usa"]},
        lambda r: (r["country"] or "").lower() in {"united states", "us", "usa"},
    ),
    (
        {"propertyName": "lifecyclestage", "operator": "NOT_IN", "values": ["customer", "lead"]},
        lambda r: r["lifecyclestage"] not in {"customer", "lead"},
    ),
    (
        {"propertyName": "nps_score", "operator": "HAS_PROPERTY"},
        lambda r: r["nps_score"] is not None,
    ),
    (
        {"propertyName": "nps_score", "operator": "NOT_HAS_PROPERTY"},
        lambda r: r["nps_score"] is None,
    ),
    (
        {"propertyName": "name", "operator": "CONTAINS_TOKEN", "value": "media"},
        lambda r: "media" in r["name"].lower().split(),
    ),
    (
        {
            "propertyName": "web_technologies",
            "operator": "IN",
            "values": ["sitecore", "contentful"],
        },
        lambda r: bool({"sitecore", "contentful"} & set((r["web_technologies"] or "").split(";"))),
    ),
]


@pytest.mark.parametrize(
    ("spec", "expected"),
    FILTER_CASES,
    ids=[c[0]["operator"] + ":" + c[0]["propertyName"] for c in FILTER_CASES],
)
def test_each_operator_selects_exactly_the_matching_companies(
    hubspot_admin: SandboxAdmin,
    hubspot: HubSpot,
    spec: dict[str, Any],
    expected: Callable[[Props], bool],
) -> None:
    hubspot_admin.reset(seed=3, companies=600)
    rows = _everything(
        hubspot,
        [
            "industry",
            "numberofemployees",
            "country",
            "lifecyclestage",
            "nps_score",
            "name",
            "web_technologies",
        ],
    )
    wanted = [r["id"] for r in rows if expected(r)]

    total, ids = _search_ids(hubspot, filter_groups=[{"filters": [spec]}])

    assert wanted, "the seeded data should exercise the filter"
    assert total == len(wanted)
    assert ids == wanted


def test_filter_groups_are_ored_and_filters_within_a_group_anded(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot
) -> None:
    hubspot_admin.reset(seed=3, companies=600)
    rows = _everything(hubspot, ["industry", "numberofemployees", "lifecyclestage"])
    wanted = [
        r["id"]
        for r in rows
        if (r["industry"] == "PUBLISHING" and (_employees(r) or 0) >= 50)
        or (r["lifecyclestage"] == "customer" and r["industry"] == "ONLINE_MEDIA")
    ]

    total, ids = _search_ids(
        hubspot,
        filter_groups=[
            {
                "filters": [
                    {"propertyName": "industry", "operator": "EQ", "value": "PUBLISHING"},
                    {"propertyName": "numberofemployees", "operator": "GTE", "value": "50"},
                ]
            },
            {
                "filters": [
                    {"propertyName": "lifecyclestage", "operator": "EQ", "value": "customer"},
                    {"propertyName": "industry", "operator": "EQ", "value": "ONLINE_MEDIA"},
                ]
            },
        ],
    )

    assert wanted and total == len(wanted) and ids == wanted


def test_sorts_order_results_both_ways_and_ties_keep_id_order(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot
) -> None:
    hubspot_admin.reset(seed=3, companies=300)
    rows = [r for r in _everything(hubspot, ["numberofemployees"]) if r["numberofemployees"]]
    has_employees = [
        {"filters": [{"propertyName": "numberofemployees", "operator": "HAS_PROPERTY"}]}
    ]

    _, ascending = _search_ids(
        hubspot,
        filter_groups=has_employees,
        sorts=[{"propertyName": "numberofemployees", "direction": "ASCENDING"}],
    )
    _, descending = _search_ids(
        hubspot,
        filter_groups=has_employees,
        sorts=[{"propertyName": "numberofemployees", "direction": "DESCENDING"}],
    )

    assert ascending == [r["id"] for r in sorted(rows, key=lambda r: float(r["numberofemployees"]))]
    assert descending == [
        r["id"] for r in sorted(rows, key=lambda r: -float(r["numberofemployees"]))
    ]


def test_datetime_filters_accept_epoch_milliseconds(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot
) -> None:
    company_id = hubspot.crm.companies.basic_api.get_page(limit=1).results[0].id
    hubspot_admin.edits(ids=[company_id], properties={"nps_score": "3"})
    modified = hubspot_admin.get(f"companies/{company_id}")["properties"]["hs_lastmodifieddate"]
    millis = int(datetime.fromisoformat(modified.replace("Z", "+00:00")).timestamp() * 1000)

    total, ids = _search_ids(
        hubspot,
        filter_groups=[
            {
                "filters": [
                    {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": str(millis)}
                ]
            }
        ],
    )

    assert (total, ids) == (1, [company_id])


def test_search_returns_default_properties_and_the_true_total(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot
) -> None:
    result = hubspot.crm.companies.search_api.do_search(
        public_object_search_request=PublicObjectSearchRequest(limit=5)
    )

    assert result.total == 50
    assert len(result.results) == 5
    assert result.paging.next.after == "5"
    assert set(result.results[0].properties) == {
        "createdate",
        "domain",
        "hs_lastmodifieddate",
        "hs_object_id",
        "name",
    }


def test_search_refuses_to_page_past_10000_results(
    hubspot_admin: SandboxAdmin, hubspot: HubSpot
) -> None:
    hubspot_admin.reset(seed=1, companies=25_000, deals_per_company=0, same_timestamp=True)
    shared = hubspot_admin.get("companies/5000000001")["properties"]["hs_lastmodifieddate"]
    same_stamp = [
        {"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "EQ", "value": shared}]}
    ]

    last_page = hubspot.crm.companies.search_api.do_search(
        public_object_search_request=PublicObjectSearchRequest(
            filter_groups=same_stamp, limit=200, after="9800"
        )
    )
    with pytest.raises(ApiException) as refused:
        hubspot.crm.companies.search_api.do_search(
            public_object_search_request=PublicObjectSearchRequest(
                filter_groups=same_stamp, limit=200, after=last_page.paging.next.after
            )
        )

    assert last_page.total == 25_000
    assert len(last_page.results) == 200
    assert last_page.paging.next.after == "10000"
    assert refused.value.status == 400
    assert json.loads(refused.value.body)["category"] == "VALIDATION_ERROR"


def test_search_refuses_more_than_200_per_page_and_unknown_properties(hubspot: HubSpot) -> None:
    with pytest.raises(ApiException) as too_many:
        hubspot.crm.companies.search_api.do_search(
            public_object_search_request=PublicObjectSearchRequest(limit=201)
        )
    with pytest.raises(ApiException) as unknown:
        hubspot.crm.companies.search_api.do_search(
            public_object_search_request=PublicObjectSearchRequest(
                filter_groups=[
                    {"filters": [{"propertyName": "nope", "operator": "EQ", "value": "x"}]}
                ]
            )
        )

    assert too_many.value.status == 400
    assert unknown.value.status == 400


def test_search_excludes_archived_companies(hubspot: HubSpot) -> None:
    first = hubspot.crm.companies.basic_api.get_page(limit=1).results[0].id
    hubspot.crm.companies.basic_api.archive(first)

    total, ids = _search_ids(hubspot)

    assert total == 49 and first not in ids
