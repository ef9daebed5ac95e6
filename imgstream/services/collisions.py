"""Names that collide: which photo has a name, the next free name, and what people chose."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, select

from imgstream.models import CollisionChoice, CollisionEvent, Photo, User
from imgstream.services.filenames import collision_key, numbered_name


class CollisionOutcome(StrEnum):
    """What is recorded about an upload whose name was taken."""

    DETECTED = "detected"
    SKIPPED = "skipped"
    REPLACED = "replaced"
    KEPT_BOTH = "kept_both"


def resolve_choice(*, owner: User, chosen: CollisionChoice | None = None) -> CollisionChoice:
    """What to do with an upload of the owner whose name is taken.

    Args:
        owner: Whose upload.
        chosen: What the person (or their API client) chose for this upload, if anything.

    Returns:
        `chosen`, else the owner's default setting (asking when the setting is unknown).
    """
    if chosen is not None:
        return chosen
    try:
        return CollisionChoice(owner.collision_choice)
    except ValueError:
        return CollisionChoice.ASK


def record_collision(
    *,
    session: Session,
    owner_id: uuid.UUID,
    filename: str,
    outcome: CollisionOutcome,
    decision_seconds: float | None = None,
) -> None:
    """Keep one collision event (for the owner's statistics) and commit it."""
    session.add(CollisionEvent(owner_id=owner_id, filename=filename[:255], outcome=outcome.value,
                               decision_seconds=decision_seconds))
    session.commit()


@dataclass(frozen=True, slots=True)
class CollisionStats:
    """How often uploads collided with a name in someone's library, and what they chose."""

    detected: int
    skipped: int
    replaced: int
    kept_both: int
    median_decision_seconds: float | None


def collision_stats(*, session: Session, owner_id: uuid.UUID) -> CollisionStats:
    """The owner's collision statistics, from their events."""
    counts = dict(session.exec(
        select(CollisionEvent.outcome, sa.func.count())
        .where(CollisionEvent.owner_id == owner_id)
        .group_by(CollisionEvent.outcome)
    ).all())
    times = sorted(session.exec(
        select(CollisionEvent.decision_seconds).where(
            CollisionEvent.owner_id == owner_id, CollisionEvent.decision_seconds.is_not(None)
        )
    ).all())
    median = None
    if times:
        middle = len(times) // 2
        median = times[middle] if len(times) % 2 else (times[middle - 1] + times[middle]) / 2
    return CollisionStats(
        detected=counts.get(CollisionOutcome.DETECTED.value, 0),
        skipped=counts.get(CollisionOutcome.SKIPPED.value, 0),
        replaced=counts.get(CollisionOutcome.REPLACED.value, 0),
        kept_both=counts.get(CollisionOutcome.KEPT_BOTH.value, 0),
        median_decision_seconds=median,
    )


def photo_named(*, session: Session, owner_id: uuid.UUID, name: str) -> Photo | None:
    """The owner's photo (not in the trash) whose name collides with `name`, if any."""
    return session.exec(
        select(Photo).where(Photo.owner_id == owner_id, Photo.name_key == collision_key(name))
    ).first()


def find_collisions(
    *, session: Session, owner_id: uuid.UUID, names: list[str]
) -> dict[str, Photo]:
    """Which of a batch's names a photo of the library already has, in one query.

    Args:
        session: Database session.
        owner_id: The signed-in user.
        names: Filenames as they will be stored (see `filenames.display_name`).

    Returns:
        The colliding photo for each name that collides, by name.
    """
    keys = {collision_key(name): name for name in names}
    if not keys:
        return {}
    found: dict[str, Photo] = {}
    rows = session.exec(
        select(Photo).where(Photo.owner_id == owner_id, _name_key_among(session, list(keys)))
    ).all()
    by_key = {photo.name_key: photo for photo in rows}
    for name in names:
        photo = by_key.get(collision_key(name))
        if photo is not None:
            found[name] = photo
    return found


def _name_key_among(session: Session, keys: list[str]) -> sa.ColumnElement[bool]:
    # The keys travel as one parameter (an array, or a JSON list on SQLite), so a batch of any
    # size stays one statement under the databases' limits on bound parameters.
    if session.get_bind().dialect.name == "postgresql":
        return Photo.name_key == sa.any_(sa.bindparam("name_keys", keys,
                                                      type_=postgresql.ARRAY(sa.String)))
    listed = sa.select(sa.column("value", sa.String)).select_from(
        sa.func.json_each(sa.bindparam("name_keys", json.dumps(keys), type_=sa.String)))
    return Photo.name_key.in_(listed)


def free_name(*, session: Session, owner_id: uuid.UUID, name: str) -> str:
    """The name itself when no photo of the owner has it, else the first free `name (n)`.

    Names are compared by `collision_key` (case, Unicode form and `.jpeg`/`.jpg` do not
    matter).
    """
    stem = name.rpartition(".")[0] or name
    taken = set(session.exec(
        select(Photo.name_key).where(
            Photo.owner_id == owner_id,
            Photo.name_key.startswith(collision_key(stem), autoescape=True),
        )
    ))
    if collision_key(name) not in taken:
        return name
    number = 1
    while collision_key(numbered_name(name, number)) in taken:
        number += 1
    return numbered_name(name, number)


def skipped_message(photo_filename: str) -> str:
    """What an upload skipped for its name says: skipped by the choice, not a duplicate."""
    return f"skipped: a photo named {photo_filename} exists"
