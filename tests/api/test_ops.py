"""Health, readiness, metrics and the OpenAPI page."""

from __future__ import annotations


async def test_healthz(app_client):
    response = await app_client.get("/healthz")
    assert response.status_code == 200


async def test_readyz_is_200_when_migrated(app_client):
    response = await app_client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_readyz_is_503_when_migrations_are_pending(app_client, database_url):
    import psycopg

    from app.core.db import libpq_conninfo

    with psycopg.connect(libpq_conninfo(database_url), autocommit=True) as connection:
        (head,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        connection.execute("UPDATE alembic_version SET version_num = '0001'")
        try:
            response = await app_client.get("/readyz")
        finally:
            connection.execute("UPDATE alembic_version SET version_num = %s", (head,))
    assert response.status_code == 503
    assert "migrate" in response.json()["detail"]


async def test_metrics_count_requests_by_route_template(app_client, read_headers):
    await app_client.get("/api/v1/icps", headers=read_headers)
    text = (await app_client.get("/metrics")).text
    assert 'icp_sync_http_requests_total{method="GET",route="/api/v1/icps",status="200"}' in text


async def test_openapi_docs_are_served(app_client):
    assert (await app_client.get("/docs")).status_code == 200
    schema = (await app_client.get("/openapi.json")).json()
    assert "/api/v1/score" in schema["paths"]


async def test_unknown_route_uses_the_error_shape(app_client):
    response = await app_client.get("/nope")
    assert response.status_code == 404
    assert response.json()["error"] == "NotFound"


async def test_a_serving_process_settles_its_garbage_collector(settings):
    """`icp-sync serve` freezes what start-up built and collects the young generation less
    often; apps built in tests leave the collector alone."""
    import gc

    from app.core.collector import GC_YOUNG_THRESHOLD
    from app.main import create_app

    before = gc.get_threshold()
    app = create_app(settings, run_worker=False, migrate=False, tune_gc=True)
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
    untuned = create_app(settings, run_worker=False, migrate=False)
    async with untuned.router.lifespan_context(untuned):
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() == 0
