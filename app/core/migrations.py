"""Alembic, driven from code: upgrade on start (embedded mode) and the readiness check."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: URL) -> Config:
    """Alembic's config pointed at ``url`` (the ini file only sets paths and logging)."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["url"] = url
    return config


def upgrade_to_head(url: URL) -> None:
    """Apply every pending migration (blocking; call from a thread in async code)."""
    command.upgrade(alembic_config(url), "head")


def head_revisions(url: URL) -> set[str]:
    """The revisions a fully migrated database is at."""
    return set(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def current_revisions(connection: Connection) -> set[str]:
    """The revisions the connected database is at."""
    return set(MigrationContext.configure(connection).get_current_heads())
