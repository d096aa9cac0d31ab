"""sync runs and write-back outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 22:22:26.393649
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Alembic does not autogenerate sequences.
    op.execute(sa.schema.CreateSequence(sa.Sequence("writeback_revision_seq")))
    op.create_table(
        "connection_rate_limits",
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("tokens", sa.Double(), nullable=False),
        sa.Column(
            "refilled_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_connection_rate_limits_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_connection_rate_limits")),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column(
            "counts", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_sync_runs_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    op.create_index(
        op.f("ix_sync_runs_connection_id_created_at"),
        "sync_runs",
        ["connection_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "account_writebacks",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("icp_version_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("tier", sa.CHAR(length=1), nullable=False),
        sa.Column("is_mql", sa.Boolean(), nullable=False),
        sa.Column("is_sql", sa.Boolean(), nullable=False),
        sa.Column(
            "written_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_writebacks_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["icp_version_id"],
            ["icp_versions.id"],
            name=op.f("fk_account_writebacks_icp_version_id_icp_versions"),
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_writebacks")),
    )
    op.create_table(
        "writeback_outbox",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("icp_version_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("tier", sa.CHAR(length=1), nullable=False),
        sa.Column("is_mql", sa.Boolean(), nullable=False),
        sa.Column("is_sql", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "revision",
            sa.BigInteger(),
            server_default=sa.text("nextval('writeback_revision_seq')"),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_writeback_outbox_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_writeback_outbox_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["icp_version_id"],
            ["icp_versions.id"],
            name=op.f("fk_writeback_outbox_icp_version_id_icp_versions"),
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_writeback_outbox")),
    )
    op.create_index(
        op.f("ix_writeback_outbox_connection_id_next_attempt_at"),
        "writeback_outbox",
        ["connection_id", "next_attempt_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_writeback_outbox_connection_id_next_attempt_at"), table_name="writeback_outbox"
    )
    op.drop_table("writeback_outbox")
    op.drop_table("account_writebacks")
    op.drop_index(op.f("ix_sync_runs_connection_id_created_at"), table_name="sync_runs")
    op.drop_table("sync_runs")
    op.drop_table("connection_rate_limits")
    op.execute(sa.schema.DropSequence(sa.Sequence("writeback_revision_seq")))
