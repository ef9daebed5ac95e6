"""timeline index covers the trash column

Revision ID: 5d2e8b1c4a07
Revises: 9e4b1c7a2d58
Create Date: 2026-12-03 13:35:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '5d2e8b1c4a07'
down_revision: Union[str, Sequence[str], None] = '9e4b1c7a2d58'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # A partial index on "deleted_at IS NULL" is not covering in SQLite: the month counts read
    # the table. With deleted_at in the index they come from the index alone.
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.drop_index('ix_photo_owner_month_day')
        batch_op.create_index(
            'ix_photo_owner_timeline_days',
            ['owner_id', 'deleted_at', 'taken_month', 'taken_day', 'taken_at', 'id'],
            unique=False,
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.drop_index('ix_photo_owner_timeline_days')
        batch_op.create_index(
            'ix_photo_owner_month_day',
            ['owner_id', 'taken_month', 'taken_day', 'taken_at', 'id'], unique=False,
            sqlite_where=sa.text('deleted_at IS NULL'),
            postgresql_where=sa.text('deleted_at IS NULL'),
        )
