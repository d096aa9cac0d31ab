"""API keys: 401 without a valid key, 403 without the scope; scopes are ordered."""

from __future__ import annotations

import pytest


async def test_no_key_is_401(app_client):
    response = await app_client.get("/api/v1/icps")
    assert response.status_code == 401
    assert response.json() == {
        "error": "Unauthorized",
        "detail": [{"path": "", "message": "send 'Authorization: Bearer <api key>'"}],
    }


async def test_unknown_key_is_401(app_client):
    response = await app_client.get(
        "/api/v1/icps", headers={"Authorization": "Bearer icps_not-a-real-key"}
    )
    assert response.status_code == 401


async def test_read_only_key_on_a_write_is_403(app_client, read_headers):
    response = await app_client.post("/api/v1/icps", json={"name": "x"}, headers=read_headers)
    assert response.status_code == 403
    assert response.json()["error"] == "Forbidden"


async def test_read_only_key_can_read(app_client, read_headers):
    assert (await app_client.get("/api/v1/icps", headers=read_headers)).status_code == 200


async def test_admin_key_can_write(app_client, admin_headers, example_icp_yaml):
    response = await app_client.post(
        "/api/v1/icps",
        content=example_icp_yaml,
        headers=admin_headers | {"Content-Type": "application/yaml"},
    )
    assert response.status_code == 201


async def test_keys_are_stored_hashed(app_client, read_headers, database_url):
    import psycopg

    from app.core.db import libpq_conninfo

    key = read_headers["Authorization"].removeprefix("Bearer ")
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        rows = connection.execute("SELECT key_hash, prefix FROM api_keys").fetchall()
    assert rows
    assert all(key not in (key_hash, prefix) for key_hash, prefix in rows)
    assert all(key.startswith(prefix) for _, prefix in rows)


@pytest.mark.parametrize("scopes", [["root"], []])
async def test_unknown_or_empty_scopes_are_refused(database, scopes):
    from app.apikeys.service import create_api_key
    from app.core.errors import ValidationFailed

    async with database.transaction() as session:
        with pytest.raises(ValidationFailed):
            await create_api_key(session, name="x", scopes=scopes)
