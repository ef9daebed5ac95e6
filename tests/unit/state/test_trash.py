import logging
from datetime import UTC, datetime, timedelta

import pytest

from imgstream.services import trash as trash_service
from imgstream.state import trash as trash_state
from imgstream.state.trash import days_left_label
from tests.unit.state.signing import LOG_LINE, add_photos, log_lines, use_runtime

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("left", "label"),
    [
        (timedelta(days=30) - timedelta(seconds=5), "30 days left"),
        (timedelta(days=2), "2 days left"),
        (timedelta(days=1, hours=1), "2 days left"),
        (timedelta(days=1), "1 day left"),
        (timedelta(hours=23), "less than a day left"),
        (timedelta(0), "deleted forever soon"),
        (-timedelta(days=3), "deleted forever soon"),
    ],
)
def test_days_left_label(left, label):
    assert days_left_label(NOW + left, now=NOW) == label


def test_trash_cards_load_with_placeholders_when_urls_cannot_be_signed(
    monkeypatch, engine, session, storage, owner, tmp_path, cannot_sign, caplog
):
    photos = add_photos(session, storage, owner, tmp_path, 2)
    for photo in photos:
        assert trash_service.move_to_trash(session=session, owner_id=owner.id,
                                           photo_id=photo.id)
    use_runtime(monkeypatch, trash_state, engine, cannot_sign)
    with caplog.at_level(logging.INFO):
        cards, _ = trash_state.load_trash_cards(owner.id, 10)
    assert sorted(card.filename for card in cards) == ["p0.jpg", "p1.jpg"]
    assert {card.thumbnail_url for card in cards} == {""}
    assert sorted(bool(card.placeholder) for card in cards) == [False, True]
    assert log_lines(caplog) == [LOG_LINE]
