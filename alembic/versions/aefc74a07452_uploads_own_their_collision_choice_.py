"""Uploads own their collision choice, decision time and outcome

An `upload` row is the upload for the page and the REST API alike:
- `status`: uploading, needs_decision, processing, or the outcome (added, skipped, …); rows of
  uploads already on their way when this runs are uploading.
- `collision_choice`: what happens when the name is taken, resolved when the upload begins
  (rows already there ask, as completing without a choice did for them).
- `asked_at`, `decision_seconds`: when the person was shown the taken name, and how long they
  took to choose, both measured by the server.
- `message`, `photo_id`, `photo_filename`, `in_trash`: what became of the file.
- `file_modified_ms`: with the name and size, tells the same file picked again.

Revision ID: aefc74a07452
Revises: b18674d4ca0b
Create Date: 2026-12-03 08:30:49.216831

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel

# revision identifiers, used by Alembic.
revision: str = 'aefc74a07452'
down_revision: Union[str, Sequence[str], None] = 'b18674d4ca0b'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('upload', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_modified_ms', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), server_default=sa.text("'uploading'"), nullable=False))
        batch_op.add_column(sa.Column('collision_choice', sqlmodel.sql.sqltypes.AutoString(length=16), server_default=sa.text("'ask'"), nullable=False))
        batch_op.add_column(sa.Column('asked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('decision_seconds', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('message', sqlmodel.sql.sqltypes.AutoString(length=500), server_default=sa.text("''"), nullable=False))
        batch_op.add_column(sa.Column('photo_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('photo_filename', sqlmodel.sql.sqltypes.AutoString(length=255), server_default=sa.text("''"), nullable=False))
        batch_op.add_column(sa.Column('in_trash', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('upload', schema=None) as batch_op:
        batch_op.drop_column('in_trash')
        batch_op.drop_column('photo_filename')
        batch_op.drop_column('photo_id')
        batch_op.drop_column('message')
        batch_op.drop_column('decision_seconds')
        batch_op.drop_column('asked_at')
        batch_op.drop_column('collision_choice')
        batch_op.drop_column('status')
        batch_op.drop_column('file_modified_ms')
