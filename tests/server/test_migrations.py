"""The database's schema versions: a database of every earlier version (built here from the SQL each version
had, recorded in `user_version` or, as before versions were recorded, not) opens at the latest version with
the same tables as a fresh one and its records kept; a database newer than the code is refused; a migration
that fails leaves the database at the version before it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from retouch.server.database import Database, Migration, StoreUnavailable, statements
from retouch.server.migrations import LATEST, MIGRATIONS, open_database

IMAGES_V1 = """CREATE TABLE images (id TEXT PRIMARY KEY, width INTEGER NOT NULL, height INTEGER NOT NULL,
    has_alpha INTEGER NOT NULL, kind TEXT NOT NULL, created_at TEXT NOT NULL)"""
JOBS_V2 = """CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, session TEXT,
    status TEXT NOT NULL, priority INTEGER NOT NULL, engine TEXT NOT NULL, request TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, step INTEGER NOT NULL DEFAULT 0, total INTEGER NOT NULL DEFAULT 0,
    device TEXT, result_image TEXT, seed INTEGER, error_code TEXT, error_message TEXT, created_at TEXT NOT NULL,
    started_at TEXT, finished_at TEXT);
    CREATE INDEX jobs_pending ON jobs (status, priority DESC, seq);
    CREATE INDEX jobs_session ON jobs (session);"""
IMAGES_V3 = (
    "ALTER TABLE images ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0; ALTER TABLE images ADD COLUMN deleted_at TEXT;"
)
JOBS_V4 = """ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'fill'; ALTER TABLE jobs ADD COLUMN report TEXT;
    ALTER TABLE jobs ADD COLUMN stage TEXT;"""
#: the schema as each released version left it, written out here rather than taken from the migrations
SCHEMA_AT = {1: IMAGES_V1, 2: IMAGES_V1 + ";" + JOBS_V2, 3: IMAGES_V1 + ";" + JOBS_V2 + IMAGES_V3}
IMAGE_ID = "a" * 22
PNG_BYTES = b"\x89PNG" + b"\0" * 96  # the size is what migration 3 reads


def _old_database(data: Path, version: int, *, recorded: bool) -> None:
    """A data folder whose database is at `version`, with a picture (and a job, once there is a jobs table)."""
    data.mkdir()
    picture = data / "images" / IMAGE_ID[:2] / f"{IMAGE_ID}.png"
    picture.parent.mkdir(parents=True)
    picture.write_bytes(PNG_BYTES)
    conn = sqlite3.connect(data / "retouch.db")
    conn.executescript(SCHEMA_AT[version])
    conn.execute(
        "INSERT INTO images (id, width, height, has_alpha, kind, created_at) VALUES (?, 4, 3, 0, 'upload', '2026')",
        (IMAGE_ID,),
    )
    if version >= 3:  # from version 3 on, a record came with its file's size
        conn.execute("UPDATE images SET bytes = ?", (len(PNG_BYTES),))
    if version >= 2:
        conn.execute(
            "INSERT INTO jobs (id, status, priority, engine, request, created_at)"
            " VALUES ('j' || hex(randomblob(10)), 'succeeded', 0, 'telea', '{}', '2026')"
        )
    if recorded:
        conn.execute(f"PRAGMA user_version = {version}")
    conn.commit()
    conn.close()


def _shape(db_file: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db_file)
    try:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        shape = {table: sorted(conn.execute(f"PRAGMA table_info({table})").fetchall()) for table in tables}
        shape["indexes"] = sorted(conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'"))
        return shape
    finally:
        conn.close()


@pytest.fixture(scope="module")
def fresh_shape(tmp_path_factory) -> dict[str, list[tuple]]:
    data = tmp_path_factory.mktemp("fresh")
    db = open_database(data)
    assert db.version == LATEST
    db.close()
    return _shape(data / "retouch.db")


@pytest.mark.parametrize("recorded", [True, False], ids=["user_version", "unversioned"])
@pytest.mark.parametrize("version", sorted(SCHEMA_AT))
def test_every_earlier_version_opens_at_the_latest_with_its_records(tmp_path, fresh_shape, version, recorded):
    data = tmp_path / "data"
    _old_database(data, version, recorded=recorded)
    db = open_database(data)
    try:
        assert db.version == LATEST
        assert db.query("PRAGMA user_version")[0][0] == LATEST
        image = db.query("SELECT width, height, bytes, deleted_at FROM images WHERE id = ?", (IMAGE_ID,))[0]
        assert tuple(image) == (4, 3, len(PNG_BYTES), None)  # sizes of pictures from before were recorded
        jobs = db.query("SELECT kind, status, engine FROM jobs")
        assert [tuple(job) for job in jobs] == ([("fill", "succeeded", "telea")] if version >= 2 else [])
    finally:
        db.close()
    assert _shape(data / "retouch.db") == fresh_shape


def test_the_migrations_are_numbered_one_by_one():
    assert [migration.version for migration in MIGRATIONS] == list(range(1, LATEST + 1))
    assert LATEST == max(SCHEMA_AT) + 1  # a new version needs its old schema written out above


def test_a_database_newer_than_this_code_is_refused_in_one_line(tmp_path):
    data = tmp_path / "data"
    open_database(data).close()
    conn = sqlite3.connect(data / "retouch.db")
    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    conn.close()
    with pytest.raises(StoreUnavailable, match=f"schema version {LATEST + 1}, newer than this Retouch"):
        open_database(data)


def test_a_migration_that_fails_leaves_the_database_at_the_version_before(tmp_path):
    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half (a)")
        raise sqlite3.OperationalError("disk I/O error")

    steps = [Migration(1, "one", statements("CREATE TABLE one (a)")), Migration(2, "two", broken)]
    with pytest.raises(Exception, match="disk I/O error|damaged"):
        Database(tmp_path / "x.db", steps)
    conn = sqlite3.connect(tmp_path / "x.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["one"]
    conn.close()
