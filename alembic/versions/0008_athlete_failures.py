"""per-athlete failures made visible

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('athletes') as batch:
        batch.add_column(sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('failed_polls', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('athletes') as batch:
        batch.drop_column('failed_polls')
        batch.drop_column('failing_since')
