"""FastAPI app factory: lifespan (database, migrations, job queue, worker) and routers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.router import router as accounts_router
from app.apikeys.router import router as api_keys_router
from app.connections.router import router as connections_router
from app.contacts.router import router as contacts_router
from app.core.collector import settle_garbage_collector
from app.core.config import Settings, get_settings
from app.core.db import close_database, database_url, open_database
from app.core.docs import install_docs
from app.core.http import (
    ERROR_RESPONSES,
    MetricsMiddleware,
    RequestGuardMiddleware,
    install_error_handlers,
    refuse_unknown_query_parameters,
)
from app.core.logging import configure_logging
from app.core.metrics import INBOX_PENDING, JOB_QUEUE_DEPTH, OUTBOX_PENDING
from app.core.migrations import current_revisions, head_revisions, upgrade_to_head
from app.core.security import configure_secrets, purpose_cipher
from app.deals.router import router as deals_router
from app.health.router import router as health_router
from app.health.service import refresh_health_gauges
from app.icps.router import router as icps_router
from app.inbox.repository import WebhookInboxRepository
from app.inbox.router import router as webhooks_router
from app.inbox.writer import InboxWriter
from app.insights.router import router as insights_router
from app.jobs import TaskName
from app.jobs.router import router as jobs_router
from app.jobs.runtime import background_worker, open_job_queue, queue_depth
from app.subscriptions.router import router as webhook_endpoints_router
from app.sync.router import connection_sync_router
from app.sync.router import router as sync_router
from app.ui.router import router as dashboard_router
from app.ui.session import SessionCookies
from app.writeback.repository import WritebackRepository

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    *,
    run_worker: bool = True,
    migrate: bool | None = None,
    tune_gc: bool = False,
) -> FastAPI:
    """The service. ``migrate`` defaults to on for the embedded database, off for an external
    one (production migrates once, with ``icp-sync migrate``, not from N replicas at once).
    ``tune_gc``: the serving process's garbage-collector settings (see
    ``settle_garbage_collector``); off in tests, which build many apps in one process."""
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = await asyncio.to_thread(database_url, settings)
        if settings.embedded if migrate is None else migrate:
            await asyncio.to_thread(upgrade_to_head, url)
        app.state.database = open_database(settings)
        configure_secrets(settings)
        app.state.session_cookies = SessionCookies(
            purpose_cipher(settings, "dashboard session"),
            max_age_seconds=settings.dashboard_session_hours * 3600,
            secure=settings.dashboard_secure_cookie,
        )
        app.state.head_revisions = head_revisions(url)
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(open_job_queue(url))
            app.state.inbox = await stack.enter_async_context(InboxWriter(app.state.database))
            if run_worker:
                await stack.enter_async_context(
                    background_worker(concurrency=settings.worker_concurrency)
                )
            if tune_gc:
                settle_garbage_collector()
            yield
        await close_database()

    app = FastAPI(
        title="icp-sync",
        version="0.1.0",
        summary="Score CRM companies against your ICP and write the verdict back to the CRM.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
        docs_url=None,
        redoc_url=None,
    )
    install_docs(app)
    app.add_middleware(RequestGuardMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware)
    install_error_handlers(app)
    # First: routes are matched in order, and the CRMs' webhooks are the busiest by far.
    app.include_router(webhooks_router)
    api = [Depends(refuse_unknown_query_parameters)]
    for router in (
        icps_router,
        insights_router,
        health_router,
        accounts_router,
        contacts_router,
        deals_router,
        connections_router,
        connection_sync_router,
        sync_router,
        webhook_endpoints_router,
        api_keys_router,
        jobs_router,
    ):
        app.include_router(router, dependencies=api)
    app.include_router(dashboard_router)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    async def readyz(request: Request) -> JSONResponse:
        """200 when the database answers and its schema is at the latest migration."""
        try:
            async with request.app.state.database.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                current = await connection.run_sync(current_revisions)
        except Exception as exc:  # any failure to reach the database means "not ready"
            # The driver's words go to the log, not to whoever probes (they name hosts).
            log.warning("readiness: the database is not answering: %s", exc)
            return JSONResponse(
                {"status": "unavailable", "detail": "the database is not answering"},
                status_code=503,
            )
        if current != request.app.state.head_revisions:
            return JSONResponse(
                {"status": "migrations pending", "detail": "run `icp-sync migrate`"},
                status_code=503,
            )
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
    async def metrics(request: Request) -> PlainTextResponse:
        """Prometheus text exposition: this process's counters, and the cluster's backlogs
        read from PostgreSQL (so every replica reports the same truth)."""
        try:
            async with request.app.state.database.transaction() as session:
                await refresh_backlog_gauges(session)
        except Exception as exc:  # the process's own figures are still worth serving
            log.warning("metrics: backlogs not read: %s", exc)
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


async def refresh_backlog_gauges(session: AsyncSession) -> None:
    """Set the gauges read from the database: outbox, webhook inbox, job queue, and the
    active ICP's health (its latest daily check)."""
    OUTBOX_PENDING.set(await WritebackRepository(session).waiting_count())
    INBOX_PENDING.set(await WebhookInboxRepository(session).unprocessed_count())
    depth = await queue_depth(session)
    JOB_QUEUE_DEPTH.clear()  # forget labels of tasks no longer queued (old names, say)
    for task in {*map(str, TaskName), *depth}:
        JOB_QUEUE_DEPTH.labels(task).set(depth.get(task, 0))
    await refresh_health_gauges(session)


def app_from_env() -> FastAPI:
    """Entry point for ``uvicorn app.main:app_from_env --factory``."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings, tune_gc=True)
