"""icp versions are kept: one guard on the versions, not a key check per verdict row

Every verdict row (current scores, their history, queued and confirmed write-backs) names
the ICP version it was scored with, and a foreign key checked that version on each row
stored: four trigger calls per account scored, about 7 µs each, about a tenth of the
database's work in a first sync. Versions are never deleted (an ICP file changes by adding a
version), so the keys could only ever refuse a delete. That is now said once, on the
versions: a trigger refuses to delete one (or change its id) with a clear error, and the
verdict rows keep a plain column.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_VERDICT_TABLES = (
    'account_scores', 'account_score_history', 'writeback_outbox', 'account_writebacks'
)


def _key(table: str) -> str:
    return f'fk_{table}_icp_version_id_icp_versions'


def upgrade() -> None:
    for table in _VERDICT_TABLES:
        op.drop_constraint(_key(table), table, type_='foreignkey')
    op.execute(
        """
        CREATE FUNCTION icp_versions_are_kept() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'ICP version % is kept: verdicts, their history and CRM '
                            'write-backs name it', OLD.id
                USING ERRCODE = 'restrict_violation';
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER icp_versions_are_kept
        BEFORE DELETE OR UPDATE OF id ON icp_versions
        FOR EACH ROW EXECUTE FUNCTION icp_versions_are_kept()
        """
    )


def downgrade() -> None:
    op.execute('DROP TRIGGER icp_versions_are_kept ON icp_versions')
    op.execute('DROP FUNCTION icp_versions_are_kept()')
    for table in _VERDICT_TABLES:
        op.create_foreign_key(_key(table), table, 'icp_versions', ['icp_version_id'], ['id'])
