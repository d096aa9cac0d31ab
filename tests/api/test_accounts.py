"""Accounts: CSV import (good rows in, bad rows by line), listing, detail, history."""

from __future__ import annotations

YAML = {"Content-Type": "application/yaml"}
CSV = {"Content-Type": "text/csv"}

GOOD_CSV = b"""external_id,name,domain,country,industry,employees,funding_stage,total_funding,tech_stack,attributes.has_inhouse_seo,open_deals
c1,Daily Planet,dailyplanet.com,United States,Online Media,240,series_b,12000000,Contentful;React,true,2
c2,Tiny Blog,tinyblog.io,US,Publishing,4,seed,200000,WordPress,false,0
c3,Acme GmbH,acme.de,Germany,Manufacturing,900,growth,50000000,SAP,,
"""


async def _activate(app_client, headers, example_icp_yaml) -> str:
    created = await app_client.post(
        "/api/v1/icps", content=example_icp_yaml, headers=headers | YAML
    )
    await app_client.post(f"/api/v1/icps/{created.json()['id']}/activate", headers=headers)
    return created.json()["id"]


async def test_csv_import_stores_and_scores_every_good_row(
    app_client, write_headers, example_icp_yaml
):
    await _activate(app_client, write_headers, example_icp_yaml)
    response = await app_client.post(
        "/api/v1/accounts/import", content=GOOD_CSV, headers=write_headers | CSV
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "imported": 3,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "scored": 3,
        "failed": [],
    }
    page = (await app_client.get("/api/v1/accounts", headers=write_headers)).json()
    by_id = {a["external_id"]: a for a in page["items"]}
    assert by_id["c1"]["tier"] == "A" and by_id["c1"]["is_sql"] is True
    assert by_id["c2"]["score"] == 25  # US + Publishing − tiny: (20 + 25 − 20) of 100
    assert by_id["c3"]["tier"] == "D"


async def test_csv_bad_rows_are_reported_by_line_and_good_rows_kept(app_client, write_headers):
    content = (
        b"external_id,name,employees,country\n"
        b"ok1,Fine Co,12,US\n"
        b"bad1,Broken Co,lots,US\n"
        b"ok2,Also Fine,7,DE\n"
        b",No Id,3,US\n"
        b"ok1,Duplicate,5,US\n"
    )
    response = await app_client.post(
        "/api/v1/accounts/import", content=content, headers=write_headers | CSV
    )
    assert response.status_code == 200
    body = response.json()
    assert body["imported"] == 2
    failed = {f["line"]: f["errors"] for f in body["failed"]}
    assert set(failed) == {3, 5, 6}
    assert "employees" in failed[3][0]
    assert "duplicate of line 2" in failed[6][0]


async def test_csv_nul_bytes_are_stripped_not_a_500(app_client, write_headers):
    content = b"external_id,name,country\nn1,Nul\x00 Co,US\n"
    response = await app_client.post(
        "/api/v1/accounts/import", content=content, headers=write_headers | CSV
    )
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 1
    items = (await app_client.get("/api/v1/accounts", headers=write_headers)).json()["items"]
    assert [item["name"] for item in items] == ["Nul Co"]


async def test_csv_with_an_unknown_column_stores_nothing(app_client, write_headers):
    content = b"external_id,name,shoe_size\nx,Y,9\n"
    response = await app_client.post(
        "/api/v1/accounts/import", content=content, headers=write_headers | CSV
    )
    assert response.status_code == 422
    assert "shoe_size" in response.json()["detail"][0]["message"]
    assert (await app_client.get("/api/v1/accounts", headers=write_headers)).json()["items"] == []


async def test_csv_that_is_not_utf8_is_400(app_client, write_headers):
    response = await app_client.post(
        "/api/v1/accounts/import",
        content=b"external_id,name\n1,\xff\xfe\n",
        headers=write_headers | CSV,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "BadRequest"


async def test_reimport_updates_instead_of_duplicating(app_client, write_headers):
    await app_client.post("/api/v1/accounts/import", content=GOOD_CSV, headers=write_headers | CSV)
    again = await app_client.post(
        "/api/v1/accounts/import", content=GOOD_CSV, headers=write_headers | CSV
    )
    assert again.json()["created"] == 0
    assert again.json()["unchanged"] == 3
    changed = GOOD_CSV.replace(b"Tiny Blog", b"Tiny Blog Inc")
    third = await app_client.post(
        "/api/v1/accounts/import", content=changed, headers=write_headers | CSV
    )
    assert third.json()["updated"] == 1
    assert third.json()["unchanged"] == 2
    page = (await app_client.get("/api/v1/accounts", headers=write_headers)).json()
    assert len(page["items"]) == 3


async def test_list_filters_and_cursor_pagination(app_client, write_headers, example_icp_yaml):
    await _activate(app_client, write_headers, example_icp_yaml)
    rows = "\n".join(
        f"id{i},Company {i},company{i}.com,US,{'Online Media' if i % 2 else 'Retail'},50"
        for i in range(25)
    )
    content = ("external_id,name,domain,country,industry,employees\n" + rows + "\n").encode()
    await app_client.post("/api/v1/accounts/import", content=content, headers=write_headers | CSV)

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 10} | ({"cursor": cursor} if cursor else {})
        page = (
            await app_client.get("/api/v1/accounts", params=params, headers=write_headers)
        ).json()
        seen += [a["external_id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(f"id{i}" for i in range(25))
    assert len(seen) == len(set(seen))

    media = (
        await app_client.get("/api/v1/accounts", params={"tier": "c"}, headers=write_headers)
    ).json()["items"]
    assert {a["external_id"] for a in media} == {f"id{i}" for i in range(25) if i % 2}
    found = (
        await app_client.get("/api/v1/accounts", params={"q": "company7"}, headers=write_headers)
    ).json()["items"]
    assert [a["external_id"] for a in found] == ["id7"]


async def test_list_refuses_bad_tier_and_bad_cursor(app_client, read_headers):
    bad_tier = await app_client.get("/api/v1/accounts", params={"tier": "Z"}, headers=read_headers)
    assert bad_tier.status_code == 422
    bad_cursor = await app_client.get(
        "/api/v1/accounts", params={"cursor": "!!!"}, headers=read_headers
    )
    assert bad_cursor.status_code == 400
    bad_limit = await app_client.get("/api/v1/accounts", params={"limit": 0}, headers=read_headers)
    assert bad_limit.status_code == 422


async def test_detail_shows_breakdown_and_history(app_client, write_headers, example_icp_yaml):
    await _activate(app_client, write_headers, example_icp_yaml)
    await app_client.post("/api/v1/accounts/import", content=GOOD_CSV, headers=write_headers | CSV)
    changed = GOOD_CSV.replace(b"Contentful;React,true,2", b"Contentful;React,true,0")
    await app_client.post("/api/v1/accounts/import", content=changed, headers=write_headers | CSV)
    page = (
        await app_client.get("/api/v1/accounts", params={"q": "Daily"}, headers=write_headers)
    ).json()
    account_id = page["items"][0]["id"]

    detail = (await app_client.get(f"/api/v1/accounts/{account_id}", headers=write_headers)).json()
    current = detail["current_score"]
    assert current["score"] == 100
    assert current["is_mql"] is True and current["is_sql"] is False  # no open deal any more
    assert {c["id"]: c["points"] for c in current["criteria"]}["new_media"] == 25
    assert [h["is_sql"] for h in detail["history"]] == [False, True]
    assert detail["data"]["country"] == "US"


async def test_unknown_account_is_404(app_client, read_headers):
    response = await app_client.get("/api/v1/accounts/999999", headers=read_headers)
    assert response.status_code == 404
