"""Database tables."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from imgstream import indexes


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


class UploadStatus(StrEnum):
    """Where an upload is, as its row and the upload queue say (shared with upload_queue.js).

    An `Upload` row is uploading, needs a decision, is being processed, or holds its outcome.
    The page adds what only it knows: a file waiting for its turn, one whose sending failed,
    one cancelled, and one the page no longer holds (it was reloaded).
    """

    WAITING = "waiting"
    NEEDS_DECISION = "needs_decision"
    UPLOADING = "uploading"
    PROCESSING = "processing"
    PAUSED = "paused"
    """Sent in part; the file is picked again to resume, or the upload is discarded."""
    ADDED = "added"
    REPLACED = "replaced"
    KEPT_BOTH = "kept_both"
    SKIPPED = "skipped"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        """Whether the file is still on its way (not finished, failed, paused or cancelled)."""
        return self in ACTIVE_UPLOAD_STATUSES

    @property
    def unfinished(self) -> bool:
        """Whether an upload row with this status has no outcome yet."""
        return self in UNFINISHED_UPLOAD_STATUSES


ACTIVE_UPLOAD_STATUSES = frozenset({UploadStatus.WAITING, UploadStatus.NEEDS_DECISION,
                                    UploadStatus.UPLOADING, UploadStatus.PROCESSING})
UNFINISHED_UPLOAD_STATUSES = frozenset({UploadStatus.NEEDS_DECISION, UploadStatus.UPLOADING,
                                        UploadStatus.PROCESSING})


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
    reserved_bytes: int = Field(
        default=0, sa_column_kwargs={"server_default": "0"}, sa_type=sa.BigInteger,
        nullable=False,
    )
    """Announced sizes of the person's unfinished uploads, held against the quota until each
    upload is finished, cancelled or expired."""
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
        sa.Index("ix_photo_owner_favorite", "owner_id", "favorite", "taken_at"),
        # The timeline's months and days: one month's tiles in display order from the index
        # alone (deleted_at IS NULL is an equality on it; TIMELINE_TILE_COLUMNS follow the key).
        sa.Index("ix_photo_owner_timeline_tiles", "owner_id", "deleted_at", "taken_month",
                 "taken_day", "taken_at", "id", "revision", "width", "height", "favorite",
                 "filename", "thumbhash"),
        # Near-duplicate lookups read every hash of a library from the index alone.
        sa.Index("ix_photo_owner_phash", "owner_id", "deleted_at", "phash"),
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
    taken_day: str = Field(default="", max_length=10, nullable=False)
    """The day taken as the clock showed where the photo was taken ("2024-07-14"); kept in step
    with taken_at and its offset whenever the ORM writes the photo (see local_day)."""
    taken_month: str = Field(default="", max_length=7, nullable=False)
    """The month of taken_day ("2024-07"): the timeline's month."""
    title: str = Field(default="", max_length=500)
    description: str = Field(default="", sa_type=sa.Text)
    favorite: bool = Field(default=False, nullable=False)
    rotation: int = Field(default=0, sa_column_kwargs={"server_default": "0"}, nullable=False)
    """Quarter turns clockwise, in degrees (0, 90, 180, 270), applied after the EXIF
    orientation: the person's override. Width, height and renditions already include it; the
    original file is never changed."""
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
    phash: str | None = Field(default=None, max_length=16)
    """A 64-bit perceptual hash of the image (hex): near-duplicates have hashes a few bits
    apart. None until it was computed (older photos get it from `regenerate-renditions`)."""


def local_day(taken_at: datetime, offset_minutes: int | None) -> str:
    """The day a photo was taken, as the clock showed where it was taken ("2024-07-14").

    Without a known offset the stored moment already is the camera's clock time.
    """
    moment = as_utc(taken_at) + timedelta(minutes=offset_minutes or 0)
    return moment.date().isoformat()


@sa.event.listens_for(Photo, "before_insert")
@sa.event.listens_for(Photo, "before_update")
def _keep_local_day(_mapper, _connection, photo: Photo) -> None:
    if photo.taken_at is None:
        return
    photo.taken_day = local_day(photo.taken_at, photo.taken_at_offset_minutes)
    photo.taken_month = photo.taken_day[:7]


class TimelineDayCount(SQLModel, table=True):
    """How many photos of someone's timeline (not in the trash) were taken on one day.

    Kept exact by the database itself (`indexes.TIMELINE_COUNT_DDL`), in the transaction that
    changes a photo, whatever changes it; a day without photos has no row.
    """

    __tablename__ = "timeline_day_count"
    __table_args__ = (sa.Index("ix_timeline_day_count_month", "owner_id", "taken_month",
                               "taken_day", "photos"),)

    owner_id: uuid.UUID = Field(primary_key=True)
    taken_day: str = Field(max_length=10, primary_key=True)
    taken_month: str = Field(max_length=7, nullable=False)
    photos: int = Field(nullable=False)


class TimelineMonthCount(SQLModel, table=True):
    """How many photos of someone's timeline were taken in one month, and on how many days.

    Kept exact like `TimelineDayCount`; a month without photos has no row.
    """

    __tablename__ = "timeline_month_count"

    owner_id: uuid.UUID = Field(primary_key=True)
    taken_month: str = Field(max_length=7, primary_key=True)
    photos: int = Field(nullable=False)
    days: int = Field(nullable=False)


sa.event.listen(Photo.__table__, "after_create", indexes.create_timeline_counts)


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
    """A file uploaded in chunks, from its announcement to what became of it.

    It holds how much has arrived, what was decided about a taken name and the outcome. The
    row is the upload for every client: the upload page and the REST API read progress, the
    collision choice, the decision time and the outcome here.
    """

    __table_args__ = (sa.Index("ix_upload_owner_created", "owner_id", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="user.id", nullable=False)
    filename: str = Field(max_length=255, nullable=False)
    size_bytes: int = Field(sa_type=sa.BigInteger, nullable=False)
    received_bytes: int = Field(default=0, sa_type=sa.BigInteger, nullable=False)
    file_modified_ms: int | None = Field(default=None, sa_type=sa.BigInteger)
    """When the file was last changed, as its client said (ms since 1970): with the name and
    size, it tells the same file picked again, so that its upload resumes."""
    status: str = Field(default=UploadStatus.UPLOADING.value, max_length=16, nullable=False)
    """An UploadStatus: uploading, needs_decision, processing, or the outcome."""
    collision_choice: str = Field(default=CollisionChoice.ASK.value, max_length=16,
                                  nullable=False)
    """What happens when the library has a photo of the file's name (a CollisionChoice)."""
    asked_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    """When the person was shown that the name is taken, while they have not decided."""
    decision_seconds: float | None = Field(default=None)
    """How long the person took to choose, measured here between showing and deciding."""
    message: str = Field(default="", max_length=500, nullable=False)
    """What became of the file, for people."""
    photo_id: uuid.UUID | None = Field(default=None)
    """The photo it became, or the photo whose name or bytes it has."""
    photo_filename: str = Field(default="", max_length=255, nullable=False)
    """That photo's name in the library."""
    in_trash: bool = Field(default=False, nullable=False)
    """Whether that photo is in the trash."""
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


class Album(SQLModel, table=True):
    """A named set of someone's photos; a photo may be in many albums."""

    __table_args__ = (sa.Index("ix_album_owner_created", "owner_id", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="user.id", nullable=False)
    name: str = Field(max_length=200, nullable=False)
    description: str = Field(default="", sa_type=sa.Text)
    cover_photo_id: uuid.UUID | None = Field(
        default=None,
        sa_column=sa.Column(sa.Uuid(), sa.ForeignKey("photo.id", ondelete="SET NULL")),
    )
    """The photo chosen as cover; none means the newest photo of the album."""
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=sa.DateTime(timezone=True), nullable=False
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=sa.DateTime(timezone=True), nullable=False
    )


class AlbumPhoto(SQLModel, table=True):
    """A photo's place in an album."""

    __table_args__ = (sa.Index("ix_album_photo_photo", "photo_id"),)

    album_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid(), sa.ForeignKey("album.id", ondelete="CASCADE"), primary_key=True
        )
    )
    photo_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid(), sa.ForeignKey("photo.id", ondelete="CASCADE"), primary_key=True
        )
    )
    added_at: datetime = Field(
        default_factory=utcnow, sa_type=sa.DateTime(timezone=True), nullable=False
    )


class ShareLink(SQLModel, table=True):
    """A link that shows an album or a selection of photos to people without an account.

    Only a hash of the link's token is kept for lookups; the token itself is kept sealed with
    the app secret so its owner can copy the link again.
    """

    __table_args__ = (sa.Index("ix_share_link_owner_created", "owner_id", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="user.id", nullable=False)
    token_hash: str = Field(
        sa_column=sa.Column(sa.String(64), unique=True, nullable=False)
    )
    """SHA-256 of the token, hex."""
    token_sealed: str = Field(sa_type=sa.Text, nullable=False)
    """The token encrypted with a key derived from the app secret."""
    album_id: uuid.UUID | None = Field(
        default=None,
        sa_column=sa.Column(sa.Uuid(), sa.ForeignKey("album.id", ondelete="CASCADE")),
    )
    """The shared album; none when the link shares a selection of photos."""
    title: str = Field(default="", max_length=200)
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=sa.DateTime(timezone=True), nullable=False
    )
    expires_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    password_hash: str | None = Field(default=None, max_length=255)
    allow_download: bool = Field(default=True, nullable=False)
    show_location: bool = Field(default=False, nullable=False)
    view_count: int = Field(default=0, nullable=False)
    last_viewed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class SharedPhoto(SQLModel, table=True):
    """A photo of a link that shares a selection."""

    share_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid(), sa.ForeignKey("sharelink.id", ondelete="CASCADE"), primary_key=True
        )
    )
    photo_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid(), sa.ForeignKey("photo.id", ondelete="CASCADE"), primary_key=True
        )
    )


sa.event.listen(Photo.__table__, "after_create", indexes.create_search_index)


class ApiScope(StrEnum):
    """What an API key may do."""

    PHOTOS_READ = "photos:read"
    PHOTOS_WRITE = "photos:write"
    UPLOAD = "upload"
    ALBUMS = "albums"
    SHARES = "shares"


class ApiKey(SQLModel, table=True):
    """A key a program uses to call the REST API as its owner, with the scopes it was given.

    The key reads `isk_<id>_<secret>`; only a SHA-256 of the secret is kept.
    """

    __table_args__ = (sa.Index("ix_api_key_owner_created", "owner_id", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid(), sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False
        )
    )
    name: str = Field(default="", max_length=100, nullable=False)
    secret_sha256: str = Field(max_length=64, nullable=False)
    """SHA-256 of the secret part, hex."""
    scopes: str = Field(max_length=200, nullable=False)
    """The ApiScope values it carries, separated by spaces."""
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=sa.DateTime(timezone=True), nullable=False
    )
    expires_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    last_used_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
