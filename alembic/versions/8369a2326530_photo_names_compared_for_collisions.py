"""Photo names compared for collisions

Adds `photo.name_key`, the filename as collisions compare it (NFC, case-folded, `.jpeg` as
`.jpg`), unique per owner, so two uploads of the same name at once can never both take it.
Existing photos get their key; where two of one owner's photos already share a name, the later
upload is renamed `name (1).ext`, `name (2).ext`, ... as a kept-both photo would be today.

Revision ID: 8369a2326530
Revises: 7b4fd494ca38
Create Date: 2026-11-21 10:49:41.749140

"""
import unicodedata
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel

# revision identifiers, used by Alembic.
revision: str = '8369a2326530'
down_revision: Union[str, Sequence[str], None] = '7b4fd494ca38'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _key(name: str) -> str:
    # Frozen copy of services.uploads.collision_key as of this revision.
    key = unicodedata.normalize("NFC", name).casefold()
    stem, dot, ext = key.rpartition(".")
    if dot and ext in ("jpeg", "jpe"):
        return f"{stem}.jpg"
    return key


def _numbered(name: str, number: int) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return f"{name} ({number})"
    return f"{stem} ({number}).{ext}"


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))

    connection = op.get_bind()
    photo = sa.table("photo", sa.column("id"), sa.column("owner_id"), sa.column("filename"),
                     sa.column("name_key"), sa.column("uploaded_at"))
    taken: dict[object, set[str]] = {}
    rows = connection.execute(
        sa.select(photo.c.id, photo.c.owner_id, photo.c.filename)
        .order_by(photo.c.uploaded_at, photo.c.id)
    ).all()
    for photo_id, owner_id, filename in rows:
        names = taken.setdefault(owner_id, set())
        name, number = filename, 0
        while _key(name) in names:
            number += 1
            name = _numbered(filename, number)
        names.add(_key(name))
        connection.execute(
            photo.update().where(photo.c.id == photo_id).values(filename=name, name_key=_key(name))
        )

    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.alter_column('name_key', existing_type=sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False)
        batch_op.create_unique_constraint('uq_photo_owner_name_key', ['owner_id', 'name_key'])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.drop_constraint('uq_photo_owner_name_key', type_='unique')
        batch_op.drop_column('name_key')
