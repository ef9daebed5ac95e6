"""The load bench's bookkeeping: actions, percentiles, the report, and loopback only."""

from __future__ import annotations

import pytest

from bench import load


def test_the_load_bench_runs_every_action_and_reports_them(capsys):
    names = {action.__name__ for action, _ in load.ACTIONS}
    assert {"scroll", "open_photo", "search", "favourite", "upload"} <= names
    assert load.percentile([0.1, 0.2, 0.3, 0.4], 0.5) == 0.3
    stats = load.Stats()
    for ms in range(1, 101):
        stats.record("scroll", ms / 1000)
    stats.error("upload", "complete 503 storage is unavailable")
    stats.begun_uploads |= {("a", "1"), ("a", "2")}
    stats.finished_uploads.add(("a", "1"))
    samples = [(t, 300.0 + t, 50.0, 40, 10) for t in range(10)]
    load.report(stats, samples, people=3, seconds=10, warmup=2)
    out = capsys.readouterr().out
    assert "scroll" in out and "51" in out and "96" in out, out
    assert "not finished 1" in out
    assert "first upload error: complete 503" in out
    assert "soak: RSS after warm-up 302 -> 309 MiB" in out


def test_event_names_come_from_the_apps_states():
    names = load._event_names()
    assert names["hydrate"].endswith(".hydrate_and_load")
    assert names.get("load_more", names.get("load_months", "")).startswith("reflex___state")


def test_only_loopback_is_driven():
    with pytest.raises(SystemExit, match="loopback"):
        load.main(["--url", "http://192.0.2.1:8000", "--seconds", "1"])


def _frame(*specs) -> dict:
    """A socket frame as the server sends it: the handler's script calls as `events`."""
    import json

    from reflex.state import StateUpdate
    from reflex_base.event import Event
    from reflex_base.utils.format import json_dumps

    events = [event for spec in specs for event in Event.from_event_type(spec)]
    return json.loads(json_dumps(StateUpdate(events=events)))


def test_a_scroll_is_answered_by_the_frame_putting_its_months():
    from imgstream.state import gallery

    month = {"month": "2026-11", "days": [{"day": "2026-11-02", "label": "Mon 2 Nov", "cards": [
        {"id": "a", "filename": "it's (1) \u00e9.jpg", "thumbnail_url": "", "thumbhash": ""}]}]}
    put = _frame(gallery._store_call("put", [month]))
    assert load.timeline_scripts(put)[0][0] == "put"
    assert load.months_put(put) == {"2026-11"}
    assert load.answers_scroll(["2026-11", "2026-10"])(put)
    assert not load.answers_scroll(["2026-10"])(put), "another month's answer"
    # Frames that are no answer to a scroll: a favourite's card patch, a plain delta.
    patch = _frame(gallery.card_changed("a", favorite=True))
    assert load.timeline_scripts(patch) == [("patch", "a")]
    assert not load.answers_scroll(["2026-11"])(patch)
    assert not load.answers_scroll(["2026-11"])({"delta": {"state": {"total": 3}}})
    assert not load.answers_scroll(["2026-11"])({"events": [{"name": "_redirect"}]})
    # The library's on-load ends with its months as state, or the store reset.
    assert load.opens_library(_frame(gallery._store_call("reset")))
    assert load.opens_library({"delta": {"g": {"months_rx_state_": [{"month": "2026-11"}]}}})
    assert not load.opens_library({"delta": {"g": {"is_hydrated_rx_state_": False}}})


def test_a_scroll_by_segments_asks_the_librarys_segments_and_knows_their_answer():
    from imgstream.state import gallery

    assert load.segments_of({"2026-11": 250, "2026-10": 3}) == [
        "2026-11/0/120", "2026-11/120/120", "2026-11/240/10", "2026-10/0/3"]
    # A filename that looks like a key is no key: it is escaped inside the call's JSON.
    segment = {"key": "2026-11/0/120", "days": [{"day": "2026-11-02", "label": "Mon 2 Nov",
                                                 "cards": [{"id": "a",
                                                            "filename": '"key":"2026-10/0/3"'}]}]}
    put = _frame(gallery._store_call("putPhotos", [segment]))
    assert load.segments_put(put) == {"2026-11/0/120"}
    assert load.segments_put(_frame(gallery._store_call("put", [segment]))) == set()
    months = "{'months': [{'month': '2026-11', 'label': 'November 2026', 'count': 250, 'days': 3}]}"
    assert load._MONTH_COUNT.findall(months) == [("2026-11", "250")]
