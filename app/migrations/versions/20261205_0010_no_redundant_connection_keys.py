"""no redundant connection keys on link and outbox rows

A deal's or contact's company links and a queued write-back were tied to their connection
twice: through their owner (deal, contact, account), which is deleted with its connection
and deletes them in turn, and by a foreign key of their own to ``connections``. The second
cost a trigger call per row stored (half the cost of storing a new link) and guarded
nothing the first does not.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEYS = {
    'deal_accounts': 'fk_deal_accounts_connection_id_connections',
    'contact_accounts': 'fk_contact_accounts_connection_id_connections',
    'writeback_outbox': 'fk_writeback_outbox_connection_id_connections',
}


def upgrade() -> None:
    for table, key in _KEYS.items():
        op.drop_constraint(key, table, type_='foreignkey')


def downgrade() -> None:
    for table, key in _KEYS.items():
        op.create_foreign_key(
            key, table, 'connections', ['connection_id'], ['id'], ondelete='CASCADE'
        )
