"""activities from files

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'file_imports',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('athlete_id', sa.BigInteger(), nullable=False),
        sa.Column('activity_id', sa.BigInteger(), nullable=True),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('file_name', sa.String(length=300), nullable=False),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['athlete_id'], ['athletes.id'], name=op.f('fk_file_imports_athlete_id_athletes'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('sha256', name=op.f('pk_file_imports')),
    )
    op.create_index(op.f('ix_file_imports_athlete_id'), 'file_imports', ['athlete_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_file_imports_athlete_id'), table_name='file_imports')
    op.drop_table('file_imports')
