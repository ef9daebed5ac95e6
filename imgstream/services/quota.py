"""Storage quota: the atomic charge, and how much of it a library uses."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, select

from imgstream.models import Photo, User
from imgstream.presentation import format_bytes


class OverQuota(Exception):  # noqa: N818
    """A charge did not fit the owner's quota; nothing was charged."""

    def __init__(self, needed: int):
        super().__init__(needed)
        self.needed = needed


def quota_message(owner: User, needed: int) -> str:
    """Why a file of `needed` bytes does not fit the owner's library, for people."""
    return (
        f"your library is full: {format_bytes(owner.used_bytes)} of "
        f"{format_bytes(owner.quota_bytes)} used, and this photo needs {format_bytes(needed)}"
    )


def charge(session: Session, owner_id: uuid.UUID, needed: int) -> None:
    """Add `needed` bytes to the owner's storage use, within their quota, in one statement.

    Raises:
        OverQuota: When the bytes do not fit; nothing is charged.
    """
    # The quota check and the charge are one statement: parallel uploads cannot both pass.
    charged = session.execute(
        sa.update(User)
        .where(User.id == owner_id, User.used_bytes + needed <= User.quota_bytes)
        .values(used_bytes=User.used_bytes + needed)
    )
    if charged.rowcount != 1:
        raise OverQuota(needed)


@dataclass(frozen=True, slots=True)
class LibraryUsage:
    """How much of their storage a user has used."""

    photo_count: int
    used_bytes: int
    quota_bytes: int


def library_usage(*, session: Session, owner: User) -> LibraryUsage:
    """Photo count and storage used against quota."""
    count = session.exec(
        select(sa.func.count()).select_from(Photo).where(
            Photo.owner_id == owner.id, Photo.deleted_at.is_(None)
        )
    ).one()
    return LibraryUsage(int(count), owner.used_bytes, owner.quota_bytes)

