"""photo rotation override, favourites index and the search index

Revision ID: 5c2e8a7d91f0
Revises: 373495447429
Create Date: 2026-12-03 13:40:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = '5c2e8a7d91f0'
down_revision: Union[str, Sequence[str], None] = '373495447429'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# A copy of imgstream.indexes.SEARCH_INDEX_DDL as it was when search came in.
SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE photo_search USING fts5(filename, title, description, camera_make, camera_model, lens, content='photo', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2', prefix='1 2 3')",
    'CREATE TRIGGER photo_search_insert AFTER INSERT ON photo BEGIN INSERT INTO photo_search(rowid, filename, title, description, camera_make, camera_model, lens) VALUES (new.rowid, new.filename, new.title, new.description, new.camera_make, new.camera_model, new.lens); END',
    "CREATE TRIGGER photo_search_delete AFTER DELETE ON photo BEGIN INSERT INTO photo_search(photo_search, rowid, filename, title, description, camera_make, camera_model, lens) VALUES ('delete', old.rowid, old.filename, old.title, old.description, old.camera_make, old.camera_model, old.lens); END",
    "CREATE TRIGGER photo_search_update AFTER UPDATE OF filename, title, description, camera_make, camera_model, lens ON photo BEGIN INSERT INTO photo_search(photo_search, rowid, filename, title, description, camera_make, camera_model, lens) VALUES ('delete', old.rowid, old.filename, old.title, old.description, old.camera_make, old.camera_model, old.lens); INSERT INTO photo_search(rowid, filename, title, description, camera_make, camera_model, lens) VALUES (new.rowid, new.filename, new.title, new.description, new.camera_make, new.camera_model, new.lens); END",
    # Photos already in the library enter the index.
    "INSERT INTO photo_search(photo_search) VALUES ('rebuild')",
]
POSTGRESQL_SEARCH = [
    'CREATE EXTENSION IF NOT EXISTS pg_trgm',
    "CREATE INDEX IF NOT EXISTS ix_photo_search_words ON photo USING gin (to_tsvector('simple'::regconfig, regexp_replace(lower(coalesce(filename, '') || ' ' || coalesce(title, '') || ' ' || coalesce(description, '') || ' ' || coalesce(camera_make, '') || ' ' || coalesce(camera_model, '') || ' ' || coalesce(lens, '')), '[^[:alnum:]]+', ' ', 'g')))",
    "CREATE INDEX IF NOT EXISTS ix_photo_search_trigrams ON photo USING gin ((regexp_replace(lower(coalesce(filename, '') || ' ' || coalesce(title, '') || ' ' || coalesce(description, '') || ' ' || coalesce(camera_make, '') || ' ' || coalesce(camera_model, '') || ' ' || coalesce(lens, '')), '[^[:alnum:]]+', ' ', 'g')) gin_trgm_ops)",
]


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rotation', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.create_index('ix_photo_owner_favorite', ['owner_id', 'favorite', 'taken_at'],
                              unique=False)
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_SEARCH, "postgresql": POSTGRESQL_SEARCH}.get(dialect, []):
        op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("photo_search_insert", "photo_search_delete", "photo_search_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS photo_search")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_photo_search_words")
        op.execute("DROP INDEX IF EXISTS ix_photo_search_trigrams")
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.drop_index('ix_photo_owner_favorite')
        batch_op.drop_column('rotation')
