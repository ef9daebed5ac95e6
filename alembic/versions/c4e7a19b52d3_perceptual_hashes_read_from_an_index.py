"""perceptual hashes read from an index

Revision ID: c4e7a19b52d3
Revises: 98bd433c56b8
Create Date: 2026-12-03 19:55:00.000000

"""
from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = 'c4e7a19b52d3'
down_revision: Union[str, Sequence[str], None] = '98bd433c56b8'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index('ix_photo_owner_phash', 'photo', ['owner_id', 'deleted_at', 'phash'],
                    unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_photo_owner_phash', table_name='photo')
