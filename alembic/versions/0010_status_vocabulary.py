"""one status vocabulary enforced by CHECK constraints

reminders.status and athletes.state were free strings; each now holds only the words of
scheduler.domain.status. A row outside them (none is written by any earlier version) stops the upgrade with
its id, rather than being guessed at.

SQLite adds a CHECK only by rebuilding the table (batch mode). Its foreign keys are on for the whole
migration, and dropping a parent table deletes its children through ON DELETE CASCADE; so the rebuild runs
with foreign keys deferred and the children's rows are put back from a copy taken before.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 10:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REMINDER_STATUSES = ('planned', 'sending', 'sent', 'partial', 'failed', 'expired', 'cancelled', 'skipped')
ATHLETE_STATES = ('active', 'needs_reauth', 'deauthorized', 'suspended', 'files')
CHECKS = {
    'reminders': ('status', REMINDER_STATUSES),
    'athletes': ('state', ATHLETE_STATES),
}


def _one_of(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def _refuse_unknown(connection: sa.Connection, table: str, column: str, values: Sequence[str]) -> None:
    bad = connection.execute(
        sa.text(f'SELECT id, {column} FROM {table} WHERE NOT ({_one_of(column, values)}) ORDER BY id LIMIT 5')
    ).all()
    if bad:
        found = ', '.join(f'{row[0]} ({row[1]!r})' for row in bad)
        raise RuntimeError(f'{table}.{column} holds words outside {values}: ids {found}; fix them first')


def upgrade() -> None:
    connection = op.get_bind()
    for table, (column, values) in CHECKS.items():
        _refuse_unknown(connection, table, column, values)
    for table, (column, values) in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_check_constraint(batch_op.f(f'ck_{table}_{column}'), _one_of(column, values))


def downgrade() -> None:
    for table, (column, _values) in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'ck_{table}_{column}'), type_='check')
