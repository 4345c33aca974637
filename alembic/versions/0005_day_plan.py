"""reminders: one plan per athlete and local day

The outbox key moves from (activity_id, step) to (athlete_id, local_day, step). Existing rows get the local
date their activity ended on (its own zone, else the athlete's, else UTC). Where several activities of one
day each had a row for the same step (the doubled reminders this fixes), one row keeps the day: a row
already handed to dispatch first (its history stays), else the earliest. The others keep their history with
local_day NULL (NULLs never collide in a unique key), and those not yet sent are cancelled.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:40:00
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNSENT = ('planned', 'skipped', 'cancelled')


def _zone(*names: str | None) -> ZoneInfo:
    for name in names:
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo('UTC')


def _aware(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _local_days(connection: sa.Connection) -> dict[int, tuple[int, date, str, str]]:
    rows = connection.execute(
        sa.text(
            'SELECT r.id, r.athlete_id, r.step, r.status, a.start_date, a.elapsed_time, a.timezone, t.timezone '
            'FROM reminders r JOIN activities a ON a.id = r.activity_id '
            'LEFT JOIN athletes t ON t.id = r.athlete_id'
        )
    )
    days = {}
    for rid, athlete_id, step, status, start, elapsed, zone, athlete_zone in rows:
        end = _aware(start) + timedelta(seconds=elapsed or 0)
        days[rid] = (athlete_id, end.astimezone(_zone(zone, athlete_zone)).date(), step, status)
    return days


def upgrade() -> None:
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('local_day', sa.Date(), nullable=True))

    connection = op.get_bind()
    reminders = sa.table(
        'reminders',
        sa.column('id', sa.Integer),
        sa.column('local_day', sa.Date),
        sa.column('status', sa.String),
        sa.column('last_error', sa.Text),
    )
    groups: dict[tuple[int, date, str], list[tuple[int, str]]] = {}
    for rid, (athlete_id, day, step, status) in sorted(_local_days(connection).items()):
        groups.setdefault((athlete_id, day, step), []).append((rid, status))
    for (_, day, _), members in groups.items():
        # A row already with dispatch (sending, sent, failed, expired, …) keeps the day; else the first.
        keeper = next((rid for rid, status in members if status not in _UNSENT), members[0][0])
        connection.execute(sa.update(reminders).where(reminders.c.id == keeper).values(local_day=day))
        merged = [rid for rid, status in members if rid != keeper and status in ('planned', 'skipped')]
        if merged:
            connection.execute(
                sa.update(reminders)
                .where(reminders.c.id.in_(merged))
                .values(status='cancelled', last_error='merged into the day plan')
            )

    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_constraint('uq_reminders_activity_id', type_='unique')
        batch_op.create_unique_constraint(
            batch_op.f('uq_reminders_athlete_id'), ['athlete_id', 'local_day', 'step']
        )


def downgrade() -> None:
    connection = op.get_bind()
    # The old key allows one row per (activity, step): rows of a day plan already are.
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_reminders_athlete_id'), type_='unique')
    duplicates = connection.execute(
        sa.text(
            'SELECT id FROM reminders r WHERE EXISTS (SELECT 1 FROM reminders o WHERE o.activity_id = '
            'r.activity_id AND o.step = r.step AND o.id < r.id)'
        )
    ).scalars().all()
    if duplicates:
        connection.execute(sa.text('DELETE FROM reminders WHERE id IN :ids').bindparams(sa.bindparam('ids', expanding=True)), {'ids': list(duplicates)})
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_reminders_activity_id', ['activity_id', 'step'])
        batch_op.drop_column('local_day')
