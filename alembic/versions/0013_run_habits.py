"""run habits and rest days: the runner's own run times, cold months, how often rest-day foot massages come

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('athletes') as batch:
        batch.add_column(sa.Column('run_times', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('cold_months', sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column('rest_days', sa.String(20), server_default='every_other_day', nullable=False)
        )
        batch.add_column(sa.Column('rest_days_since', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('athletes') as batch:
        batch.drop_column('rest_days_since')
        batch.drop_column('rest_days')
        batch.drop_column('cold_months')
        batch.drop_column('run_times')
