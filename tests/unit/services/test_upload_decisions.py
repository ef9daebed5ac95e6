"""A picked batch becomes upload rows; taken names wait for a decision timed by the server."""

from datetime import timedelta

import pytest
from sqlmodel import select

from imgstream.models import CollisionChoice, CollisionEvent, Upload, UploadStatus, User, as_utc
from imgstream.services import collisions, upload_decisions, upload_receiving
from imgstream.services.upload_decisions import PickedFile
from tests import aio, images
from tests.db import sessions_like
from tests.unit.services.test_collisions import add_photo

MAX = 10**8


@pytest.fixture
def beach(session, storage, owner, tmp_path):
    result = add_photo(session, storage, owner, tmp_path, images.jpeg(size=(300, 200)),
                       "beach.jpg")
    return result.photo_id


def accept(session, owner, *files, **kwargs):
    return upload_decisions.accept_batch(session=session, owner=owner, files=list(files),
                                         max_bytes=MAX, **kwargs)


def events(session):
    return [(e.filename, e.outcome, e.decision_seconds)
            for e in session.exec(select(CollisionEvent).order_by(CollisionEvent.created_at))]


def set_default(session, owner, choice):
    session.get(User, owner.id).collision_choice = choice
    session.commit()
    session.refresh(owner)


def test_resolve_choice_prefers_the_persons_choice_then_their_setting(owner):
    assert collisions.resolve_choice(owner=owner) is CollisionChoice.ASK
    assert collisions.resolve_choice(owner=owner, chosen=CollisionChoice.SKIP) is (
        CollisionChoice.SKIP)
    owner.collision_choice = "keep_both"
    assert collisions.resolve_choice(owner=owner) is CollisionChoice.KEEP_BOTH
    owner.collision_choice = "overwrite"
    assert collisions.resolve_choice(owner=owner) is CollisionChoice.ASK


def test_a_batch_begins_one_upload_per_file_and_asks_about_taken_names(session, owner, beach):
    shown = as_utc(session.get(User, owner.id).created_at) + timedelta(minutes=5)
    accepted = accept(session, owner, PickedFile("a", "Beach.JPEG", 100, 1),
                      PickedFile("b", "dog.jpg", 200, 2), PickedFile("c", "empty.jpg", 0),
                      PickedFile("d", "huge.jpg", MAX + 1), now=shown)
    assert [a.key for a in accepted] == ["a", "b", "c", "d"]
    taken, free, empty, huge = accepted
    assert taken.upload.status is UploadStatus.NEEDS_DECISION
    assert (taken.taken_by.id, taken.upload.photo_filename) == (beach, "beach.jpg")
    assert as_utc(session.get(Upload, taken.upload.id).asked_at) == shown
    assert (free.upload.status, free.taken_by) == (UploadStatus.UPLOADING, None)
    assert (empty.upload, empty.refused) == (None, "rejected: empty file")
    assert huge.upload is None and huge.refused.startswith("rejected: ")
    assert len(session.exec(select(Upload)).all()) == 2
    assert events(session) == [("Beach.JPEG", "detected", None)]


def test_the_default_choice_is_resolved_once_when_the_upload_begins(session, owner, beach):
    set_default(session, owner, "keep_both")
    kept, = accept(session, owner, PickedFile("a", "beach.jpg", 100))
    assert (kept.upload.status, kept.upload.collision_choice) == (
        UploadStatus.UPLOADING, CollisionChoice.KEEP_BOTH)
    set_default(session, owner, "skip")
    skipped, = accept(session, owner, PickedFile("b", "BEACH.jpg", 100))
    assert skipped.upload.status is UploadStatus.SKIPPED
    assert skipped.upload.message == "skipped: a photo named beach.jpg exists"
    assert [e[1] for e in events(session)] == ["detected", "detected", "skipped"]
    # The first upload keeps the choice it began with.
    assert session.get(Upload, kept.upload.id).collision_choice == "keep_both"


def test_the_decision_time_is_measured_between_showing_and_deciding(session, storage, owner,
                                                                    beach):
    asked, = accept(session, owner, PickedFile("a", "beach.jpg", 100))
    shown = as_utc(session.get(Upload, asked.upload.id).asked_at)
    decided = upload_decisions.decide(session=session, storage=storage, owner_id=owner.id,
                                      upload_id=asked.upload.id,
                                      choice=CollisionChoice.REPLACE,
                                      now=shown + timedelta(seconds=3.25))
    assert (decided.status, decided.collision_choice, decided.decision_seconds) == (
        UploadStatus.UPLOADING, CollisionChoice.REPLACE, 3.25)
    assert session.get(Upload, asked.upload.id).asked_at is None
    # Deciding again changes nothing: the decision was made.
    again = upload_decisions.decide(session=session, storage=storage, owner_id=owner.id,
                                    upload_id=asked.upload.id, choice=CollisionChoice.SKIP)
    assert (again.status, again.decision_seconds) == (UploadStatus.UPLOADING, 3.25)
    with pytest.raises(ValueError, match="cannot be to ask"):
        upload_decisions.decide(session=session, storage=storage, owner_id=owner.id,
                                upload_id=asked.upload.id, choice=CollisionChoice.ASK)


def test_skipping_finishes_the_upload_and_removes_what_arrived(session, storage, owner, beach,
                                                               tmp_path):
    asked, = accept(session, owner, PickedFile("a", "beach.jpg", 3000))
    aio.run(upload_receiving.receive_chunk(
        sessions=sessions_like(session), storage=storage, owner_id=owner.id,
        upload_id=asked.upload.id,
        offset=0, body=_once(b"x" * 1000), spool_dir=tmp_path / "spool", chunk_bytes=1000))
    shown = as_utc(session.get(Upload, asked.upload.id).asked_at)
    skipped = upload_decisions.decide(session=session, storage=storage, owner_id=owner.id,
                                      upload_id=asked.upload.id, choice=CollisionChoice.SKIP,
                                      now=shown + timedelta(seconds=1.5))
    assert skipped.status is UploadStatus.SKIPPED
    assert list(storage.list("incoming")) == []
    assert events(session)[-1] == ("beach.jpg", "skipped", 1.5)
    assert collisions.collision_stats(session=session,
                                      owner_id=owner.id).median_decision_seconds == 1.5
    assert upload_decisions.unfinished_uploads(session=session, owner_id=owner.id) == []


async def _once(data):
    yield data


def test_the_same_file_picked_again_takes_up_its_unfinished_upload(session, owner):
    first, other = accept(session, owner, PickedFile("a", "lake.jpg", 5000, 111),
                          PickedFile("b", "lake.jpg", 5000, 222))
    assert first.upload.id != other.upload.id
    offered = frozenset({first.upload.id, other.upload.id})
    again, = accept(session, owner, PickedFile("c", "lake.jpg", 5000, 111), resumable=offered)
    assert (again.upload.id, again.resumed) == (first.upload.id, True)
    # An upload the page does not offer to resume (another page may be sending it) is left.
    alike = accept(session, owner, PickedFile("d", "lake.jpg", 5000, 222),
                   resumable=frozenset({first.upload.id}))[0]
    assert alike.upload.id not in offered and not alike.resumed
    unfinished = upload_decisions.unfinished_uploads(session=session, owner_id=owner.id)
    assert [u.id for u in unfinished] == [first.upload.id, other.upload.id, alike.upload.id]
    found = upload_decisions.uploads_of(session=session, owner_id=owner.id,
                                        upload_ids=[first.upload.id])
    assert list(found) == [first.upload.id]
