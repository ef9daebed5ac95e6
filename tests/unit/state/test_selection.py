from imgstream.state.selection import pick, pick_day

ORDER = ["a", "b", "c", "d", "e"]


def test_a_click_toggles_one_photo():
    assert pick([], ORDER, "b", "", extend=False) == ["b"]
    assert pick(["b", "c"], ORDER, "b", "c", extend=False) == ["c"]


def test_shift_click_selects_the_range_from_the_last_click_either_way():
    assert pick(["b"], ORDER, "d", "b", extend=True) == ["b", "c", "d"]
    assert pick(["d"], ORDER, "a", "d", extend=True) == ["d", "a", "b", "c"]
    # Photos already selected stay selected once.
    assert pick(["a", "c"], ORDER, "d", "b", extend=True) == ["a", "c", "b", "d"]


def test_shift_click_without_a_start_or_off_the_page_toggles():
    assert pick([], ORDER, "c", "", extend=True) == ["c"]
    assert pick([], ORDER, "c", "gone", extend=True) == ["c"]
    assert pick(["c"], ORDER, "c", "c", extend=True) == []


def test_a_days_check_adds_the_rest_of_the_day_or_takes_it_all_away():
    assert pick_day([], ["b", "c"]) == ["b", "c"]
    # Partly selected: the rest is added, after what was selected before.
    assert pick_day(["a", "c"], ["b", "c", "d"]) == ["a", "c", "b", "d"]
    # All selected: the whole day goes, other days stay.
    assert pick_day(["a", "b", "c", "e"], ["b", "c"]) == ["a", "e"]
    assert pick_day(["a"], []) == ["a"]


def test_the_typed_shift_reads_days_hours_and_minutes():
    from datetime import timedelta

    import pytest

    from imgstream.state.selection import shift_of

    assert shift_of("1", "-2", "") == timedelta(days=1, hours=-2)
    assert shift_of("", "", "") == timedelta(0)
    with pytest.raises(ValueError):
        shift_of("1.5", "", "")


def test_a_range_follows_the_timeline_days_where_clocks_differ(monkeypatch, engine, session,
                                                               storage, owner, tmp_path):
    from contextlib import contextmanager
    from datetime import UTC, datetime

    from sqlmodel import Session

    from imgstream.state import selection
    from tests.unit.state.signing import add_photos

    a, b, c = add_photos(session, storage, owner, tmp_path, 3)
    # a: 23:30 UTC in UTC+2, so 2 January there; b: later in UTC but 1 January in UTC-5;
    # c: noon on 1 January. The timeline shows a (2 January), then b and c (1 January).
    for photo, moment, offset in ((a, datetime(2024, 1, 1, 23, 30, tzinfo=UTC), 120),
                                  (b, datetime(2024, 1, 2, 0, 30, tzinfo=UTC), -300),
                                  (c, datetime(2024, 1, 1, 12, 0, tzinfo=UTC), 0)):
        photo.taken_at, photo.taken_at_offset_minutes = moment, offset
        session.add(photo)
    session.commit()

    @contextmanager
    def db_session():
        with Session(engine) as own:
            yield own

    monkeypatch.setattr(selection, "db_session", db_session)
    ids = [str(a.id), str(b.id), str(c.id)]
    assert selection._between(owner.id, ids[0], ids[2]) == ids
    assert selection._between(owner.id, ids[2], ids[0]) == ids
    assert selection._between(owner.id, ids[0], ids[1]) == ids[:2]
    assert selection._day_photos(owner.id, "2024-01-01") == ids[1:]
