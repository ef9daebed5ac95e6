"""What the database keeps in step with the photos itself: timeline counts and the search index.

Both are made by statements per dialect (triggers, an FTS5 table, generated columns) run when
the `photo` table is created (models.py) and copied into the migrations that introduced them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import comparators
from alembic.operations import ops
from alembic.util import DispatchPriority


def _count_in(row: str) -> str:
    return (
        "INSERT INTO timeline_day_count (owner_id, taken_day, taken_month, photos)"
        f" VALUES ({row}.owner_id, {row}.taken_day, {row}.taken_month, 1)"
        " ON CONFLICT (owner_id, taken_day)"
        " DO UPDATE SET photos = timeline_day_count.photos + 1;"
        " INSERT INTO timeline_month_count (owner_id, taken_month, photos, days)"
        f" VALUES ({row}.owner_id, {row}.taken_month, 1, {_days_of(row)})"
        " ON CONFLICT (owner_id, taken_month) DO UPDATE"
        " SET photos = timeline_month_count.photos + 1, days = excluded.days;"
    )


def _days_of(row: str) -> str:
    return (f"(SELECT count(*) FROM timeline_day_count AS d WHERE d.owner_id = {row}.owner_id"
            f" AND d.taken_month = {row}.taken_month)")


def _count_out(row: str) -> str:
    return (
        "UPDATE timeline_day_count SET photos = photos - 1"
        f" WHERE owner_id = {row}.owner_id AND taken_day = {row}.taken_day;"
        " DELETE FROM timeline_day_count"
        f" WHERE owner_id = {row}.owner_id AND taken_day = {row}.taken_day AND photos <= 0;"
        f" UPDATE timeline_month_count SET photos = photos - 1, days = {_days_of(row)}"
        f" WHERE owner_id = {row}.owner_id AND taken_month = {row}.taken_month;"
        " DELETE FROM timeline_month_count"
        f" WHERE owner_id = {row}.owner_id AND taken_month = {row}.taken_month"
        " AND photos <= 0;"
    )


_TIMELINE_COLUMNS = "owner_id, deleted_at, taken_day, taken_month"
_MOVED = ("(NEW.owner_id IS NOT OLD.owner_id OR NEW.taken_day IS NOT OLD.taken_day"
          " OR NEW.taken_month IS NOT OLD.taken_month)")


def _sqlite_timeline_count_ddl() -> list[str]:
    return [
        "CREATE TRIGGER timeline_count_insert AFTER INSERT ON photo"
        f" WHEN NEW.deleted_at IS NULL BEGIN {_count_in('NEW')} END",
        "CREATE TRIGGER timeline_count_delete AFTER DELETE ON photo"
        f" WHEN OLD.deleted_at IS NULL BEGIN {_count_out('OLD')} END",
        f"CREATE TRIGGER timeline_count_leave AFTER UPDATE OF {_TIMELINE_COLUMNS} ON photo"
        f" WHEN OLD.deleted_at IS NULL AND (NEW.deleted_at IS NOT NULL OR {_MOVED})"
        f" BEGIN {_count_out('OLD')} END",
        f"CREATE TRIGGER timeline_count_enter AFTER UPDATE OF {_TIMELINE_COLUMNS} ON photo"
        f" WHEN NEW.deleted_at IS NULL AND (OLD.deleted_at IS NOT NULL OR {_MOVED})"
        f" BEGIN {_count_in('NEW')} END",
    ]


def _postgresql_timeline_count_ddl() -> list[str]:
    return [
        "CREATE OR REPLACE FUNCTION timeline_count() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN"
        " IF TG_OP = 'UPDATE' THEN"
        "  IF NOT (OLD.deleted_at IS NULL AND (NEW.deleted_at IS NOT NULL OR"
        f"  {_MOVED.replace('IS NOT', 'IS DISTINCT FROM')}))"
        "   AND NOT (NEW.deleted_at IS NULL AND (OLD.deleted_at IS NOT NULL OR"
        f"  {_MOVED.replace('IS NOT', 'IS DISTINCT FROM')})) THEN RETURN NULL; END IF;"
        " END IF;"
        " IF TG_OP IN ('UPDATE', 'DELETE') THEN IF OLD.deleted_at IS NULL THEN"
        f" {_count_out('OLD')} END IF; END IF;"
        " IF TG_OP IN ('UPDATE', 'INSERT') THEN IF NEW.deleted_at IS NULL THEN"
        f" {_count_in('NEW')} END IF; END IF;"
        " RETURN NULL;"
        " END $$",
        "CREATE TRIGGER timeline_count AFTER INSERT OR DELETE OR UPDATE OF"
        f" {_TIMELINE_COLUMNS} ON photo FOR EACH ROW EXECUTE FUNCTION timeline_count()",
    ]


TIMELINE_COUNT_DDL: dict[str, list[str]] = {
    "sqlite": _sqlite_timeline_count_ddl(),
    "postgresql": _postgresql_timeline_count_ddl(),
}
"""Statements that keep `timeline_day_count` and `timeline_month_count` in step with `photo`,
by database dialect: triggers that count a photo in when it enters the timeline (inserted,
restored, moved to another day) and out when it leaves it (trashed, deleted, moved), so every
path that changes photos, including bulk statements and cascades, keeps the counts exact.
The migration that introduced the counts holds a copy of these statements. On SQLite, a
migration that rebuilds the `photo` table (Alembic batch mode) drops the triggers: it must
create them again and count anew (`services.timeline.recount`).
"""


def create_timeline_counts(target: sa.Table, connection: sa.Connection, **_kw: object) -> None:
    """Make the triggers that keep the timeline's counts (`after_create` of `photo`)."""
    for statement in TIMELINE_COUNT_DDL.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)


SEARCHED_COLUMNS = ("filename", "title", "description", "camera_make", "camera_model", "lens")
"""The photo columns a search looks in."""

PG_SEARCH_DOCUMENT = "regexp_replace(lower({}), '[^[:alnum:]]+', ' ', 'g')".format(
    " || ' ' || ".join(f"coalesce({column}, '')" for column in SEARCHED_COLUMNS)
)
"""PostgreSQL: a photo's searched text, lower case, words separated by single spaces (the
generated column `search_text`)."""


def _sqlite_search_ddl() -> list[str]:
    columns = ", ".join(SEARCHED_COLUMNS)
    new = ", ".join(f"new.{column}" for column in SEARCHED_COLUMNS)
    old = ", ".join(f"old.{column}" for column in SEARCHED_COLUMNS)
    return [
        # External content: the index keeps only the words, the text stays in `photo`.
        f"CREATE VIRTUAL TABLE photo_search USING fts5({columns}, content='photo',"
        " content_rowid='rowid', tokenize='unicode61 remove_diacritics 2', prefix='1 2 3')",
        f"CREATE TRIGGER photo_search_insert AFTER INSERT ON photo BEGIN"
        f" INSERT INTO photo_search(rowid, {columns}) VALUES (new.rowid, {new}); END",
        f"CREATE TRIGGER photo_search_delete AFTER DELETE ON photo BEGIN"
        f" INSERT INTO photo_search(photo_search, rowid, {columns})"
        f" VALUES ('delete', old.rowid, {old}); END",
        f"CREATE TRIGGER photo_search_update AFTER UPDATE OF {columns} ON photo BEGIN"
        f" INSERT INTO photo_search(photo_search, rowid, {columns})"
        f" VALUES ('delete', old.rowid, {old});"
        f" INSERT INTO photo_search(rowid, {columns}) VALUES (new.rowid, {new}); END",
    ]


def _postgresql_search_ddl() -> list[str]:
    # Stored generated columns: the indexes' rechecks read them instead of parsing the text of
    # every candidate row again.
    return [
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        "ALTER TABLE photo ADD COLUMN IF NOT EXISTS search_text text"
        f" GENERATED ALWAYS AS ({PG_SEARCH_DOCUMENT}) STORED",
        "ALTER TABLE photo ADD COLUMN IF NOT EXISTS search_words tsvector GENERATED ALWAYS AS"
        f" (to_tsvector('simple'::regconfig, {PG_SEARCH_DOCUMENT})) STORED",
        "CREATE INDEX IF NOT EXISTS ix_photo_search_words ON photo USING gin (search_words)",
        "CREATE INDEX IF NOT EXISTS ix_photo_search_trigrams ON photo"
        " USING gin (search_text gin_trgm_ops)",
    ]


SEARCH_INDEX_DDL: dict[str, list[str]] = {
    "sqlite": _sqlite_search_ddl(),
    "postgresql": _postgresql_search_ddl(),
}
"""Statements that create the search index of photos, by database dialect.

SQLite gets an FTS5 index kept in step with `photo` by triggers; PostgreSQL gets two stored
generated columns, `search_text` and its tsvector `search_words`, with a full-text (GIN) and a
trigram index on them, which it keeps in step itself. The ORM never reads those columns.
The migration that introduced search holds a copy of these statements. On SQLite, a migration
that rebuilds the `photo` table (Alembic batch mode) drops the triggers: it must create them
again and rebuild the index (`INSERT INTO photo_search(photo_search) VALUES ('rebuild')`). These
objects are not in the metadata: comparisons of the database with the models leave them out,
through `outside_the_search_index` as Alembic's `include_object` or, where the comparison is
Reflex's (`reflex run`, `reflex db migrate`, `reflex db makemigrations`), through
`leave_the_search_index_out_of_comparisons`.
"""

SEARCH_INDEX_COLUMNS = frozenset({"search_text", "search_words"})


def outside_the_search_index(obj: object, name: str | None, type_: str, reflected: bool,
                             compare_to: object) -> bool:
    """Alembic's `include_object`: False for the search index's own objects in the database.

    They are made by `SEARCH_INDEX_DDL`, not described by the models, so a comparison of the
    database with the models leaves them out.
    """
    if not reflected or compare_to is not None:
        return True
    if type_ in ("table", "index") and (name or "").startswith(("photo_search",
                                                                  "ix_photo_search")):
        return False
    return not (type_ == "column" and name in SEARCH_INDEX_COLUMNS)


def _is_search_index_op(op: object) -> bool:
    if isinstance(op, ops.DropTableOp):
        return op.table_name.startswith("photo_search")
    if isinstance(op, ops.DropIndexOp):
        return op.index_name.startswith("ix_photo_search")
    if isinstance(op, ops.DropColumnOp):
        return op.column_name in SEARCH_INDEX_COLUMNS
    return False


def _without_search_index_ops(container: ops.OpContainer) -> None:
    kept = []
    for op in container.ops:
        if isinstance(op, ops.OpContainer):
            _without_search_index_ops(op)
            if op.is_empty():
                continue
        elif _is_search_index_op(op):
            continue
        kept.append(op)
    container.ops = kept


def _leave_out_search_index(autogen_context: object, upgrade_ops: ops.UpgradeOps,
                            schemas: object) -> None:
    _without_search_index_ops(upgrade_ops)


_search_index_left_out = False


def leave_the_search_index_out_of_comparisons() -> None:
    """Make every autogenerate comparison in this process pass over the search index's objects.

    Reflex compares the database with the models at `reflex run` and `reflex db migrate` (and
    writes migrations from that comparison) without a way to pass `include_object`; this
    registers, through Alembic's comparator dispatch, a last step that drops what that
    comparison proposes for the search index. Called once from rxconfig.py.
    """
    global _search_index_left_out
    if not _search_index_left_out:
        comparators.dispatch_for("schema", priority=DispatchPriority.LAST)(
            _leave_out_search_index)
        _search_index_left_out = True


def create_search_index(target: sa.Table, connection: sa.Connection, **_kw: object) -> None:
    """Make the search index of photos (`after_create` of `photo`)."""
    for statement in SEARCH_INDEX_DDL.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)
