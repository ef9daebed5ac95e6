"""The library's months load even when no thumbnail URL can be signed."""

import logging

from imgstream.state import gallery
from tests.unit.state.signing import LOG_LINE, add_photos, log_lines, use_runtime


def _cards(owner_id) -> list[dict]:
    months = [row.month for row in gallery.month_rows(owner_id)]
    return [card for month in gallery.month_payload(owner_id, months)
            for day in month["days"] for card in day["cards"]]


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
