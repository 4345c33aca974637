"""the page: sign-in links, sessions, answers to reminders

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('reminders') as batch:
        batch.add_column(sa.Column('response', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        'signin_links',
        sa.Column('id', _ID, nullable=False),
        sa.Column('athlete_id', sa.BigInteger(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['athlete_id'], ['athletes.id'], name=op.f('fk_signin_links_athlete_id_athletes'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_signin_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_signin_links_token_hash')),
    )
    op.create_index(op.f('ix_signin_links_athlete_id'), 'signin_links', ['athlete_id'], unique=False)

    op.create_table(
        'web_sessions',
        sa.Column('id', _ID, nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('athlete_id', sa.BigInteger(), nullable=True),
        sa.Column('csrf_token', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['athlete_id'], ['athletes.id'], name=op.f('fk_web_sessions_athlete_id_athletes'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_web_sessions_token_hash')),
    )
    op.create_index(op.f('ix_web_sessions_athlete_id'), 'web_sessions', ['athlete_id'], unique=False)

    op.create_table(
        'signing_keys',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('secret', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_signing_keys')),
    )

    op.create_table(
        'effort_corrections',
        sa.Column('activity_id', sa.BigInteger(), nullable=False),
        sa.Column('effort', sa.String(length=20), nullable=False),
        sa.Column('classified_as', sa.String(length=20), nullable=True),
        sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['activity_id'], ['activities.id'],
                                name=op.f('fk_effort_corrections_activity_id_activities'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('activity_id', name=op.f('pk_effort_corrections')),
    )


def downgrade() -> None:
    op.drop_table('effort_corrections')
    op.drop_table('signing_keys')
    op.drop_index(op.f('ix_web_sessions_athlete_id'), table_name='web_sessions')
    op.drop_table('web_sessions')
    op.drop_index(op.f('ix_signin_links_athlete_id'), table_name='signin_links')
    op.drop_table('signin_links')
    with op.batch_alter_table('reminders') as batch:
        batch.drop_column('responded_at')
        batch.drop_column('response')
