"""Webhook endpoints: public http(s) targets only, known events, the secret shown once."""

from __future__ import annotations

import psycopg
import pytest

from app.core.db import libpq_conninfo
from app.subscriptions import delivery

ENDPOINT = {
    "url": "https://hooks.example.com/icp",
    "events": ["account.tier_changed", "account.became_mql"],
    "description": "sales ops",
}


@pytest.fixture(autouse=True)
def _public_dns(monkeypatch):
    """example.com resolves to a public address; private targets are not allowed."""
    monkeypatch.setattr(delivery, "resolve_host", lambda host, port: ["93.184.215.14"])
    monkeypatch.setattr(delivery, "private_targets_allowed", lambda: False)


async def test_created_endpoint_shows_its_secret_once(app_client, admin_headers, database_url):
    response = await app_client.post(
        "/api/v1/webhook-endpoints", json=ENDPOINT, headers=admin_headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    secret = body["secret"]
    assert secret.startswith("whsec_")
    assert body["events"] == ["account.became_mql", "account.tier_changed"]
    assert body["description"] == "sales ops"
    assert body["disabled_at"] is None

    listed = await app_client.get("/api/v1/webhook-endpoints", headers=admin_headers)
    assert listed.status_code == 200
    assert [e["id"] for e in listed.json()["items"]] == [body["id"]]
    assert "secret" not in listed.json()["items"][0]
    assert secret.removeprefix("whsec_") not in listed.text

    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        (stored,) = connection.execute("SELECT secret FROM webhook_endpoints").fetchone()
    assert secret.encode() not in bytes(stored)
    assert secret.removeprefix("whsec_").encode() not in bytes(stored)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"events": ["account.deleted"]}, "events[0]"),
        ({"events": []}, "events"),
        ({"url": "ftp://hooks.example.com/"}, "url"),
        ({"url": "https://127.0.0.1:9000/hook"}, "url"),
        ({"url": "http://169.254.169.254/latest/meta-data"}, "url"),
        ({"url": "http://[::1]/hook"}, "url"),
        ({"url": "http://0.0.0.0/hook"}, "url"),
    ],
)
async def test_invalid_endpoints_are_refused_with_the_path(app_client, admin_headers, change, path):
    response = await app_client.post(
        "/api/v1/webhook-endpoints", json=ENDPOINT | change, headers=admin_headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "ValidationFailed"
    assert any(p["path"] == path for p in response.json()["detail"]), response.json()


async def test_a_host_resolving_to_a_private_address_is_refused(
    app_client, admin_headers, monkeypatch
):
    monkeypatch.setattr(delivery, "resolve_host", lambda host, port: ["93.184.215.14", "10.0.0.7"])
    response = await app_client.post(
        "/api/v1/webhook-endpoints", json=ENDPOINT, headers=admin_headers
    )
    assert response.status_code == 422, response.text
    assert "10.0.0.7" in response.json()["detail"][0]["message"]


async def test_private_targets_are_accepted_when_the_setting_allows_them(
    app_client, admin_headers, monkeypatch
):
    monkeypatch.setattr(delivery, "private_targets_allowed", lambda: True)
    response = await app_client.post(
        "/api/v1/webhook-endpoints",
        json=ENDPOINT | {"url": "http://127.0.0.1:9000/hook"},
        headers=admin_headers,
    )
    assert response.status_code == 201, response.text


async def test_managing_endpoints_needs_the_admin_scope(app_client, read_headers, write_headers):
    for headers in (read_headers, write_headers):
        response = await app_client.post(
            "/api/v1/webhook-endpoints", json=ENDPOINT, headers=headers
        )
        assert response.status_code == 403
    listed = await app_client.get("/api/v1/webhook-endpoints", headers=read_headers)
    assert listed.status_code == 200
    assert (await app_client.get("/api/v1/webhook-endpoints")).status_code == 401


async def test_delete_endpoint(app_client, admin_headers, read_headers):
    created = (
        await app_client.post("/api/v1/webhook-endpoints", json=ENDPOINT, headers=admin_headers)
    ).json()
    url = f"/api/v1/webhook-endpoints/{created['id']}"
    assert (await app_client.delete(url, headers=read_headers)).status_code == 403
    assert (await app_client.delete(url, headers=admin_headers)).status_code == 204
    assert (await app_client.delete(url, headers=admin_headers)).status_code == 404
    listed = await app_client.get("/api/v1/webhook-endpoints", headers=admin_headers)
    assert listed.json()["items"] == []
    gone = await app_client.get(f"{url}/deliveries", headers=read_headers)
    assert gone.status_code == 404


async def test_a_new_endpoint_has_no_deliveries(app_client, admin_headers, read_headers):
    created = (
        await app_client.post("/api/v1/webhook-endpoints", json=ENDPOINT, headers=admin_headers)
    ).json()
    response = await app_client.get(
        f"/api/v1/webhook-endpoints/{created['id']}/deliveries?limit=10", headers=read_headers
    )
    assert response.status_code == 200
    assert response.json() == {"items": []}


async def test_rotate_secrets_reencrypts_endpoint_secrets(app_client, admin_headers, key_rotation):
    """After rotation the old key can be dropped: the signing secret shown at creation still
    opens with the new key alone."""
    from app.core import security
    from app.core.db import get_database
    from app.subscriptions.repository import EndpointRepository
    from app.subscriptions.service import reseal_endpoint_secrets

    created = await app_client.post(
        "/api/v1/webhook-endpoints", json=ENDPOINT, headers=admin_headers
    )
    shown = created.json()["secret"]
    key_rotation.add_new_key()
    async with get_database().transaction() as session:
        assert await reseal_endpoint_secrets(session) == 1
    key_rotation.drop_old_key()
    async with get_database().transaction() as session:
        (endpoint,) = await EndpointRepository(session).all()
        assert security.secrets_cipher().decrypt(endpoint.secret).decode() == shown
