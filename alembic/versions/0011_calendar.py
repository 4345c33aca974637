"""the calendar feed: one secret URL per athlete, its token kept as a SHA-256 digest

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 11:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'calendar_links',
        sa.Column('id', _ID, nullable=False),
        sa.Column('athlete_id', sa.BigInteger(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['athlete_id'], ['athletes.id'], name=op.f('fk_calendar_links_athlete_id_athletes'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_calendar_links_token_hash')),
    )
    op.create_index(op.f('ix_calendar_links_athlete_id'), 'calendar_links', ['athlete_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_calendar_links_athlete_id'), table_name='calendar_links')
    op.drop_table('calendar_links')
