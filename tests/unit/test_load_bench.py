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
    assert names["hydrate"].endswith(".hydrate")
    assert names.get("load_more", names.get("load_months", "")).startswith("reflex___state")


def test_only_loopback_is_driven():
    with pytest.raises(SystemExit, match="loopback"):
        load.main(["--url", "http://192.0.2.1:8000", "--seconds", "1"])
