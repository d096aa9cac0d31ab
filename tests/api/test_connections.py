"""Connections: credentials validated and encrypted at rest, never returned; syncs queued."""

from __future__ import annotations

import psycopg
import pytest
from cryptography.fernet import Fernet

from app.core.db import libpq_conninfo

HUBSPOT = {
    "kind": "hubspot",
    "name": "HubSpot EU",
    "credentials": {"access_token": "pat-eu1-secret-token", "client_secret": "app-secret"},
    "base_url": "http://127.0.0.1:8900",
    "settings": {"field_map": {"funding_stage": "funding_stage"}, "extra_properties": ["x"]},
}


async def test_created_connection_never_returns_credentials(app_client, admin_headers):
    response = await app_client.post("/api/v1/connections", json=HUBSPOT, headers=admin_headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert "credentials" not in body
    assert "pat-eu1-secret-token" not in response.text
    assert body["settings"]["field_map"] == {"funding_stage": "funding_stage"}
    assert body["settings"]["sync_interval_minutes"] == 60
    listed = await app_client.get("/api/v1/connections", headers=admin_headers)
    assert "pat-eu1-secret-token" not in listed.text


async def test_credentials_are_encrypted_at_rest(app_client, admin_headers, database_url):
    await app_client.post("/api/v1/connections", json=HUBSPOT, headers=admin_headers)
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        (stored,) = connection.execute("SELECT credentials FROM connections").fetchone()
    assert b"pat-eu1-secret-token" not in bytes(stored)


async def test_creating_a_connection_needs_the_admin_scope(app_client, write_headers):
    response = await app_client.post("/api/v1/connections", json=HUBSPOT, headers=write_headers)
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"kind": "pipedrive"}, "kind"),
        ({"credentials": {}}, "credentials.access_token"),
        ({"credentials": {"access_token": "x", "password": "y"}}, "credentials.password"),
        ({"settings": {"field_map": {"shoe_size": "x"}}}, "settings.field_map"),
        ({"settings": {"sync_every": 5}}, "settings.sync_every"),
        ({"base_url": "ftp://example.com"}, "base_url"),
    ],
)
async def test_invalid_connections_are_refused_with_the_path(
    app_client, admin_headers, change, path
):
    response = await app_client.post(
        "/api/v1/connections", json=HUBSPOT | change, headers=admin_headers
    )
    assert response.status_code == 422, response.text
    assert any(p["path"].startswith(path) for p in response.json()["detail"]), response.json()


async def test_duplicate_name_is_409(app_client, admin_headers):
    await app_client.post("/api/v1/connections", json=HUBSPOT, headers=admin_headers)
    again = await app_client.post("/api/v1/connections", json=HUBSPOT, headers=admin_headers)
    assert again.status_code == 409


async def test_patch_and_delete(app_client, admin_headers):
    created = (
        await app_client.post("/api/v1/connections", json=HUBSPOT, headers=admin_headers)
    ).json()
    url = f"/api/v1/connections/{created['id']}"
    patched = await app_client.patch(
        url,
        json={"name": "HubSpot US", "settings": {"sync_interval_minutes": 15}},
        headers=admin_headers,
    )
    assert patched.status_code == 200
    assert patched.json()["name"] == "HubSpot US"
    assert patched.json()["settings"]["sync_interval_minutes"] == 15
    assert (await app_client.delete(url, headers=admin_headers)).status_code == 204
    assert (await app_client.get(url, headers=admin_headers)).status_code == 404


async def test_a_sync_request_is_queued_once(app_client, admin_headers, database_url):
    created = (
        await app_client.post("/api/v1/connections", json=HUBSPOT, headers=admin_headers)
    ).json()
    url = f"/api/v1/connections/{created['id']}/sync"
    first = await app_client.post(url, json={"mode": "incremental"}, headers=admin_headers)
    second = await app_client.post(url, json={"mode": "full"}, headers=admin_headers)
    assert first.status_code == 202
    assert first.json() == second.json()
    run = await app_client.get(
        f"/api/v1/sync-runs/{first.json()['sync_run_id']}", headers=admin_headers
    )
    assert run.json()["status"] == "queued"
    assert run.json()["mode"] == "full"
    assert run.json()["counts"] == {
        "fetched": 0,
        "upserted": 0,
        "scored": 0,
        "repaired": 0,
        "deals_fetched": 0,
        "contacts_fetched": 0,
        "written": 0,
        "write_failed": 0,
        "api_calls": 0,
    }
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        jobs = connection.execute(
            "SELECT task_name, lock FROM procrastinate_jobs WHERE task_name = 'sync.run'"
        ).fetchall()
    assert jobs == [("sync.run", f"connection:{created['id']}")]


async def test_bad_sync_mode_is_422(app_client, admin_headers):
    created = (
        await app_client.post("/api/v1/connections", json=HUBSPOT, headers=admin_headers)
    ).json()
    response = await app_client.post(
        f"/api/v1/connections/{created['id']}/sync",
        json={"mode": "sometimes"},
        headers=admin_headers,
    )
    assert response.status_code == 422


def test_rotated_keys_still_open_old_credentials(settings):
    """A new key goes in front of ICP_SYNC_SECRET_KEYS; what the old one sealed still opens,
    and resealing moves it to the new key."""
    from pydantic import SecretStr

    from app.connections.service import open_credentials, reseal_credentials
    from app.core import security
    from app.models import Connection

    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    try:
        security.configure_secrets(settings.model_copy(update={"secret_keys": SecretStr(old_key)}))
        connection = Connection(
            credentials=security.secrets_cipher().encrypt(b'{"access_token": "t"}')
        )
        security.configure_secrets(
            settings.model_copy(update={"secret_keys": SecretStr(f"{new_key},{old_key}")})
        )
        assert open_credentials(connection) == {"access_token": "t"}
        reseal_credentials(connection)
        security.configure_secrets(settings.model_copy(update={"secret_keys": SecretStr(new_key)}))
        assert open_credentials(connection) == {"access_token": "t"}
    finally:
        security.configure_secrets(settings)


async def test_rotate_secrets_reencrypts_every_connection(app_client, admin_headers, key_rotation):
    """After rotation the old key can be dropped: the new one alone opens every credential."""
    from app.connections.repository import ConnectionRepository
    from app.connections.service import open_credentials, reseal_all_credentials
    from app.core.db import get_database

    await app_client.post("/api/v1/connections", json=HUBSPOT, headers=admin_headers)
    key_rotation.add_new_key()
    async with get_database().transaction() as session:
        assert await reseal_all_credentials(session) == 1
    key_rotation.drop_old_key()
    async with get_database().transaction() as session:
        (connection,) = await ConnectionRepository(session).all()
        assert open_credentials(connection)["access_token"] == "pat-eu1-secret-token"


async def test_a_hubspot_connection_names_its_contact_department_property(
    app_client, admin_headers
):
    named = dict(HUBSPOT, settings={"contact_department_property": "team_name"})
    bad = dict(HUBSPOT, name="other", settings={"contact_department_property": "team name;"})

    created = await app_client.post("/api/v1/connections", json=named, headers=admin_headers)
    refused = await app_client.post("/api/v1/connections", json=bad, headers=admin_headers)

    assert created.status_code == 201
    assert created.json()["settings"]["contact_department_property"] == "team_name"
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["path"] == "settings.contact_department_property"
