from datetime import UTC, datetime, timedelta

import pytest

from imgstream.state.trash import days_left_label

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
