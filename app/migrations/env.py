"""Alembic environment: our tables from app.models; procrastinate's schema is a migration."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from app.core.config import get_settings
from app.core.db import database_url
from app.models import Base

config = context.config
target_metadata = Base.metadata


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave procrastinate's tables, types and functions to procrastinate."""
    if type_ == "table" and name is not None:
        return not name.startswith("procrastinate")
    return True


def run_migrations_online() -> None:
    """Migrate over a short-lived synchronous connection."""
    url = config.attributes.get("url") or database_url(get_settings())
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_name=include_name,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
