from contextlib import contextmanager

import pytest
from sqlmodel import select

from imgstream import cli, config, models
from imgstream.cli import admin, admin_keys
from imgstream.models import Photo
from imgstream.services import ingest
from tests import images


@pytest.fixture
def run(session, storage, tmp_path, monkeypatch):
    """cli.main against the test database and store, with settings under tmp_path."""

    @contextmanager
    def same_session():
        yield session

    monkeypatch.setattr(admin, "db_session", same_session)
    monkeypatch.setattr(admin, "storage", lambda: storage)
    monkeypatch.setattr(admin_keys, "db_session", same_session)
    monkeypatch.setenv("IMGSTREAM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("IMGSTREAM_MAX_UPLOAD_BYTES", "200000")
    config.get_settings.cache_clear()
    yield lambda argv: cli.main(["admin", *argv])
    config.get_settings.cache_clear()


def test_upload_ingests_files_and_folders_one_line_each(run, session, owner, tmp_path, capsys):
    beach, notes = tmp_path / "beach.jpg", tmp_path / "notes.jpg"
    beach.write_bytes(images.jpeg(size=(800, 600)))
    notes.write_bytes(b"not a photo")
    folder = tmp_path / "trip"
    (folder / "day 1").mkdir(parents=True)
    (folder / "day 1" / "sea.png").write_bytes(images.png(size=(300, 200)))
    (folder / ".thumbs").mkdir()
    (folder / ".thumbs" / "x.jpg").write_bytes(images.jpeg())

    assert run(["import", "--user", "ADA@example.com", str(beach), str(notes), str(folder)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{beach}: added",
        f"{notes}: rejected: {lines[1].split(': ', 2)[2]}",
        f"{folder / 'day 1' / 'sea.png'}: added",
    ]
    assert lines[1].startswith(f"{notes}: rejected: not a supported image")
    names = sorted(p.filename for p in session.exec(select(Photo)).all())
    assert names == ["beach.jpg", "sea.png"]
    assert list((tmp_path / "data" / "incoming").iterdir()) == []


def test_upload_of_photos_already_there_succeeds(run, owner, tmp_path, capsys):
    beach = tmp_path / "beach.jpg"
    beach.write_bytes(images.jpeg(size=(800, 600)))
    assert run(["import", "--user", "ada@example.com", str(beach)]) == 0
    assert run(["import", "--user", "ada@example.com", str(beach)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"{beach}: duplicate: already in your library as beach.jpg"
    )


def test_upload_refuses_files_over_the_limit_and_missing_ones(run, owner, tmp_path, capsys):
    big = tmp_path / "big.jpg"
    big.write_bytes(b"x" * 200_001)
    assert run(["import", "--user", "ada@example.com", str(big),
                str(tmp_path / "gone.jpg")]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{big}: rejected: larger than the 200 KB limit",
        f"{tmp_path / 'gone.jpg'}: failed: No such file or directory",
    ]
    assert list((tmp_path / "data" / "incoming").iterdir()) == []


def test_upload_passes_the_collision_choice(run, owner, tmp_path, monkeypatch, capsys):
    seen = []

    def fake_ingest(**kwargs):
        seen.append(kwargs["on_collision"])
        kwargs["upload"].discard()
        return ingest.IngestResult(ingest.IngestStatus.SKIPPED,
                                   "skipped: kept the photo already there")

    monkeypatch.setattr(ingest, "ingest", fake_ingest)
    beach = tmp_path / "beach.jpg"
    beach.write_bytes(images.jpeg())
    assert run(["import", "--user", "ada@example.com", "--on-collision", "skip",
                str(beach)]) == 0
    assert run(["import", "--user", "ada@example.com", str(beach)]) == 0
    assert seen == [models.CollisionChoice.SKIP, models.CollisionChoice.KEEP_BOTH]
    assert f"{beach}: skipped: kept the photo already there" in capsys.readouterr().out
    assert run(["import", "--user", "ada@example.com", "--on-collision", "ask",
                str(beach)]) == 2


def test_upload_for_an_unknown_user_changes_nothing(run, session, tmp_path, capsys):
    beach = tmp_path / "beach.jpg"
    beach.write_bytes(images.jpeg())
    assert run(["import", "--user", "nobody@example.com", str(beach)]) == 2
    assert "no user with the email nobody@example.com" in capsys.readouterr().err
    assert session.exec(select(Photo)).all() == []


def test_the_image_libraries_are_set_up_before_a_command_runs(run, owner, tmp_path, monkeypatch,
                                                              capsys):
    from imgstream.services import imaging

    configured = []
    monkeypatch.setattr(imaging, "configure", lambda **kwargs: configured.append(kwargs))
    beach = tmp_path / "beach.jpg"
    beach.write_bytes(images.jpeg(size=(800, 600)))
    assert run(["import", "--user", "ada@example.com", str(beach)]) == 0
    assert configured == [{"max_pixels": config.get_settings().max_image_pixels}]


def test_keys_are_made_listed_and_revoked(run, session, tmp_path, capsys):
    from imgstream.services import api_keys

    assert run(["keys", "create", "--user", "Grace@Example.com", "--scope", "upload",
                "--scope", "photos:read", "--name", "laptop backup"]) == 0
    out = capsys.readouterr()
    token = out.out.strip()
    assert "shown once" in out.err
    holder = api_keys.authenticate(session=session, token=token)
    assert holder is not None
    assert sorted(holder.scopes) == ["photos:read", "upload"]

    assert run(["keys", "list", "--user", "grace@example.com"]) == 0
    listed = capsys.readouterr().out
    assert str(holder.key_id) in listed and "laptop backup" in listed

    assert run(["keys", "revoke", "--user", "grace@example.com", str(holder.key_id)]) == 0
    assert api_keys.authenticate(session=session, token=token) is None
    assert run(["keys", "revoke", "--user", "grace@example.com", str(holder.key_id)]) == 1
    assert run(["keys", "create", "--user", "grace@example.com", "--scope", "nope"]) == 2
