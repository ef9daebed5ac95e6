"""Database tables."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A stored datetime as aware UTC (SQLite hands them back naive)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class CollisionChoice(StrEnum):
    """What to do with an upload whose name a photo in the library already has."""

    ASK = "ask"
    SKIP = "skip"
    REPLACE = "replace"
    KEEP_BOTH = "keep_both"


class User(SQLModel, table=True):
    """A person with a photo library."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(sa_column=sa.Column(sa.String(320), unique=True, nullable=False))
    display_name: str = Field(default="", max_length=200)
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=sa.DateTime(timezone=True), nullable=False
    )
    last_login_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    quota_bytes: int = Field(default=1024**3, sa_type=sa.BigInteger, nullable=False)
    used_bytes: int = Field(default=0, sa_type=sa.BigInteger, nullable=False)
    page_size: int = Field(default=60, nullable=False)
    theme: str = Field(default="system", max_length=16, nullable=False)
    collision_choice: str = Field(default="ask", max_length=16, nullable=False)
    """What happens when an upload has the name of a photo already in the library
    (a CollisionChoice)."""


class Photo(SQLModel, table=True):
    """An original photo in someone's library, with what was read from it."""

    __table_args__ = (
        sa.UniqueConstraint("owner_id", "sha256", name="uq_photo_owner_sha256"),
        sa.UniqueConstraint("owner_id", "name_key", name="uq_photo_owner_name_key"),
        sa.Index("ix_photo_owner_timeline", "owner_id", "taken_at", "id"),
        sa.Index("ix_photo_owner_filename", "owner_id", "filename"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="user.id", nullable=False)
    filename: str = Field(max_length=255, nullable=False)
    name_key: str | None = Field(default=None, max_length=255)
    """The filename as collisions compare it (see services.filenames.collision_key); none while
    the photo is in the trash, so its name is free for a new upload."""
    revision: int = Field(default=0, nullable=False)
    """How many times the original was replaced; part of the storage keys of its objects."""
    sha256: str = Field(max_length=64, nullable=False)
    format: str = Field(max_length=16, nullable=False)
    mime: str = Field(max_length=64, nullable=False)
    size_bytes: int = Field(sa_type=sa.BigInteger, nullable=False)
    width: int = Field(nullable=False)
    height: int = Field(nullable=False)
    taken_at: datetime = Field(sa_type=sa.DateTime(timezone=True), nullable=False)
    taken_at_offset_minutes: int | None = Field(default=None)
    taken_at_source: str = Field(max_length=32, nullable=False)
    title: str = Field(default="", max_length=500)
    description: str = Field(default="", sa_type=sa.Text)
    favorite: bool = Field(default=False, nullable=False)
    uploaded_at: datetime = Field(
        default_factory=utcnow, sa_type=sa.DateTime(timezone=True), nullable=False
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=sa.DateTime(timezone=True), nullable=False
    )
    deleted_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    thumbhash: str | None = Field(default=None, max_length=64)
    camera_make: str | None = Field(default=None, max_length=128)
    camera_model: str | None = Field(default=None, max_length=128)
    lens: str | None = Field(default=None, max_length=128)
    focal_length_mm: float | None = Field(default=None)
    f_number: float | None = Field(default=None)
    exposure_time_s: float | None = Field(default=None)
    iso: int | None = Field(default=None)
    gps_latitude: float | None = Field(default=None)
    gps_longitude: float | None = Field(default=None)


class RenditionKind(StrEnum):
    """What a rendition is for."""

    THUMB = "thumb"
    PREVIEW = "preview"


class Rendition(SQLModel, table=True):
    """An image made from a photo for display (its thumbnail or preview).

    A preview row may point at the original itself when the original is already a small image
    in a browser format.
    """

    __table_args__ = (sa.UniqueConstraint("photo_id", "kind", name="uq_rendition_photo_kind"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    photo_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid(), sa.ForeignKey("photo.id", ondelete="CASCADE"), nullable=False
        )
    )
    kind: str = Field(max_length=16, nullable=False)
    key: str = Field(max_length=255, nullable=False)
    width: int = Field(nullable=False)
    height: int = Field(nullable=False)
    format: str = Field(max_length=16, nullable=False)
    size_bytes: int = Field(sa_type=sa.BigInteger, nullable=False)


class Upload(SQLModel, table=True):
    """A file being uploaded in chunks: what was announced and how much has arrived."""

    __table_args__ = (sa.Index("ix_upload_owner_created", "owner_id", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="user.id", nullable=False)
    filename: str = Field(max_length=255, nullable=False)
    size_bytes: int = Field(sa_type=sa.BigInteger, nullable=False)
    received_bytes: int = Field(default=0, sa_type=sa.BigInteger, nullable=False)
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=sa.DateTime(timezone=True), nullable=False
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=sa.DateTime(timezone=True), nullable=False
    )


class CollisionEvent(SQLModel, table=True):
    """Something that happened to an upload whose name was already in the library."""

    __table_args__ = (sa.Index("ix_collision_event_owner_created", "owner_id", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="user.id", nullable=False)
    filename: str = Field(max_length=255, nullable=False)
    outcome: str = Field(max_length=16, nullable=False)
    """detected, skipped, replaced or kept_both."""
    decision_seconds: float | None = Field(default=None)
    """How long the person took to choose, when they were asked."""
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=sa.DateTime(timezone=True), nullable=False
    )
