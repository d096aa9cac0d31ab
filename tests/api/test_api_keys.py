"""API keys over HTTP: listed without the key itself, with when each was last used; revoked."""

from __future__ import annotations


async def test_keys_are_listed_with_name_scopes_and_last_use_never_the_key(
    app_client, admin_headers, read_headers
):
    await app_client.get("/api/v1/accounts", headers=read_headers)
    response = await app_client.get("/api/v1/api-keys", headers=admin_headers)
    assert response.status_code == 200
    items = response.json()["items"]
    assert {tuple(item["scopes"]) for item in items} >= {("admin",), ("read",)}
    read_token = read_headers["Authorization"].split()[1]
    assert read_token not in response.text
    [read_key] = [i for i in items if i["scopes"] == ["read"]]
    assert read_token.startswith(read_key["prefix"])
    assert read_key["last_used_at"] is not None and read_key["revoked_at"] is None


async def test_a_revoked_key_stops_working_at_once(app_client, admin_headers, read_headers):
    items = (await app_client.get("/api/v1/api-keys", headers=admin_headers)).json()["items"]
    [read_key] = [i for i in items if i["scopes"] == ["read"]]

    revoked = await app_client.delete(f"/api/v1/api-keys/{read_key['id']}", headers=admin_headers)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    refused = await app_client.get("/api/v1/accounts", headers=read_headers)
    assert refused.status_code == 401


async def test_only_admin_keys_see_or_revoke_keys(app_client, read_headers, write_headers):
    assert (await app_client.get("/api/v1/api-keys", headers=write_headers)).status_code == 403
    missing = await app_client.delete(
        "/api/v1/api-keys/00000000-0000-0000-0000-000000000000", headers=write_headers
    )
    assert missing.status_code == 403
