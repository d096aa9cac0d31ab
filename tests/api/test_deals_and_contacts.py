"""Listing synced deals and contacts: filters, personas, stable pages, bad input."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from connectors.base import ContactRecord, DealRecord

ICP = b"""
name: People
personas:
  - {id: economic_buyer, seniority: [c_level, vp], functions: [marketing, executive]}
  - {id: seo_champion, title_keywords: [seo, organic search]}
criteria:
  - {id: buyer, field: personas.economic_buyer, op: gte, value: 1, weight: 10}
"""
TITLES = [
    "CMO",
    "Head of SEO",
    "Organic-Search Specialist",
    "Sr. Software Engineer",
    "Co-Founder & CEO",
    "Seoul Office Manager",
]


async def _seed(database) -> tuple[str, dict[str, int]]:
    from app.accounts.service import store_outcomes, upsert_and_score
    from app.connections.schemas import ConnectionCreate
    from app.connections.service import create_connection
    from app.icps.service import activate_icp, apply_icp

    async with database.transaction() as session:
        version, _ = await apply_icp(session, source=ICP, content_type="application/yaml")
        await activate_icp(session, icp_id=version.id)
        connection = await create_connection(
            session,
            body=ConnectionCreate(
                kind="hubspot",
                name="crm",
                credentials={"access_token": "t"},
                base_url="http://127.0.0.1:1",
            ),
        )
        outcome = await upsert_and_score(
            session,
            connection_id=connection.id,
            accounts=[{"external_id": e, "data": {"name": e}} for e in ("acme", "globex")],
        )
        await store_outcomes(
            session,
            connection_id=connection.id,
            deals=[
                DealRecord(
                    external_id=f"d{n}",
                    account_external_ids=["acme" if n % 2 else "globex"],
                    stage="closedwon" if n % 3 == 0 else "qualifiedtobuy",
                    is_closed=n % 3 == 0,
                    is_won=n % 3 == 0,
                    amount=100.0 * n,
                    closed_at=datetime(2026, 1, n, tzinfo=UTC) if n % 3 == 0 else None,
                )
                for n in range(1, 10)
            ],
        )
        await store_outcomes(
            session,
            connection_id=connection.id,
            contacts=[
                ContactRecord(external_id=f"c{n}", account_external_ids=["acme"], title=title)
                for n, title in enumerate(TITLES)
            ],
        )
    return str(connection.id), {a.external_id: a.id for a in outcome.accounts}


async def test_deals_are_listed_by_account_and_outcome_in_stable_pages(
    app_client, read_headers, database
):
    connection_id, accounts = await _seed(database)

    def get(**params):
        return app_client.get("/api/v1/deals", params=params, headers=read_headers)

    first = (await get(limit=4)).json()
    second = (await get(limit=4, cursor=first["next_cursor"])).json()
    third = (await get(limit=4, cursor=second["next_cursor"])).json()
    acme = (await get(account_id=accounts["acme"])).json()["items"]
    won = (await get(is_won="true", connection_id=connection_id)).json()["items"]

    ids = [d["external_id"] for page in (first, second, third) for d in page["items"]]
    assert ids == [f"d{n}" for n in range(1, 10)]
    assert third["next_cursor"] is None
    assert {d["external_id"] for d in acme} == {"d1", "d3", "d5", "d7", "d9"}
    assert all(d["account_external_ids"] == ["acme"] for d in acme)
    assert [d["external_id"] for d in won] == ["d3", "d6", "d9"]
    assert won[0]["amount"] == 300.0 and won[0]["is_closed"] is True


async def test_contacts_are_listed_with_what_their_titles_say_and_filtered_by_persona(
    app_client, read_headers, database
):
    await _seed(database)

    every = (await app_client.get("/api/v1/contacts", headers=read_headers)).json()["items"]
    champions = (
        await app_client.get(
            "/api/v1/contacts", params={"persona": "seo_champion"}, headers=read_headers
        )
    ).json()["items"]
    buyers = (
        await app_client.get(
            "/api/v1/contacts", params={"persona": "economic_buyer"}, headers=read_headers
        )
    ).json()["items"]

    by_title = {c["title"]: c for c in every}
    assert by_title["CMO"]["seniority"] == "c_level"
    assert by_title["CMO"]["function"] == "marketing"
    assert by_title["Head of SEO"]["personas"] == ["seo_champion"]
    # The SQL filter agrees with the matcher that scores (whole words: not "Seoul").
    assert [c["title"] for c in champions] == ["Head of SEO", "Organic-Search Specialist"]
    assert [c["title"] for c in champions] == [
        c["title"] for c in every if "seo_champion" in c["personas"]
    ]
    assert [c["title"] for c in buyers] == ["CMO", "Co-Founder & CEO"]


async def test_bad_list_parameters_are_4xx(app_client, read_headers, database):
    await _seed(database)

    unknown_persona = await app_client.get(
        "/api/v1/contacts", params={"persona": "ghost"}, headers=read_headers
    )
    bad_cursor = await app_client.get(
        "/api/v1/deals", params={"cursor": "nope"}, headers=read_headers
    )
    foreign_cursor = await app_client.get(
        "/api/v1/contacts",
        params={
            "cursor": (
                await app_client.get("/api/v1/deals", params={"limit": 1}, headers=read_headers)
            ).json()["next_cursor"]
        },
        headers=read_headers,
    )
    huge_id = await app_client.get(
        "/api/v1/deals", params={"account_id": 2**63}, headers=read_headers
    )
    unknown_parameter = await app_client.get(
        "/api/v1/deals", params={"stage": "won"}, headers=read_headers
    )

    assert unknown_persona.status_code == 422
    assert "economic_buyer" in unknown_persona.json()["detail"][0]["message"]
    assert bad_cursor.status_code == 400
    assert foreign_cursor.status_code == 400
    assert huge_id.status_code == 422
    assert unknown_parameter.status_code == 422


async def test_an_account_s_detail_lists_its_deals_contacts_and_persona_counts(
    app_client, read_headers, database
):
    from app.connections.service import mark_outcomes_read

    connection_id, accounts = await _seed(database)
    async with database.transaction() as session:
        await mark_outcomes_read(
            session, connection_id=uuid.UUID(connection_id), deals=True, contacts=True
        )

    detail = (
        await app_client.get(f"/api/v1/accounts/{accounts['acme']}", headers=read_headers)
    ).json()
    other = (
        await app_client.get(f"/api/v1/accounts/{accounts['globex']}", headers=read_headers)
    ).json()

    assert [d["external_id"] for d in detail["deals"]] == ["d1", "d3", "d5", "d7", "d9"]
    assert len(detail["contacts"]) == len(TITLES)
    assert detail["personas"] == {"economic_buyer": 2, "seo_champion": 2}
    assert detail["current_score"]["criteria"][0]["status"] == "matched"
    assert other["contacts"] == [] and other["personas"] == {"economic_buyer": 0, "seo_champion": 0}
