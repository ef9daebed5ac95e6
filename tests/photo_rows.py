"""Photo rows written straight to the database, for tests of queries over many photos."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from sqlmodel import Session

from imgstream.models import Photo


def add_row(session: Session, owner_id: uuid.UUID, filename: str, *,
            taken: datetime = datetime(2024, 5, 1, 12, tzinfo=UTC), offset: int | None = None,
            fmt: str = "JPEG", **fields: object) -> Photo:
    """Insert one photo row (no stored objects) and return it."""
    photo = Photo(
        owner_id=owner_id, filename=filename, name_key=filename.lower(),
        sha256=hashlib.sha256(f"{owner_id}{filename}{uuid.uuid4()}".encode()).hexdigest(),
        format=fmt, mime="image/jpeg", size_bytes=1000, width=400, height=300,
        taken_at=taken, taken_at_offset_minutes=offset, taken_at_source="exif_original",
        **fields,
    )
    session.add(photo)
    session.commit()
    return photo
