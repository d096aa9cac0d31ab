"""procrastinate's job-queue schema

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

The schema of the procrastinate release pinned in pyproject.toml (3.10.x). When that pin
moves, add a migration that runs procrastinate's own migration files for the versions in
between (``procrastinate/sql/migrations/``), in order.
"""

from collections.abc import Sequence

from alembic import op
from procrastinate.schema import SchemaManager

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(SchemaManager.get_schema())


def downgrade() -> None:
    op.execute(
        """
        DO $$
        DECLARE object record;
        BEGIN
            FOR object IN SELECT tablename FROM pg_tables
                          WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate%'
            LOOP EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', object.tablename); END LOOP;
            FOR object IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                          JOIN pg_namespace n ON n.oid = p.pronamespace
                          WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%'
            LOOP EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', object.signature); END LOOP;
            FOR object IN SELECT t.typname FROM pg_type t
                          JOIN pg_namespace n ON n.oid = t.typnamespace
                          WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate%'
                            AND t.typtype IN ('e', 'c')
            LOOP EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', object.typname); END LOOP;
        END $$;
        """
    )
