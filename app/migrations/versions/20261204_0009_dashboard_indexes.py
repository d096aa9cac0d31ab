"""dashboard indexes: live and archived accounts, verdicts by score

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_accounts_live', 'accounts', ['id'], unique=False, postgresql_where=sa.text('NOT archived'))
    op.create_index('ix_accounts_archived', 'accounts', ['id'], unique=False, postgresql_where=sa.text('archived'))
    op.create_index(op.f('ix_account_scores_score_account_id'), 'account_scores', ['score', 'account_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_account_scores_score_account_id'), table_name='account_scores')
    op.drop_index('ix_accounts_archived', table_name='accounts', postgresql_where=sa.text('archived'))
    op.drop_index('ix_accounts_live', table_name='accounts', postgresql_where=sa.text('NOT archived'))
