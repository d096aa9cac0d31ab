"""`icp-sync icp health`: the active ICP's health as a table, the API's figures in it."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.core.config import get_settings


@pytest.fixture
def runner(settings, monkeypatch) -> CliRunner:
    monkeypatch.setenv("ICP_SYNC_DATABASE_URL", settings.database_url.get_secret_value())
    monkeypatch.setenv("ICP_SYNC_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("ICP_SYNC_SECRET_KEYS", settings.secret_keys.get_secret_value())
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_icp_health_prints_age_drift_fill_and_alerts_as_a_table(
    runner, settings, database_url, example_icp_yaml
):
    from app.core.db import close_database, open_database
    from app.health.service import icp_health
    from app.jobs.runtime import open_job_queue
    from tests.api.test_health import (
        activate_example,
        crm_connection,
        population,
        set_activated_days_ago,
        store,
    )

    async def seed() -> dict:
        # The CLI runs its own event loop and database: seed in one of our own first.
        database = open_database(settings)
        try:
            async with open_job_queue(database_url, max_size=2):
                await activate_example(database, example_icp_yaml)
                connection = await crm_connection(database)
                rows = population(400, seed=1)
                await store(database, connection.id, rows)
                async with database.transaction() as session:
                    await icp_health(session)  # the baseline
                moved = [{**r, "data": {**r["data"], "country": "DE"}} for r in rows[:200]]
                await store(database, connection.id, moved)
                set_activated_days_ago(database_url, 120)
                async with database.transaction() as session:
                    return await icp_health(session)
        finally:
            await close_database()

    report = asyncio.run(seed())

    result = runner.invoke(cli, ["icp", "health"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        "US new media, post-Series A v1: active for 120 days, review soon "
        "(review soon from 90 days, stale from 180)"
    )
    assert lines[1].startswith("baseline taken ") and lines[1].endswith("400 live accounts now")
    rows = {line.split()[0]: line.split()[1:] for line in lines[3:11]}
    assert rows["country"][:2] == [f"{report['psi']['fields']['country']:.3f}", "ALERT"]
    assert rows["country"][2:] == ["100.0%", "100.0%"]
    assert rows["employees"][1] == "stable"
    assert rows["tiers"][0] == f"{report['psi']['tiers']:.3f}"
    assert "alerts:" in lines
    assert any(line.startswith("  age: ") for line in lines)
    assert any(line.startswith("  field_drift: country: ") for line in lines)


def test_icp_health_without_an_active_icp_says_so(runner, database_url):
    result = runner.invoke(cli, ["icp", "health"])

    assert result.exit_code == 1
    assert "no ICP is active" in result.output
