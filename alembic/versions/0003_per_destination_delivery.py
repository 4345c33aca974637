"""reminders: per-destination delivery state

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The new status `partial` needs no schema change: `status` is a plain string column.
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivered_to", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    # Without the column a `partial` row would read as finished but unexplained: call it failed.
    op.execute("UPDATE reminders SET status = 'failed' WHERE status = 'partial'")
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_column("delivered_to")
