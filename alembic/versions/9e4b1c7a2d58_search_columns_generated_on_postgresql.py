"""search columns generated on PostgreSQL

Revision ID: 9e4b1c7a2d58
Revises: 5c2e8a7d91f0
Create Date: 2026-12-03 14:00:00.000000

The PostgreSQL search indexes move from expressions to stored generated columns, so a match's
recheck reads a column instead of parsing the photo's text again. Nothing changes on SQLite.
"""
from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = '9e4b1c7a2d58'
down_revision: Union[str, Sequence[str], None] = '5c2e8a7d91f0'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# A copy of imgstream.indexes.SEARCH_INDEX_DDL["postgresql"] as of this revision.
POSTGRESQL_SEARCH = [
    "DROP INDEX IF EXISTS ix_photo_search_words",
    "DROP INDEX IF EXISTS ix_photo_search_trigrams",
    'CREATE EXTENSION IF NOT EXISTS pg_trgm',
    "ALTER TABLE photo ADD COLUMN IF NOT EXISTS search_text text GENERATED ALWAYS AS (regexp_replace(lower(coalesce(filename, '') || ' ' || coalesce(title, '') || ' ' || coalesce(description, '') || ' ' || coalesce(camera_make, '') || ' ' || coalesce(camera_model, '') || ' ' || coalesce(lens, '')), '[^[:alnum:]]+', ' ', 'g')) STORED",
    "ALTER TABLE photo ADD COLUMN IF NOT EXISTS search_words tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, regexp_replace(lower(coalesce(filename, '') || ' ' || coalesce(title, '') || ' ' || coalesce(description, '') || ' ' || coalesce(camera_make, '') || ' ' || coalesce(camera_model, '') || ' ' || coalesce(lens, '')), '[^[:alnum:]]+', ' ', 'g'))) STORED",
    'CREATE INDEX IF NOT EXISTS ix_photo_search_words ON photo USING gin (search_words)',
    'CREATE INDEX IF NOT EXISTS ix_photo_search_trigrams ON photo USING gin (search_text gin_trgm_ops)',
]

_DOCUMENT = ("regexp_replace(lower(coalesce(filename, '') || ' ' || coalesce(title, '') || ' ' || coalesce(description, '') || ' ' || coalesce(camera_make, '') || ' ' || coalesce(camera_model, '') || ' ' || coalesce(lens, '')), '[^[:alnum:]]+', ' ', 'g')")


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_SEARCH:
            op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_photo_search_words")
        op.execute("DROP INDEX IF EXISTS ix_photo_search_trigrams")
        op.execute("ALTER TABLE photo DROP COLUMN IF EXISTS search_words")
        op.execute("ALTER TABLE photo DROP COLUMN IF EXISTS search_text")
        op.execute("CREATE INDEX ix_photo_search_words ON photo"
                   f" USING gin (to_tsvector('simple'::regconfig, {_DOCUMENT}))")
        op.execute("CREATE INDEX ix_photo_search_trigrams ON photo"
                   f" USING gin (({_DOCUMENT}) gin_trgm_ops)")
