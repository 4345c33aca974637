"""reminders without an activity: messages that look ahead (before a run, rest days, the weekly summary)
and athlete alerts belong to a day, not to an activity that ended

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.alter_column('activity_id', existing_type=sa.BigInteger(), nullable=True)


def downgrade() -> None:
    # Rows without an activity cannot be kept under the old schema; they are messages about a day only.
    op.execute('DELETE FROM reminders WHERE activity_id IS NULL')
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.alter_column('activity_id', existing_type=sa.BigInteger(), nullable=False)
