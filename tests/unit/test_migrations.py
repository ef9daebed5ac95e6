"""The Alembic history against real SQLite files: upgrade, data kept, downgrade, models match."""

import uuid
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import imgstream.models  # noqa: F401 - registers the tables
from alembic import command
from imgstream import indexes

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.set_main_option("sqlalchemy.url", url)
    return config


def test_upgrade_keeps_photos_and_matches_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    config = alembic_config(url)
    command.upgrade(config, "12d169e003e0")
    engine = sa.create_engine(url)
    owner, photo = uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO user (id, email, display_name, created_at, quota_bytes, used_bytes,"
            " page_size, theme) VALUES (:id, 'a@b.c', '', '2024-01-01', 1, 0, 60, 'system')"
        ), {"id": owner.hex})
        conn.execute(sa.text(
            "INSERT INTO photo (id, owner_id, filename, sha256, format, mime, size_bytes, width,"
            " height, taken_at, taken_at_source, title, description, favorite, uploaded_at,"
            " updated_at) VALUES (:id, :owner, 'old.jpg', 'x', 'JPEG', 'image/jpeg', 10, 4, 3,"
            " '2020-01-01', 'exif_original', '', '', 0, '2024-01-01', '2024-01-01')"
        ), {"id": photo.hex, "owner": owner.hex})

    command.upgrade(config, "head")

    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT filename, camera_make, gps_latitude FROM photo")).one()
        assert tuple(row) == ("old.jpg", None, None)
        day = conn.execute(sa.text("SELECT taken_day, taken_month FROM photo")).one()
        assert tuple(day) == ("2020-01-01", "2020-01")
        assert conn.execute(sa.text("SELECT count(*) FROM rendition")).scalar() == 0
        # The search index (FTS5 table and its shadow tables) lives beside the metadata.
        context = MigrationContext.configure(
            conn, opts={"include_object": indexes.outside_the_search_index})
        diff = compare_metadata(context, SQLModel.metadata)
        assert diff == [], "the migrations and the models disagree"
        uniques = sa.inspect(conn).get_unique_constraints("rendition")
        assert {"name": "uq_rendition_photo_kind", "column_names": ["photo_id", "kind"]} in [
            {"name": u["name"], "column_names": u["column_names"]} for u in uniques
        ]

    command.downgrade(config, "12d169e003e0")
    with engine.connect() as conn:
        assert "rendition" not in sa.inspect(conn).get_table_names()
        assert conn.execute(sa.text("SELECT filename FROM photo")).scalar() == "old.jpg"
    command.upgrade(config, "head")
    engine.dispose()


def test_existing_same_names_are_numbered_when_names_become_unique(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    config = alembic_config(url)
    command.upgrade(config, "7b4fd494ca38")
    engine = sa.create_engine(url)
    owner, other = uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        for user, email in ((owner, "a@b.c"), (other, "d@e.f")):
            conn.execute(sa.text(
                "INSERT INTO user (id, email, display_name, created_at, quota_bytes, used_bytes,"
                " page_size, theme) VALUES (:id, :email, '', '2024-01-01', 1, 0, 60, 'system')"
            ), {"id": user.hex, "email": email})
        for number, (user, name) in enumerate([
            (owner, "IMG.JPG"), (owner, "img.jpeg"), (owner, "img (1).jpg"), (owner, "x.png"),
            (other, "img.jpg"),
        ]):
            conn.execute(sa.text(
                "INSERT INTO photo (id, owner_id, filename, sha256, format, mime, size_bytes,"
                " width, height, taken_at, taken_at_source, title, description, favorite,"
                " uploaded_at, updated_at) VALUES (:id, :owner, :name, :sha, 'JPEG',"
                " 'image/jpeg', 10, 4, 3, '2020-01-01', 'exif_original', '', '', 0,"
                " :uploaded, '2024-01-01')"
            ), {"id": uuid.uuid4().hex, "owner": user.hex, "name": name, "sha": str(number),
                "uploaded": f"2024-01-0{number + 1}"})

    command.upgrade(config, "head")

    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT owner_id, filename, name_key FROM photo ORDER BY uploaded_at")).all()
    assert [(r[1], r[2]) for r in rows] == [
        ("IMG.JPG", "img.jpg"), ("img (1).jpeg", "img (1).jpg"), ("img (1) (1).jpg",
                                                                  "img (1) (1).jpg"),
        ("x.png", "x.png"), ("img.jpg", "img.jpg"),
    ]
    engine.dispose()


def test_migrating_in_a_process_leaves_its_loggers_working(tmp_path):
    import logging

    before = logging.getLogger("imgstream.api.logs")
    command.upgrade(alembic_config(f"sqlite:///{tmp_path / 'db.sqlite'}"), "head")
    assert not before.disabled
