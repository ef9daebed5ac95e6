"""timeline months and days

Revision ID: 3c1f0a7d2b94
Revises: ef61931717f5
Create Date: 2026-12-03 13:30:00.000000

"""
from datetime import UTC, datetime, timedelta
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '3c1f0a7d2b94'
down_revision: Union[str, Sequence[str], None] = 'ef61931717f5'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_photo = sa.table(
    'photo',
    sa.column('id', sa.Uuid()),
    sa.column('taken_at', sa.DateTime(timezone=True)),
    sa.column('taken_at_offset_minutes', sa.Integer()),
    sa.column('taken_day', sa.String(10)),
    sa.column('taken_month', sa.String(7)),
)


def _local_day(taken_at: datetime, offset_minutes: int | None) -> str:
    moment = taken_at.replace(tzinfo=UTC) if taken_at.tzinfo is None else taken_at
    return (moment.astimezone(UTC) + timedelta(minutes=offset_minutes or 0)).date().isoformat()


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.add_column(sa.Column('taken_day', sa.String(length=10), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('taken_month', sa.String(length=7), nullable=False,
                                      server_default=''))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_photo.c.id, _photo.c.taken_at, _photo.c.taken_at_offset_minutes)
    ).all()
    for photo_id, taken_at, offset in rows:
        day = _local_day(taken_at, offset)
        connection.execute(
            _photo.update().where(_photo.c.id == photo_id)
            .values(taken_day=day, taken_month=day[:7])
        )
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.create_index(
            'ix_photo_owner_month_day',
            ['owner_id', 'taken_month', 'taken_day', 'taken_at', 'id'], unique=False,
            sqlite_where=sa.text('deleted_at IS NULL'),
            postgresql_where=sa.text('deleted_at IS NULL'),
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.drop_index('ix_photo_owner_month_day')
        batch_op.drop_column('taken_month')
        batch_op.drop_column('taken_day')
