"""timeline counts by month and day

Revision ID: 98bd433c56b8
Revises: 5d2e8b1c4a07
Create Date: 2026-12-03 16:40:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '98bd433c56b8'
down_revision: Union[str, Sequence[str], None] = '5d2e8b1c4a07'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# A copy of imgstream.indexes.TIMELINE_COUNT_DDL as this revision made the counts.
_SQLITE_TRIGGERS = [
    'CREATE TRIGGER timeline_count_insert AFTER INSERT ON photo WHEN NEW.deleted_at IS NULL BEGIN INSERT INTO timeline_day_count (owner_id, taken_day, taken_month, photos) VALUES (NEW.owner_id, NEW.taken_day, NEW.taken_month, 1) ON CONFLICT (owner_id, taken_day) DO UPDATE SET photos = timeline_day_count.photos + 1; INSERT INTO timeline_month_count (owner_id, taken_month, photos, days) VALUES (NEW.owner_id, NEW.taken_month, 1, (SELECT count(*) FROM timeline_day_count AS d WHERE d.owner_id = NEW.owner_id AND d.taken_month = NEW.taken_month)) ON CONFLICT (owner_id, taken_month) DO UPDATE SET photos = timeline_month_count.photos + 1, days = excluded.days; END',
    'CREATE TRIGGER timeline_count_delete AFTER DELETE ON photo WHEN OLD.deleted_at IS NULL BEGIN UPDATE timeline_day_count SET photos = photos - 1 WHERE owner_id = OLD.owner_id AND taken_day = OLD.taken_day; DELETE FROM timeline_day_count WHERE owner_id = OLD.owner_id AND taken_day = OLD.taken_day AND photos <= 0; UPDATE timeline_month_count SET photos = photos - 1, days = (SELECT count(*) FROM timeline_day_count AS d WHERE d.owner_id = OLD.owner_id AND d.taken_month = OLD.taken_month) WHERE owner_id = OLD.owner_id AND taken_month = OLD.taken_month; DELETE FROM timeline_month_count WHERE owner_id = OLD.owner_id AND taken_month = OLD.taken_month AND photos <= 0; END',
    'CREATE TRIGGER timeline_count_leave AFTER UPDATE OF owner_id, deleted_at, taken_day, taken_month ON photo WHEN OLD.deleted_at IS NULL AND (NEW.deleted_at IS NOT NULL OR (NEW.owner_id IS NOT OLD.owner_id OR NEW.taken_day IS NOT OLD.taken_day OR NEW.taken_month IS NOT OLD.taken_month)) BEGIN UPDATE timeline_day_count SET photos = photos - 1 WHERE owner_id = OLD.owner_id AND taken_day = OLD.taken_day; DELETE FROM timeline_day_count WHERE owner_id = OLD.owner_id AND taken_day = OLD.taken_day AND photos <= 0; UPDATE timeline_month_count SET photos = photos - 1, days = (SELECT count(*) FROM timeline_day_count AS d WHERE d.owner_id = OLD.owner_id AND d.taken_month = OLD.taken_month) WHERE owner_id = OLD.owner_id AND taken_month = OLD.taken_month; DELETE FROM timeline_month_count WHERE owner_id = OLD.owner_id AND taken_month = OLD.taken_month AND photos <= 0; END',
    'CREATE TRIGGER timeline_count_enter AFTER UPDATE OF owner_id, deleted_at, taken_day, taken_month ON photo WHEN NEW.deleted_at IS NULL AND (OLD.deleted_at IS NOT NULL OR (NEW.owner_id IS NOT OLD.owner_id OR NEW.taken_day IS NOT OLD.taken_day OR NEW.taken_month IS NOT OLD.taken_month)) BEGIN INSERT INTO timeline_day_count (owner_id, taken_day, taken_month, photos) VALUES (NEW.owner_id, NEW.taken_day, NEW.taken_month, 1) ON CONFLICT (owner_id, taken_day) DO UPDATE SET photos = timeline_day_count.photos + 1; INSERT INTO timeline_month_count (owner_id, taken_month, photos, days) VALUES (NEW.owner_id, NEW.taken_month, 1, (SELECT count(*) FROM timeline_day_count AS d WHERE d.owner_id = NEW.owner_id AND d.taken_month = NEW.taken_month)) ON CONFLICT (owner_id, taken_month) DO UPDATE SET photos = timeline_month_count.photos + 1, days = excluded.days; END',
]
_POSTGRESQL_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION timeline_count() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP = 'UPDATE' THEN  IF NOT (OLD.deleted_at IS NULL AND (NEW.deleted_at IS NOT NULL OR  (NEW.owner_id IS DISTINCT FROM OLD.owner_id OR NEW.taken_day IS DISTINCT FROM OLD.taken_day OR NEW.taken_month IS DISTINCT FROM OLD.taken_month)))   AND NOT (NEW.deleted_at IS NULL AND (OLD.deleted_at IS NOT NULL OR  (NEW.owner_id IS DISTINCT FROM OLD.owner_id OR NEW.taken_day IS DISTINCT FROM OLD.taken_day OR NEW.taken_month IS DISTINCT FROM OLD.taken_month))) THEN RETURN NULL; END IF; END IF; IF TG_OP IN ('UPDATE', 'DELETE') THEN IF OLD.deleted_at IS NULL THEN UPDATE timeline_day_count SET photos = photos - 1 WHERE owner_id = OLD.owner_id AND taken_day = OLD.taken_day; DELETE FROM timeline_day_count WHERE owner_id = OLD.owner_id AND taken_day = OLD.taken_day AND photos <= 0; UPDATE timeline_month_count SET photos = photos - 1, days = (SELECT count(*) FROM timeline_day_count AS d WHERE d.owner_id = OLD.owner_id AND d.taken_month = OLD.taken_month) WHERE owner_id = OLD.owner_id AND taken_month = OLD.taken_month; DELETE FROM timeline_month_count WHERE owner_id = OLD.owner_id AND taken_month = OLD.taken_month AND photos <= 0; END IF; END IF; IF TG_OP IN ('UPDATE', 'INSERT') THEN IF NEW.deleted_at IS NULL THEN INSERT INTO timeline_day_count (owner_id, taken_day, taken_month, photos) VALUES (NEW.owner_id, NEW.taken_day, NEW.taken_month, 1) ON CONFLICT (owner_id, taken_day) DO UPDATE SET photos = timeline_day_count.photos + 1; INSERT INTO timeline_month_count (owner_id, taken_month, photos, days) VALUES (NEW.owner_id, NEW.taken_month, 1, (SELECT count(*) FROM timeline_day_count AS d WHERE d.owner_id = NEW.owner_id AND d.taken_month = NEW.taken_month)) ON CONFLICT (owner_id, taken_month) DO UPDATE SET photos = timeline_month_count.photos + 1, days = excluded.days; END IF; END IF; RETURN NULL; END $$",
    'CREATE TRIGGER timeline_count AFTER INSERT OR DELETE OR UPDATE OF owner_id, deleted_at, taken_day, taken_month ON photo FOR EACH ROW EXECUTE FUNCTION timeline_count()',
]
_TILE_COLUMNS = ['owner_id', 'deleted_at', 'taken_month', 'taken_day', 'taken_at', 'id',
                 'revision', 'width', 'height', 'favorite', 'filename', 'thumbhash']


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'timeline_day_count',
        sa.Column('owner_id', sa.Uuid(), nullable=False),
        sa.Column('taken_day', sa.String(length=10), nullable=False),
        sa.Column('taken_month', sa.String(length=7), nullable=False),
        sa.Column('photos', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('owner_id', 'taken_day'),
    )
    op.create_index('ix_timeline_day_count_month', 'timeline_day_count',
                    ['owner_id', 'taken_month', 'taken_day', 'photos'], unique=False)
    op.create_table(
        'timeline_month_count',
        sa.Column('owner_id', sa.Uuid(), nullable=False),
        sa.Column('taken_month', sa.String(length=7), nullable=False),
        sa.Column('photos', sa.Integer(), nullable=False),
        sa.Column('days', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('owner_id', 'taken_month'),
    )
    op.drop_index('ix_photo_owner_timeline_days', table_name='photo')
    op.create_index('ix_photo_owner_timeline_tiles', 'photo', _TILE_COLUMNS, unique=False)
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_TRIGGERS if dialect == 'sqlite' else _POSTGRESQL_TRIGGERS:
        op.execute(statement)
    op.execute(
        'INSERT INTO timeline_day_count (owner_id, taken_day, taken_month, photos)'
        ' SELECT owner_id, taken_day, taken_month, count(*) FROM photo'
        ' WHERE deleted_at IS NULL GROUP BY owner_id, taken_day, taken_month'
    )
    op.execute(
        'INSERT INTO timeline_month_count (owner_id, taken_month, photos, days)'
        ' SELECT owner_id, taken_month, sum(photos), count(*) FROM timeline_day_count'
        ' GROUP BY owner_id, taken_month'
    )


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == 'sqlite':
        for name in ('insert', 'delete', 'leave', 'enter'):
            op.execute(f'DROP TRIGGER IF EXISTS timeline_count_{name}')
    else:
        op.execute('DROP TRIGGER IF EXISTS timeline_count ON photo')
        op.execute('DROP FUNCTION IF EXISTS timeline_count()')
    op.drop_index('ix_photo_owner_timeline_tiles', table_name='photo')
    op.create_index('ix_photo_owner_timeline_days', 'photo',
                    ['owner_id', 'deleted_at', 'taken_month', 'taken_day', 'taken_at', 'id'],
                    unique=False)
    op.drop_table('timeline_month_count')
    op.drop_index('ix_timeline_day_count_month', table_name='timeline_day_count')
    op.drop_table('timeline_day_count')
