"""The app module wires what runs beside the pages."""

from imgstream.services import upload_sweep


def test_u26_the_app_sweeps_expired_uploads_while_it_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("IMGSTREAM_DATA_DIR", str(tmp_path))
    from imgstream.imgstream import app

    tasks = [task for task in app._lifespan_tasks
             if getattr(task, "__wrapped__", None) is upload_sweep.sweep_on_schedule]
    assert len(tasks) == 1
    assert tasks[0].keywords["every"].total_seconds() == 30 * 60
