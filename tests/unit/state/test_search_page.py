"""What the search page says and how it groups results; time zone choices of the editor."""

from imgstream.state.gallery import PhotoCard
from imgstream.state.photo_edits import OFFSET_CHOICES, offset_label, parse_offset
from imgstream.state.search import group_by_day, why_empty


def card(n: int) -> PhotoCard:
    return PhotoCard(id=str(n), filename=f"{n}.jpg", thumbnail_url="", taken_label="",
                     placeholder="")


def test_empty_results_say_why():
    assert why_empty("x", "2024-01-01", "2024-01-31", False, "any", "any") == (
        "No photos match 'x' between 1 January 2024 and 31 January 2024.")
    assert why_empty("", "2024-01-01", "", True, "X100V", "HEIC") == (
        "No favourites taken on or after 1 January 2024 from the X100V in HEIC.")
    assert why_empty("", "", "", True, "any", "any").startswith("No favourites yet")
    assert why_empty("", "", "", False, "any", "any") == "Your library has no photos yet."


def test_results_are_grouped_by_day_under_their_month():
    days = group_by_day([("2024-05-02", card(1)), ("2024-05-02", card(2)),
                         ("2024-05-01", card(3)), ("2024-04-30", card(4))])
    assert [(d.day, d.first_of_month, len(d.cards)) for d in days] == [
        ("2024-05-02", True, 2), ("2024-05-01", False, 1), ("2024-04-30", True, 1)]
    assert days[0].month_label == "May 2024" and days[0].day_label == "Thu 2 May 2024"


def test_offsets_round_trip():
    assert offset_label(330) == "UTC+05:30" and offset_label(-210) == "UTC-03:30"
    assert all(parse_offset(label) == minutes for label, minutes in
               zip(OFFSET_CHOICES, range(-720, 841, 15), strict=True))
