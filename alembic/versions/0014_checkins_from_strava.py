"""check-ins raised by an activity's words on Strava ("knee hurts" in its name, description or private
note): the activity that raised each, one per activity and kind, so a re-poll never raises it again

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('checkins') as batch:
        batch.add_column(sa.Column('activity_id', sa.BigInteger(), nullable=True))
        batch.create_foreign_key(
            'fk_checkins_activity_id_activities', 'activities', ['activity_id'], ['id'], ondelete='SET NULL'
        )
        batch.create_unique_constraint('uq_checkins_activity_id', ['activity_id', 'kind'])


def downgrade() -> None:
    with op.batch_alter_table('checkins') as batch:
        batch.drop_constraint('uq_checkins_activity_id', type_='unique')
        batch.drop_constraint('fk_checkins_activity_id_activities', type_='foreignkey')
        batch.drop_column('activity_id')
