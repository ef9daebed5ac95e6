"""Search and photo edits on migrated SQLite and PostgreSQL databases."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

from imgstream.models import Photo
from imgstream.services import identity, object_keys, photo_edits, search, trash
from imgstream.services.search import SearchFilters
from imgstream.services.storage import LocalStorage
from tests import images
from tests.integration.test_database import ingest_bytes
from tests.photo_rows import add_row


def find(db, owner, query="", **filters) -> list[str]:
    page = search.search_photos(session=db, owner_id=owner.id, query=query,
                                filters=SearchFilters(**filters))
    return [photo.filename for photo in page.photos]


def test_search_words_filters_and_index_kept_in_step(db):
    owner = identity.provision_user(session=db, email="search@example.com")
    other = identity.provision_user(session=db, email="other@example.com")
    add_row(db, owner.id, "IMG_1234.JPG", camera_make="Canon", camera_model="EOS R5",
            taken=datetime(2024, 1, 1, 4, 30, tzinfo=UTC), offset=-300)
    beach = add_row(db, owner.id, "beach.heic", fmt="HEIC", lens="RF 24-70mm",
                    taken=datetime(2024, 3, 2, 12, tzinfo=UTC))
    add_row(db, other.id, "beach.jpg")

    assert find(db, owner, "img_12") == ["IMG_1234.JPG"]
    assert find(db, owner, "canon eos") == ["IMG_1234.JPG"]
    assert find(db, owner, "BEA") == ["beach.heic"]
    assert find(db, owner, "24-70") == ["beach.heic"]
    assert find(db, owner, "zebra") == []
    assert find(db, owner, taken_to=date(2023, 12, 31)) == ["IMG_1234.JPG"], "local date"
    assert find(db, owner, taken_from=date(2024, 1, 1)) == ["beach.heic"]
    assert find(db, owner, camera="EOS R5") == ["IMG_1234.JPG"]
    assert find(db, owner, format="HEIC") == ["beach.heic"]

    photo_edits.set_title(session=db, owner_id=owner.id, photo_id=beach.id,
                          title="Dunes and surf")
    assert find(db, owner, "dunes") == ["beach.heic"]
    assert photo_edits.set_favorite(session=db, owner_id=owner.id, photo_ids=[beach.id],
                                    favorite=True) == 1
    assert find(db, owner, favorites_only=True) == ["beach.heic"]
    photo_edits.shift_taken_at(session=db, owner_id=owner.id, photo_ids=[beach.id],
                               by=timedelta(days=-365))
    assert find(db, owner, taken_to=date(2023, 12, 31)) == ["IMG_1234.JPG", "beach.heic"]
    trash.move_to_trash(session=db, owner_id=owner.id, photo_id=beach.id)
    assert find(db, owner, "dunes") == []
    db.delete(db.get(Photo, beach.id))
    db.commit()
    assert find(db, owner, "dunes") == []


def test_substrings_inside_words_on_postgresql(db, database_url, monkeypatch):
    owner = identity.provision_user(session=db, email="trigram@example.com")
    add_row(db, owner.id, "holiday2019beach.jpg")
    add_row(db, owner.id, "beach-hut.jpg")
    # Many matches: the page comes from walking the timeline rather than from the matches.
    monkeypatch.setattr(search, "RARE_MATCHES", 1)
    expected = ["beach-hut.jpg", "holiday2019beach.jpg"]
    assert sorted(find(db, owner, "beach")) == (
        expected if database_url.startswith("postgresql") else expected[:1])
    monkeypatch.undo()
    assert find(db, owner, "holiday2019") == ["holiday2019beach.jpg"]
    inside = find(db, owner, "2019beach")
    # PostgreSQL's trigram index finds words inside words; SQLite's FTS5 only word starts.
    assert inside == (["holiday2019beach.jpg"] if database_url.startswith("postgresql") else [])


def test_rotation_keeps_the_original_byte_identical(db, migrated_engine, tmp_path):
    storage = LocalStorage(tmp_path / "library", secret=b"s", url_ttl_seconds=1800)
    owner = identity.provision_user(session=db, email="rotate@example.com")
    data = images.jpeg(size=(1600, 1000), marker=True)
    result = ingest_bytes(migrated_engine, storage, owner.id, data, "tower.jpg", tmp_path / "in")
    photo = photo_edits.rotate(session=db, storage=storage, owner_id=owner.id,
                               photo_id=result.photo_id, quarter_turns=-1,
                               spool_dir=tmp_path / "spool", thumbnail_size=400,
                               preview_size=1440, max_pixels=10**8)
    assert (photo.rotation, photo.width, photo.height) == (270, 1000, 1600)
    with storage.open(object_keys.original_of(photo)) as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == hashlib.sha256(data).hexdigest()


def test_hostile_search_syntax_on_both_databases(db):
    """FTS5 and tsquery syntax, SQL quotes and a 10 kB query: words or nothing, or a reason."""
    import pytest

    from tests.unit.services.test_search import HOSTILE

    owner = identity.provision_user(session=db, email="hostile@example.com")
    add_row(db, owner.id, "beach.jpg", title="Near the beach")
    for query in HOSTILE:
        assert set(find(db, owner, query)) <= {"beach.jpg"}, query
    assert find(db, owner, "NEAR(beach:*") == ["beach.jpg"]
    with pytest.raises(search.SearchError, match="at most 200"):
        find(db, owner, "beach " * 1700)
