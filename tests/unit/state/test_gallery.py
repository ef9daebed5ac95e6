"""The library's months load even when no thumbnail URL can be signed."""

import logging

from imgstream.state import gallery
from tests.unit.state.signing import LOG_LINE, add_photos, log_lines, use_runtime


def _cards(owner_id) -> list[dict]:
    months = [row.month for row in gallery.month_rows(owner_id)]
    keys = [f"{month['month']}/0/{sum(day['count'] for day in month['days'])}"
            for month in gallery.days_payload(owner_id, months)]
    return [card for segment in gallery.segment_payload(owner_id, keys)
            for day in segment["days"] for card in day["cards"]]


def test_segment_keys_are_checked():
    assert gallery.parse_segment("2024-07/120/120") == ("2024-07", 120, 120)
    for bad in ("2024-07/-1/10", "2024-07/0/0", "2024-07/0/100000", "2024-07/x/1", "nope", None,
                "2024-7/0/10"):
        assert gallery.parse_segment(bad) is None, bad


def test_segments_hold_the_photos_of_their_stretch_of_a_month(monkeypatch, engine, session,
                                                              storage, owner, tmp_path):
    add_photos(session, storage, owner, tmp_path, 5)
    use_runtime(monkeypatch, gallery, engine, storage)
    (month,) = [row.month for row in gallery.month_rows(owner.id)]
    (days,) = gallery.days_payload(owner.id, [month])
    assert sum(day["count"] for day in days["days"]) == 5
    whole, first, rest = gallery.segment_payload(
        owner.id, [f"{month}/0/5", f"{month}/0/2", f"{month}/2/3"])
    ids = [card["id"] for day in whole["days"] for card in day["cards"]]
    assert [card["id"] for day in first["days"] for card in day["cards"]] == ids[:2]
    assert [card["id"] for day in rest["days"] for card in day["cards"]] == ids[2:]
    assert rest["key"] == f"{month}/2/3"


def test_cards_load_with_signed_thumbnails(monkeypatch, engine, session, storage, owner,
                                           tmp_path):
    add_photos(session, storage, owner, tmp_path, 2)
    use_runtime(monkeypatch, gallery, engine, storage)
    cards = _cards(owner.id)
    assert len(cards) == 2
    assert all(card["thumbnail_url"].startswith("/media/thumbnails/") for card in cards)


def test_cards_load_with_placeholders_when_urls_cannot_be_signed(
    monkeypatch, engine, session, storage, owner, tmp_path, cannot_sign, caplog
):
    photos = add_photos(session, storage, owner, tmp_path, 3)
    use_runtime(monkeypatch, gallery, engine, cannot_sign)

    with caplog.at_level(logging.INFO):
        cards = {card["filename"]: card for card in _cards(owner.id)}

    assert sorted(cards) == ["p0.jpg", "p1.jpg", "p2.jpg"]
    assert cannot_sign.refusals == 3
    assert {card["thumbnail_url"] for card in cards.values()} == {""}
    assert cards["p0.jpg"]["thumbhash"], "the browser draws the placeholder from it"
    assert cards["p1.jpg"]["thumbhash"]
    assert cards[photos[-1].filename]["thumbhash"] == "", "no thumbhash: a neutral tile"
    assert log_lines(caplog) == [LOG_LINE], "said once, not once per photo"


def _month(month: str, count: int) -> gallery.MonthRow:
    return gallery.MonthRow(month, month, count, 1, month[:4], "", False)


def test_the_opening_sends_the_first_photos_of_the_newest_months():
    small = [_month("2024-07", 30), _month("2024-06", 40), _month("2024-05", 200)]
    assert gallery.opening_segments(small) == ["2024-07/0/30", "2024-06/0/40"]
    big = [_month("2024-07", 500), _month("2024-06", 3)]
    assert gallery.opening_segments(big) == ["2024-07/0/120"]
    assert gallery.opening_segments([]) == []
    many = [_month(f"2024-{m:02d}", 1) for m in range(12, 0, -1)]
    assert len(gallery.opening_segments(many)) == gallery.OPENING_MONTHS


def test_the_opening_payload_holds_days_and_photos_of_the_newest_month(
        monkeypatch, engine, session, storage, owner, tmp_path):
    add_photos(session, storage, owner, tmp_path, 4)
    use_runtime(monkeypatch, gallery, engine, storage)
    months = gallery.month_rows(owner.id)
    days, photos = gallery.opening_payload(owner.id, months)
    assert [month["month"] for month in days] == [months[0].month]
    assert [segment["key"] for segment in photos] == [f"{months[0].month}/0/4"]
    assert sum(len(day["cards"]) for day in photos[0]["days"]) == 4
