"""Webhooks in: signatures, freshness, deduplication, our own echoes, bad bodies."""

from __future__ import annotations

import asyncio
import time

import orjson
import psycopg
import pytest

from app.core.db import libpq_conninfo
from app.inbox.signatures import hubspot_v2_signature, hubspot_v3_signature

SECRET = "app-client-secret"
SF_SECRET = "outbound-secret-0123456789"
ORG = "00D000000000001AAA"


@pytest.fixture
async def hubspot_id(app_client, admin_headers) -> str:
    response = await app_client.post(
        "/api/v1/connections",
        json={
            "kind": "hubspot",
            "name": "hubspot",
            "credentials": {"access_token": "t", "client_secret": SECRET},
            "base_url": "http://127.0.0.1:9",
            "settings": {"accept_v2_signatures": True},
        },
        headers=admin_headers,
    )
    return response.json()["id"]


@pytest.fixture
async def salesforce_id(app_client, admin_headers) -> str:
    response = await app_client.post(
        "/api/v1/connections",
        json={
            "kind": "salesforce",
            "name": "salesforce",
            "credentials": {
                "instance_url": "https://127.0.0.1:9",
                "access_token": "t",
                "webhook_secret": SF_SECRET,
            },
            "settings": {"salesforce_organization_id": ORG},
        },
        headers=admin_headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _events(*changes: tuple[int, str, str | None]) -> bytes:
    return orjson.dumps(
        [
            {
                "eventId": 100 + i,
                "subscriptionId": 7,
                "portalId": 1,
                "appId": 2,
                "occurredAt": 1_700_000_000_000 + i,
                "subscriptionType": kind,
                "attemptNumber": 0,
                "objectId": object_id,
                "propertyName": prop,
                "propertyValue": "x",
                "changeSource": "CRM_UI",
            }
            for i, (object_id, kind, prop) in enumerate(changes)
        ]
    )


def _signed(url: str, body: bytes, *, secret: str = SECRET, age_ms: int = 0) -> dict[str, str]:
    timestamp = str(int(time.time() * 1000) - age_ms)
    return {
        "X-HubSpot-Signature-v3": hubspot_v3_signature(secret, "POST", url, body, timestamp),
        "X-HubSpot-Request-Timestamp": timestamp,
        "Content-Type": "application/json",
    }


def _inbox(database_url) -> list[tuple[str, str]]:
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        return connection.execute(
            "SELECT event_type, object_id FROM webhook_inbox ORDER BY id"
        ).fetchall()


def _jobs(database_url) -> int:
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        return connection.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'inbox.process'"
        ).fetchone()[0]


async def test_a_signed_delivery_is_stored_with_its_job_and_answered_2xx(
    app_client, hubspot_id, database_url
):
    url = f"http://test/webhooks/hubspot/{hubspot_id}"
    body = _events((11, "company.propertyChange", "industry"), (12, "company.creation", None))
    response = await app_client.post(url, content=body, headers=_signed(url, body))
    assert response.status_code == 204
    assert _inbox(database_url) == [("company.propertyChange", "11"), ("company.creation", "12")]
    assert _jobs(database_url) == 1


async def test_nul_characters_in_a_signed_delivery_are_stripped_and_poison_no_neighbour(
    app_client, hubspot_id, database_url
):
    """400 concurrent deliveries, one in 20 carrying \\u0000 in its strings: every one is
    answered 204 and stored, the NULs stripped (a CRM value cannot mean anything by one)."""
    url = f"http://test/webhooks/hubspot/{hubspot_id}"

    def delivery(n: int) -> bytes:
        value = "Acme\x00 Corp" if n % 20 == 0 else "Acme Corp"
        event = {
            "eventId": n,
            "subscriptionId": 7,
            "occurredAt": 1_700_000_000_000 + n,
            "subscriptionType": "company.propertyChange",
            "objectId": 1000 + n,
            "propertyName": "name\x00" if n % 20 == 0 else "name",
            "propertyValue": value,
        }
        return orjson.dumps([event])

    bodies = [delivery(n) for n in range(400)]
    assert b"\\u0000" in bodies[0] and b"\\u0000" not in bodies[1]
    responses = await asyncio.gather(
        *(app_client.post(url, content=body, headers=_signed(url, body)) for body in bodies)
    )

    assert [r.status_code for r in responses] == [204] * 400
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        rows = connection.execute(
            "SELECT payload->>'propertyName', payload->>'propertyValue' FROM webhook_inbox"
        ).fetchall()
    assert len(rows) == 400
    assert set(rows) == {("name", "Acme Corp")}


async def test_a_redelivery_is_dropped(app_client, hubspot_id, database_url):
    url = f"http://test/webhooks/hubspot/{hubspot_id}"
    body = _events((11, "company.propertyChange", "industry"))
    for _ in range(3):
        assert (
            await app_client.post(url, content=body, headers=_signed(url, body))
        ).status_code == 204
    assert len(_inbox(database_url)) == 1
    assert _jobs(database_url) == 1


async def test_our_own_icp_property_changes_are_ignored(app_client, hubspot_id, database_url):
    url = f"http://test/webhooks/hubspot/{hubspot_id}"
    body = _events(
        (11, "company.propertyChange", "icp_fit_score"), (11, "company.propertyChange", "icp_tier")
    )
    assert (await app_client.post(url, content=body, headers=_signed(url, body))).status_code == 204
    assert _inbox(database_url) == []
    assert _jobs(database_url) == 0


@pytest.mark.parametrize(
    "tamper",
    ["body", "secret", "stale", "missing", "not-ascii-digits"],
)
async def test_bad_signatures_are_refused_with_401(app_client, hubspot_id, database_url, tamper):
    url = f"http://test/webhooks/hubspot/{hubspot_id}"
    body = _events((11, "company.propertyChange", "industry"))
    headers = {
        "body": _signed(url, body),
        "secret": _signed(url, body, secret="not-the-secret"),
        "stale": _signed(url, body, age_ms=6 * 60 * 1000),
        "missing": {"Content-Type": "application/json"},
        # "²" passes str.isdigit() but not int()
        "not-ascii-digits": {
            "X-HubSpot-Signature-v3": "x",
            "X-HubSpot-Request-Timestamp": "²".encode("latin-1"),
        },
    }[tamper]
    sent = body.replace(b"industry", b"industrx") if tamper == "body" else body
    response = await app_client.post(url, content=sent, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized"
    assert _inbox(database_url) == []


async def test_v2_signatures_are_accepted_when_the_connection_allows_them(
    app_client, hubspot_id, database_url
):
    url = f"http://test/webhooks/hubspot/{hubspot_id}"
    body = _events((11, "company.propertyChange", "industry"))
    headers = {"X-HubSpot-Signature": hubspot_v2_signature(SECRET, "POST", url, body)}
    assert (await app_client.post(url, content=body, headers=headers)).status_code == 204


async def test_bad_json_is_400_unknown_connection_404_big_body_413(app_client, hubspot_id):
    url = f"http://test/webhooks/hubspot/{hubspot_id}"
    body = b"[{not json"
    assert (await app_client.post(url, content=body, headers=_signed(url, body))).status_code == 400
    other = "http://test/webhooks/hubspot/00000000-0000-0000-0000-000000000000"
    assert (
        await app_client.post(other, content=b"[]", headers=_signed(other, b"[]"))
    ).status_code == 404
    big = b"[" + b" " * (1024 * 1024) + b"]"
    assert (await app_client.post(url, content=big, headers=_signed(url, big))).status_code == 413


def _outbound(notifications: list[tuple[str, str]], org: str = ORG) -> bytes:
    items = "".join(
        f'<Notification><Id>{nid}</Id><sObject xsi:type="sf:Account" '
        f'xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>{rid}</sf:Id>'
        f"<sf:Name>Acme</sf:Name></sObject></Notification>"
        for nid, rid in notifications
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{org}</OrganizationId><ActionId>04k000000000001</ActionId>"
        f"{items}</notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()


async def test_salesforce_outbound_messages_are_acked_and_deduplicated(
    app_client, salesforce_id, database_url
):
    url = f"/webhooks/salesforce/{salesforce_id}?secret={SF_SECRET}"
    body = _outbound(
        [("04l000000000001", "001000000000001AAA"), ("04l000000000002", "001000000000002AAA")]
    )
    for _ in range(2):
        response = await app_client.post(url, content=body, headers={"Content-Type": "text/xml"})
        assert response.status_code == 200
        assert b"<Ack>true</Ack>" in response.content
    assert _inbox(database_url) == [
        ("account.changed", "001000000000001AAA"),
        ("account.changed", "001000000000002AAA"),
    ]


@pytest.mark.parametrize(
    ("query", "body", "status"),
    [
        ("?secret=wrong-secret-0000000000", _outbound([("04l1", "001A")]), 401),
        ("", _outbound([("04l1", "001A")]), 401),
        (f"?secret={SF_SECRET}", _outbound([("04l1", "001A")], org="00D999999999999AAA"), 401),
        (f"?secret={SF_SECRET}", b"<not-xml", 400),
    ],
)
async def test_salesforce_refusals(app_client, salesforce_id, database_url, query, body, status):
    response = await app_client.post(
        f"/webhooks/salesforce/{salesforce_id}{query}",
        content=body,
        headers={"Content-Type": "text/xml"},
    )
    assert response.status_code == status
    assert _inbox(database_url) == []


async def test_a_deleted_connection_is_404_even_while_its_verifier_is_cached(
    app_client, admin_headers, hubspot_id
):
    url = f"http://test/webhooks/hubspot/{hubspot_id}"
    body = _events((11, "company.propertyChange", "industry"))
    assert (await app_client.post(url, content=body, headers=_signed(url, body))).status_code == 204
    await app_client.delete(f"/api/v1/connections/{hubspot_id}", headers=admin_headers)
    again = _events((12, "company.propertyChange", "industry"))
    response = await app_client.post(url, content=again, headers=_signed(url, again))
    assert response.status_code == 404


def _flow(events: list[dict], org: str = ORG) -> bytes:
    return orjson.dumps({"organizationId": org, "events": events})


def _flow_headers(body: bytes, *, secret: str = SF_SECRET, age_s: int = 0) -> dict[str, str]:
    from app.inbox.signatures import flow_signature

    timestamp = str(int(time.time()) - age_s)
    return {
        "Content-Type": "application/json",
        "X-ICP-Sync-Timestamp": timestamp,
        "X-ICP-Sync-Signature": flow_signature(secret, timestamp, body),
    }


async def test_a_signed_flow_callout_is_stored_once(app_client, salesforce_id, database_url):
    body = _flow(
        [
            {"id": "001A-2026-11-23T10:00:00Z", "recordId": "001000000000001AAA"},
            {"id": "001B-2026-11-23T10:00:01Z", "recordId": "001000000000002AAA", "deleted": True},
        ]
    )
    url = f"/webhooks/salesforce/{salesforce_id}"
    for _ in range(2):
        response = await app_client.post(url, content=body, headers=_flow_headers(body))
        assert response.status_code == 204
    assert _inbox(database_url) == [
        ("account.changed", "001000000000001AAA"),
        ("account.deleted", "001000000000002AAA"),
    ]


@pytest.mark.parametrize("tamper", ["secret", "stale", "body", "org", "not-ascii-digits"])
async def test_flow_callouts_with_bad_signatures_or_org_are_refused(
    app_client, salesforce_id, database_url, tamper
):
    body = _flow(
        [{"id": "e1", "recordId": "001000000000001AAA"}],
        org="00D999999999999AAA" if tamper == "org" else ORG,
    )
    headers = {
        "secret": _flow_headers(body, secret="another-secret-000000"),
        "stale": _flow_headers(body, age_s=600),
        "body": _flow_headers(body),
        "org": _flow_headers(body),
        "not-ascii-digits": _flow_headers(body) | {"X-ICP-Sync-Timestamp": "²".encode("latin-1")},
    }[tamper]
    sent = body.replace(b"e1", b"e2") if tamper == "body" else body
    response = await app_client.post(
        f"/webhooks/salesforce/{salesforce_id}", content=sent, headers=headers
    )
    assert response.status_code == 401
    assert _inbox(database_url) == []


async def test_a_flow_callout_that_is_not_our_json_is_400(app_client, salesforce_id):
    body = b'{"records": []}'
    response = await app_client.post(
        f"/webhooks/salesforce/{salesforce_id}", content=body, headers=_flow_headers(body)
    )
    assert response.status_code == 400


@pytest.fixture
def _quick_database_timeout(monkeypatch):
    """Give up on an unreachable database after half a second, not three (set before the
    app starts, since its inbox writer reads it then)."""
    from app.inbox import writer as inbox

    monkeypatch.setattr(inbox, "CONNECT_TIMEOUT_SECONDS", 0.5)


def _kill_inbox_connections(admin: psycopg.Connection) -> int:
    from app.inbox.writer import APPLICATION_NAME

    return admin.execute(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
        (APPLICATION_NAME,),
    ).fetchone()[0]


async def test_a_connection_lost_under_a_delivery_is_replaced_and_the_delivery_stored(
    app_client, hubspot_id, database_url
):
    """The writer's connection dies (a database restart, a failover): the delivery is
    written on a fresh connection, once."""
    url = f"http://test/webhooks/hubspot/{hubspot_id}"
    first = _events((11, "company.propertyChange", "industry"))
    assert (
        await app_client.post(url, content=first, headers=_signed(url, first))
    ).status_code == 204
    with psycopg.connect(libpq_conninfo(database_url), autocommit=True) as admin:
        assert _kill_inbox_connections(admin) >= 1

    for object_id in (12, 13, 14):  # whichever writer takes them, its connection is fresh
        body = _events((object_id, "company.propertyChange", "industry"))
        response = await app_client.post(url, content=body, headers=_signed(url, body))
        assert response.status_code == 204
    assert [object_id for _, object_id in _inbox(database_url)] == ["11", "12", "13", "14"]


@pytest.mark.usefixtures("_quick_database_timeout")
async def test_a_database_refusing_connections_is_503_and_the_retry_is_stored_once(
    app_client, hubspot_id, database_url
):
    """Database down: the delivery is refused with 503 (HubSpot retries it) and nothing is
    half-written; once the database is back the retry lands, once."""
    url = f"http://test/webhooks/hubspot/{hubspot_id}"
    first = _events((11, "company.propertyChange", "industry"))
    assert (
        await app_client.post(url, content=first, headers=_signed(url, first))
    ).status_code == 204
    name = database_url.database
    second = _events((12, "company.propertyChange", "industry"))
    server = libpq_conninfo(database_url.set(database="postgres"))
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        try:
            _kill_inbox_connections(admin)
            refused = await app_client.post(url, content=second, headers=_signed(url, second))
        finally:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
    assert refused.status_code == 503
    assert refused.json()["error"] == "ServiceUnavailable"
    assert _inbox(database_url) == [("company.propertyChange", "11")]

    retried = await app_client.post(url, content=second, headers=_signed(url, second))
    assert retried.status_code == 204
    assert _inbox(database_url) == [
        ("company.propertyChange", "11"),
        ("company.propertyChange", "12"),
    ]
