from imgstream.state.selection import pick

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


def test_the_typed_shift_reads_days_hours_and_minutes():
    from datetime import timedelta

    import pytest

    from imgstream.state.selection import shift_of

    assert shift_of("1", "-2", "") == timedelta(days=1, hours=-2)
    assert shift_of("", "", "") == timedelta(0)
    with pytest.raises(ValueError):
        shift_of("1.5", "", "")
