"""What RevOps reads at a glance: account stats, sync runs by page, a connection's last
sync; and a misspelt query parameter refused rather than silently ignored."""

from __future__ import annotations

import pytest

from tests.api.test_accounts import CSV, GOOD_CSV, _activate
from tests.api.test_connections import HUBSPOT


async def test_account_stats_count_tiers_flags_and_coverage_in_one_answer(
    app_client, write_headers, example_icp_yaml
):
    await _activate(app_client, write_headers, example_icp_yaml)
    await app_client.post("/api/v1/accounts/import", content=GOOD_CSV, headers=write_headers | CSV)

    stats = (await app_client.get("/api/v1/accounts/stats", headers=write_headers)).json()

    listed = (await app_client.get("/api/v1/accounts", headers=write_headers)).json()["items"]
    tiers = {t: sum(1 for a in listed if a["tier"] == t) for t in "ABCD"}
    assert stats["accounts"] == stats["scored"] == 3
    assert stats["tiers"] == tiers
    assert stats["mql"] == sum(a["is_mql"] for a in listed)
    assert stats["sql"] == sum(a["is_sql"] for a in listed)
    assert stats["excluded"] == sum(a["excluded"] for a in listed)
    assert stats["coverage"] == pytest.approx(sum(a["coverage"] for a in listed) / 3, abs=1e-4)
    other = "00000000-0000-0000-0000-000000000000"
    empty = await app_client.get(
        "/api/v1/accounts/stats", params={"connection_id": other}, headers=write_headers
    )
    assert empty.json() == {
        "accounts": 0,
        "scored": 0,
        "tiers": {"A": 0, "B": 0, "C": 0, "D": 0},
        "mql": 0,
        "sql": 0,
        "excluded": 0,
        "coverage": None,
    }


async def test_sync_runs_are_listed_newest_first_in_stable_pages(
    app_client, admin_headers, database
):
    from app.models import SyncRun

    ids = []
    for n in range(2):
        created = await app_client.post(
            "/api/v1/connections", json=HUBSPOT | {"name": f"crm {n}"}, headers=admin_headers
        )
        ids.append(created.json()["id"])
    async with database.transaction() as session:
        for n in range(5):
            session.add(SyncRun(connection_id=ids[n % 2], mode="full", status="succeeded"))
        session.add(SyncRun(connection_id=ids[0], mode="incremental", status="failed"))

    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (
            await app_client.get("/api/v1/sync-runs", params=params, headers=admin_headers)
        ).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len({run["id"] for run in seen}) == 6
    created_at = [run["created_at"] for run in seen]
    assert created_at == sorted(created_at, reverse=True)

    failed = await app_client.get(
        "/api/v1/sync-runs",
        params={"connection_id": ids[0], "status": "failed"},
        headers=admin_headers,
    )
    assert [run["mode"] for run in failed.json()["items"]] == ["incremental"]
    bad = await app_client.get(
        "/api/v1/sync-runs", params={"status": "done"}, headers=admin_headers
    )
    assert bad.status_code == 422
    forged = await app_client.get(
        "/api/v1/sync-runs", params={"cursor": "WyJhY2NvdW50cyIsIDFd"}, headers=admin_headers
    )
    assert forged.status_code == 400  # an accounts cursor is no sync-runs cursor


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/accounts?teir=A",
        "/api/v1/sync-runs?connection=x",
        "/api/v1/accounts/stats?connection_id=00000000-0000-0000-0000-000000000000&x=1",
        "/api/v1/icps?limit=5",
    ],
)
async def test_an_unknown_query_parameter_is_refused_not_ignored(app_client, admin_headers, url):
    response = await app_client.get(url, headers=admin_headers)
    assert response.status_code == 422, response.text
    assert "unknown query parameter" in response.json()["detail"][0]["message"]


async def _every_page(app_client, headers, params) -> list[dict]:
    """Every account the list gives, following its cursors to the end."""
    seen, cursor = [], None
    while True:
        page = (
            await app_client.get(
                "/api/v1/accounts",
                params=params | ({"cursor": cursor} if cursor else {}),
                headers=headers,
            )
        ).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


@pytest.mark.parametrize("sort", ["score", "-score", "name", "-name", "updated_at", "-updated_at"])
async def test_every_sort_pages_through_every_account_once_in_order(
    app_client, write_headers, example_icp_yaml, sort
):
    await _activate(app_client, write_headers, example_icp_yaml)
    rows = "".join(f"x{n},Co {n % 4},US,Online Media,{10 + n}\n" for n in range(9))
    content = b"external_id,name,country,industry,employees\n" + rows.encode()
    await app_client.post("/api/v1/accounts/import", content=content, headers=write_headers | CSV)
    await app_client.post(
        "/api/v1/accounts/import", content=b"external_id\nunnamed\n", headers=write_headers | CSV
    )

    seen = await _every_page(app_client, write_headers, {"sort": sort, "limit": 3})

    field = sort.removeprefix("-")
    default = {"score": -1, "name": ""}.get(field)

    def key(item):
        value = item[field] if item[field] is not None else default
        return (value, item["id"])

    assert len(seen) == len({item["id"] for item in seen}) == 10
    assert seen == sorted(seen, key=key, reverse=sort.startswith("-"))


async def test_a_cursor_of_one_sort_is_refused_by_another(app_client, write_headers):
    await app_client.post("/api/v1/accounts/import", content=GOOD_CSV, headers=write_headers | CSV)
    page = await app_client.get(
        "/api/v1/accounts", params={"sort": "name", "limit": 1}, headers=write_headers
    )
    cursor = page.json()["next_cursor"]
    other = await app_client.get(
        "/api/v1/accounts", params={"sort": "score", "cursor": cursor}, headers=write_headers
    )
    assert other.status_code == 400
    bad = await app_client.get("/api/v1/accounts", params={"sort": "size"}, headers=write_headers)
    assert bad.status_code == 422


async def test_the_csv_export_holds_the_filtered_sorted_list(
    app_client, write_headers, example_icp_yaml
):
    import csv
    import io

    await _activate(app_client, write_headers, example_icp_yaml)
    await app_client.post("/api/v1/accounts/import", content=GOOD_CSV, headers=write_headers | CSV)
    listed = (
        await app_client.get("/api/v1/accounts", params={"sort": "-score"}, headers=write_headers)
    ).json()["items"]

    response = await app_client.get(
        "/api/v1/accounts/export.csv", params={"sort": "-score"}, headers=write_headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == [
        "id",
        "external_id",
        "name",
        "domain",
        "score",
        "tier",
        "is_mql",
        "is_sql",
        "excluded",
        "coverage",
        "reasons",
        "scored_at",
    ]
    assert [r["external_id"] for r in rows] == [i["external_id"] for i in listed]
    assert [int(r["score"]) for r in rows] == [i["score"] for i in listed]
    a_only = await app_client.get(
        "/api/v1/accounts/export.csv", params={"tier": "A"}, headers=write_headers
    )
    tier_a = [i["external_id"] for i in listed if i["tier"] == "A"]
    assert [r["external_id"] for r in csv.DictReader(io.StringIO(a_only.text))] == sorted(
        tier_a, key=lambda e: next(i["id"] for i in listed if i["external_id"] == e)
    )


@pytest.mark.parametrize("sort", ["score", "-score"])
async def test_sorting_by_score_pages_across_scored_and_unscored_accounts(
    app_client, write_headers, example_icp_yaml, sort
):
    """Scored accounts by score, then the unscored (no score to rank) by id, in either
    direction: the seam between the two is crossed within a page and by a cursor."""
    unscored = "".join(f"u{n},Early {n},US,Online Media,{10 + n}\n" for n in range(5))
    header = b"external_id,name,country,industry,employees\n"
    await app_client.post(
        "/api/v1/accounts/import", content=header + unscored.encode(), headers=write_headers | CSV
    )
    await _activate(app_client, write_headers, example_icp_yaml)  # its rescore is not run
    scored = "".join(f"s{n},Later {n},US,Online Media,{50 * n}\n" for n in range(6))
    await app_client.post(
        "/api/v1/accounts/import", content=header + scored.encode(), headers=write_headers | CSV
    )

    seen = await _every_page(app_client, write_headers, {"sort": sort, "limit": 4})

    assert sum(item["score"] is None for item in seen) == 5
    assert len(seen) == len({item["id"] for item in seen}) == 11
    reverse = sort.startswith("-")
    ranked = sorted(
        (item for item in seen if item["score"] is not None),
        key=lambda item: (item["score"], item["id"]),
        reverse=reverse,
    )
    unranked = sorted(
        (item for item in seen if item["score"] is None),
        key=lambda item: item["id"],
        reverse=reverse,
    )
    assert seen == ranked + unranked
    tier_a = await app_client.get(
        "/api/v1/accounts", params={"sort": sort, "tier": "A"}, headers=write_headers
    )
    assert all(item["tier"] == "A" for item in tier_a.json()["items"])
