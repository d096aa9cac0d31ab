"""Verdict changes stored by any path (here: CSV import) become subscribers' events."""

from __future__ import annotations

import psycopg

from app.core.db import libpq_conninfo
from app.subscriptions import delivery

YAML = {"Content-Type": "application/yaml"}
CSV = {"Content-Type": "text/csv"}
ROWS = b"""external_id,name,country,industry,employees,funding_stage,total_funding
a,Alpha,US,Online Media,50,series_b,9000000
b,Beta,DE,Retail,50,,
"""


def _events(database_url) -> list[tuple[str, str]]:
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        return connection.execute(
            "SELECT event_type, payload->>'name' FROM webhook_events ORDER BY id"
        ).fetchall()


async def test_imports_emit_mql_and_tier_events_only_for_changes(
    app_client, admin_headers, example_icp_yaml, database_url, monkeypatch
):
    monkeypatch.setattr(delivery, "private_targets_allowed", lambda: True)
    created = await app_client.post(
        "/api/v1/webhook-endpoints",
        json={
            "url": "http://127.0.0.1:9/hook",
            "events": ["account.tier_changed", "account.became_mql"],
        },
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    icp = await app_client.post(
        "/api/v1/icps", content=example_icp_yaml, headers=admin_headers | YAML
    )
    await app_client.post(f"/api/v1/icps/{icp.json()['id']}/activate", headers=admin_headers)

    await app_client.post("/api/v1/accounts/import", content=ROWS, headers=admin_headers | CSV)
    assert _events(database_url) == [("account.became_mql", "Alpha")]

    await app_client.post("/api/v1/accounts/import", content=ROWS, headers=admin_headers | CSV)
    assert len(_events(database_url)) == 1  # nothing changed, nothing sent

    moved = ROWS.replace(b"b,Beta,DE,Retail", b"b,Beta,US,Publishing")
    await app_client.post("/api/v1/accounts/import", content=moved, headers=admin_headers | CSV)
    assert _events(database_url)[-1] == ("account.tier_changed", "Beta")
