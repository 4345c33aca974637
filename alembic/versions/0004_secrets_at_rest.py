"""secrets at rest: encrypted tokens and URLs

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:40:00

Sealed values (Fernet tokens, see scheduler/store/sealed.py) are longer than String(200) and are not JSON, so
the three columns become TEXT. The values are sealed when the application next opens the database (it holds
the key; a migration does not): plaintext stays readable until then.

SQLite cannot change a column's type in place, and rebuilding `athletes` would cascade-delete every activity
and reminder (foreign keys are on inside the migration's transaction). Each column is therefore copied into
a new TEXT column, dropped and renamed, none of which drops the table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOKENS = ('access_token', 'refresh_token')
# Every Fernet token starts so (version byte 0x80, then a timestamp whose first bytes are zero).
SEALED_PREFIX = 'gAAAAA'


def _sqlite_retype(column: str, declaration: str) -> None:
    op.execute(f'ALTER TABLE athletes ADD COLUMN {column}_retyped {declaration}')
    op.execute(f'UPDATE athletes SET {column}_retyped = {column}')
    op.execute(f'ALTER TABLE athletes DROP COLUMN {column}')
    op.execute(f'ALTER TABLE athletes RENAME COLUMN {column}_retyped TO {column}')


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for column in TOKENS:
            _sqlite_retype(column, 'TEXT')
        # ADD COLUMN needs a default for NOT NULL; every insert gives a value anyway.
        _sqlite_retype('notify_urls', "TEXT NOT NULL DEFAULT '[]'")
        return
    for column in TOKENS:
        op.alter_column('athletes', column, type_=sa.Text(), existing_type=sa.String(length=200),
                        existing_nullable=True)
    op.alter_column('athletes', 'notify_urls', type_=sa.Text(), existing_type=sa.JSON(), existing_nullable=False,
                    postgresql_using='notify_urls::text')


def downgrade() -> None:
    sealed = op.get_bind().execute(
        sa.text(
            'SELECT count(*) FROM athletes WHERE access_token LIKE :p OR refresh_token LIKE :p '
            'OR notify_urls LIKE :p'
        ),
        {'p': SEALED_PREFIX + '%'},
    ).scalar_one()
    if sealed:
        raise RuntimeError(
            f'{sealed} athletes have sealed secrets, which revision 0003 cannot hold: '
            'disconnect them (or restore a backup made before 0004) before downgrading'
        )
    if op.get_bind().dialect.name == 'sqlite':
        for column in TOKENS:
            _sqlite_retype(column, 'VARCHAR(200)')
        _sqlite_retype('notify_urls', "JSON NOT NULL DEFAULT '[]'")
        return
    for column in TOKENS:
        op.alter_column('athletes', column, type_=sa.String(length=200), existing_type=sa.Text(),
                        existing_nullable=True)
    op.alter_column('athletes', 'notify_urls', type_=sa.JSON(), existing_type=sa.Text(), existing_nullable=False,
                    postgresql_using='notify_urls::json')
