"""icp health: baselines, daily checks, and events that name no account

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('icp_baselines',
    sa.Column('icp_version_id', sa.Uuid(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accounts', sa.Integer(), nullable=False),
    sa.Column('tiers', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('fields', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.ForeignKeyConstraint(['icp_version_id'], ['icp_versions.id'], name=op.f('fk_icp_baselines_icp_version_id_icp_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('icp_version_id', name=op.f('pk_icp_baselines'))
    )
    op.create_table('icp_health_checks',
    sa.Column('icp_version_id', sa.Uuid(), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('report', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('alert_keys', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.ForeignKeyConstraint(['icp_version_id'], ['icp_versions.id'], name=op.f('fk_icp_health_checks_icp_version_id_icp_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('icp_version_id', name=op.f('pk_icp_health_checks'))
    )
    # icp.health_alert is about the ICP, not one account.
    op.alter_column('webhook_events', 'account_id', existing_type=sa.BigInteger(), nullable=True)


def downgrade() -> None:
    # Events that name no account cannot stay in a column that requires one.
    op.execute('DELETE FROM webhook_events WHERE account_id IS NULL')
    op.alter_column('webhook_events', 'account_id', existing_type=sa.BigInteger(), nullable=False)
    op.drop_table('icp_health_checks')
    op.drop_table('icp_baselines')
