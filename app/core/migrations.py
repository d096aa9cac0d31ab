"""Alembic, driven from code: upgrade on start (embedded mode) and the readiness check."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection, create_engine, inspect, text
from sqlalchemy.pool import NullPool

# Shipped inside the package, so an installed (not editable) icp-sync can migrate; the
# top-level migrations/ of a checkout points here, for the alembic command.
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def alembic_config(url: URL) -> Config:
    """Alembic's config pointed at ``url`` and the packaged migrations (alembic.ini in a
    checkout only serves the alembic command)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    return config


def upgrade_to_head(url: URL) -> None:
    """Apply every pending migration (blocking; call from a thread in async code)."""
    command.upgrade(alembic_config(url), "head")


def head_revisions(url: URL) -> set[str]:
    """The revisions a fully migrated database is at."""
    return set(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def current_revisions(connection: Connection) -> set[str]:
    """The revisions the connected database is at (read straight from ``alembic_version``:
    alembic's MigrationContext logs two lines per call, and readiness probes call often)."""
    if not inspect(connection).has_table("alembic_version"):
        return set()
    return set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def database_revisions(url: URL) -> set[str]:
    """The revisions the database at ``url`` is at (blocking)."""
    engine = create_engine(url.set(drivername="postgresql+psycopg"), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return current_revisions(connection)
    finally:
        engine.dispose()


def pending_migrations(url: URL) -> list[str]:
    """The migrations not yet applied to the database at ``url``, oldest first, each as
    ``revision: message`` (blocking)."""
    scripts = ScriptDirectory.from_config(alembic_config(url))
    current = database_revisions(url)
    pending = scripts.iterate_revisions("heads", tuple(current) or "base")
    return [f"{script.revision}: {script.doc}" for script in reversed(list(pending))]
