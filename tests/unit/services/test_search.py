"""Search on SQLite's FTS5 index: words, prefixes, filters, staying in step with edits."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imgstream.services import identity, photo_edits, search, trash
from imgstream.services.search import SearchError, SearchFilters
from tests.photo_rows import add_row


def names(page) -> list[str]:
    return [photo.filename for photo in page.photos]


def find(session, owner, query="", **filters) -> list[str]:
    return names(search.search_photos(session=session, owner_id=owner.id, query=query,
                                      filters=SearchFilters(**filters)))


def test_words_match_the_start_of_any_searched_column(session, owner):
    add_row(session, owner.id, "IMG_1234.JPG", camera_make="Canon", camera_model="EOS R5")
    add_row(session, owner.id, "beach.jpg", title="Sunset at the beach",
            lens="RF 24-70mm F2.8")
    add_row(session, owner.id, "cat.heic", description="Our cat, Café the second",
            camera_make="Apple", camera_model="iPhone 15 Pro")

    assert find(session, owner, "img_12") == ["IMG_1234.JPG"]
    assert find(session, owner, "canon") == ["IMG_1234.JPG"]
    assert find(session, owner, "eos r5") == ["IMG_1234.JPG"]
    assert find(session, owner, "SUNS") == ["beach.jpg"]
    assert find(session, owner, "24-70") == ["beach.jpg"]
    assert find(session, owner, "cafe") == ["cat.heic"], "accents are folded"
    assert find(session, owner, "iphone cat") == ["cat.heic"]
    assert find(session, owner, "iphone beach") == [], "every word must match"
    assert find(session, owner, "zebra") == []
    assert len(find(session, owner, '"*() -')) == 3, "punctuation alone searches for nothing"


def test_only_the_owners_photos_outside_the_trash(session, owner):
    other = identity.provision_user(session=session, email="bob@example.com")
    mine = add_row(session, owner.id, "beach.jpg")
    add_row(session, other.id, "beach.jpg")
    gone = add_row(session, owner.id, "beach-old.jpg")
    trash.move_to_trash(session=session, owner_id=owner.id, photo_id=gone.id)
    page = search.search_photos(session=session, owner_id=owner.id, query="beach")
    assert [p.id for p in page.photos] == [mine.id]


def test_edits_and_deletions_reach_the_index_at_once(session, owner):
    photo = add_row(session, owner.id, "DSC0001.JPG")
    assert find(session, owner, "lighthouse") == []
    photo_edits.set_title(session=session, owner_id=owner.id, photo_id=photo.id,
                          title="Lighthouse at dawn")
    assert find(session, owner, "lighthouse") == ["DSC0001.JPG"]
    photo_edits.set_description(session=session, owner_id=owner.id, photo_id=photo.id,
                                description="fog over the harbour")
    assert find(session, owner, "harbour") == ["DSC0001.JPG"]
    photo_edits.set_title(session=session, owner_id=owner.id, photo_id=photo.id, title="")
    assert find(session, owner, "lighthouse") == []
    session.delete(photo)
    session.commit()
    assert find(session, owner, "harbour") == []


def test_filters_narrow_by_local_date_favourite_camera_and_format(session, owner):
    # 23:30 on 31 Dec in New York is already 1 Jan in UTC: it belongs to 31 Dec.
    add_row(session, owner.id, "eve.jpg", taken=datetime(2024, 1, 1, 4, 30, tzinfo=UTC),
            offset=-300, camera_model="X100V", camera_make="FUJIFILM")
    add_row(session, owner.id, "day.jpg", taken=datetime(2024, 1, 1, 12, tzinfo=UTC),
            favorite=True, camera_make="Ricoh")
    add_row(session, owner.id, "snow.heic", taken=datetime(2024, 2, 3, 12, tzinfo=UTC),
            fmt="HEIC", favorite=True)

    assert find(session, owner, taken_from=date(2024, 1, 1)) == ["snow.heic", "day.jpg"]
    assert find(session, owner, taken_to=date(2023, 12, 31)) == ["eve.jpg"]
    assert find(session, owner, taken_from=date(2023, 12, 31),
                taken_to=date(2024, 1, 1)) == ["day.jpg", "eve.jpg"]
    assert find(session, owner, favorites_only=True) == ["snow.heic", "day.jpg"]
    assert find(session, owner, camera="X100V") == ["eve.jpg"]
    assert find(session, owner, camera="Ricoh") == ["day.jpg"], "make when there is no model"
    assert find(session, owner, format="HEIC") == ["snow.heic"]
    assert find(session, owner, "snow", format="JPEG") == []
    assert search.camera_choices(session=session, owner_id=owner.id) == ["Ricoh", "X100V"]
    assert search.format_choices(session=session, owner_id=owner.id) == ["HEIC", "JPEG"]


def test_results_page_newest_first(session, owner):
    start = datetime(2020, 1, 1, tzinfo=UTC)
    for day in range(5):
        add_row(session, owner.id, f"trip-{day}.jpg", taken=start + timedelta(days=day))
    first = search.search_photos(session=session, owner_id=owner.id, query="trip", limit=3)
    assert names(first) == ["trip-4.jpg", "trip-3.jpg", "trip-2.jpg"]
    rest = search.search_photos(session=session, owner_id=owner.id, query="trip", limit=3,
                                after=first.next_cursor)
    assert names(rest) == ["trip-1.jpg", "trip-0.jpg"] and rest.next_cursor is None


def test_bad_searches_say_why(session, owner):
    with pytest.raises(SearchError, match="start date is after"):
        find(session, owner, taken_from=date(2024, 2, 1), taken_to=date(2024, 1, 1))
    with pytest.raises(SearchError, match="Unknown format"):
        find(session, owner, format="BMP")
    with pytest.raises(SearchError, match="at most 200"):
        find(session, owner, "x" * 201)
    with pytest.raises(SearchError, match="at most 8 words"):
        find(session, owner, "a b c d e f g h i")


def test_rebuilt_index_finds_the_same(session, owner):
    add_row(session, owner.id, "kayak.jpg")
    search.rebuild_index(session=session)
    assert find(session, owner, "kay") == ["kayak.jpg"]


# What a person may type that means something to FTS5, tsquery or SQL.
HOSTILE = ['"', '""', "'", "*", "NEAR", "NEAR(", "NEAR(a b, 2)", "-", "^", ":", "(", ")", "((",
           "AND", "OR", "NOT", "beach*", '"unbalanced', "col:beach", "{a b}:c", "a + b",
           "'; DROP TABLE photo; --", "%", "_", "\\", "\x00", "1=1", "/*", "*/", "&", "|", "!",
           "<->", ":*", "café", "海", "\u202e", "x" * 60]


def test_hostile_search_syntax_finds_words_or_nothing(session, owner):
    add_row(session, owner.id, "beach.jpg", title="Near the beach")
    add_row(session, owner.id, "drop.jpg")
    for query in HOSTILE:
        found = find(session, owner, query)
        assert set(found) <= {"beach.jpg", "drop.jpg"}, query
    assert find(session, owner, "NEAR(beach") == ["beach.jpg"], "operators are plain words"
    assert find(session, owner, "drop'; --") == ["drop.jpg"], "quotes are no SQL"
    assert sorted(find(session, owner, "")) == ["beach.jpg", "drop.jpg"], "the table is there"
    with pytest.raises(SearchError, match="at most 200"):
        find(session, owner, "beach " * 1700)  # 10 kB


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12)), max_size=10)
       .map(" ".join))
def test_any_search_text_is_results_or_a_reason(session, owner, query):
    """Fuzzed queries: a page of results, or a SearchError saying why; never another error."""
    try:
        search.search_photos(session=session, owner_id=owner.id, query=query,
                             filters=SearchFilters())
    except SearchError as error:
        assert str(error).startswith("A search can")


def test_a_common_word_pages_in_date_order_like_a_rare_one(session, owner, monkeypatch):
    start = datetime(2020, 1, 1, tzinfo=UTC)
    for i in range(search.RARE_MATCHES + 300):
        session.add(search.Photo(
            owner_id=owner.id, filename=f"beach-{i:05d}.jpg" if i % 10 else f"city-{i}.jpg",
            sha256=f"{i:064x}", format="JPEG", mime="image/jpeg", size_bytes=1, width=4,
            height=3, taken_at=start + timedelta(hours=(i * 7919) % 10_000),
            taken_at_source="exif_original"))
    session.commit()
    walked = search.search_photos(session=session, owner_id=owner.id, query="beach", limit=50)
    monkeypatch.setattr(search, "RARE_MATCHES", 10**9)
    sorted_matches = search.search_photos(session=session, owner_id=owner.id, query="beach",
                                          limit=50)
    assert len(walked.photos) == 50
    assert [p.id for p in walked.photos] == [p.id for p in sorted_matches.photos]
    assert all(p.filename.startswith("beach") for p in walked.photos)
    later = search.search_photos(session=session, owner_id=owner.id, query="beach", limit=50,
                                 after=walked.next_cursor)
    assert not {p.id for p in later.photos} & {p.id for p in walked.photos}
