"""The data folder's database as a whole: every table's migrations in one numbered sequence, and opening the
folder (which refuses a database that was emptied or replaced while its pictures are still there).

Each table's versions live beside the code that owns it (`store.IMAGE_MIGRATIONS`, `queue.JOB_MIGRATIONS`);
here they are put in order. A new version is a new `Migration` with the next number, and a test in
`tests/server/test_migrations.py` that builds the version before it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from retouch.server.database import (
    BUSY_TIMEOUT,
    DB_NAME,
    DamagedStore,
    Database,
    Migration,
    StoreUnavailable,
    check_sequence,
    folder_problem,
)
from retouch.server.queue import JOB_MIGRATIONS
from retouch.server.store import IMAGE_MIGRATIONS, IMAGES

MIGRATIONS: list[Migration] = check_sequence([*IMAGE_MIGRATIONS, *JOB_MIGRATIONS])
LATEST = MIGRATIONS[-1].version
REBUILD_HINT = "run `retouch rebuild-index --data-dir {data}` to rebuild the index of pictures from the files"


def unversioned(conn: sqlite3.Connection) -> int:
    """The version of a database made before versions were recorded (`user_version` 0), read from its shape:
    the tables and columns each version added, in the order Retouch added them."""

    def columns(table: str) -> set[str]:
        return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}

    images, jobs = columns("images"), columns("jobs")
    if not images:
        return 0
    if not jobs:
        return 1
    if "bytes" not in images:
        return 2
    return 4 if "kind" in jobs else 3


def _pictures_in(data: Path) -> bool:
    folder = data / IMAGES
    return folder.is_dir() and next(folder.glob("*/*.png"), None) is not None


def open_database(data: Path, *, busy_timeout: float = BUSY_TIMEOUT) -> Database:
    """The data folder's database, at the latest version. Raises `DamagedStore` (with the repair) or
    `StoreUnavailable` (read-only, permission denied, no space, locked), each one line naming the file."""
    path = data / DB_NAME
    hint = REBUILD_HINT.format(data=data)
    if (not path.exists() or (path.is_file() and path.stat().st_size == 0)) and _pictures_in(data):
        state = "is missing" if not path.exists() else "is empty (0 bytes)"
        raise DamagedStore(f"{path} {state} but {data / IMAGES} holds pictures: the database was lost; {hint}")
    if (data / IMAGES).is_dir() and (problem := folder_problem(data / IMAGES)) is not None:
        raise StoreUnavailable(problem)  # the pictures' folder alone may be read-only or someone else's
    db = Database(path, MIGRATIONS, busy_timeout=busy_timeout, unversioned=unversioned, damage_hint=hint)
    if not db.query("SELECT 1 FROM images LIMIT 1") and _pictures_in(data):
        db.close()
        raise DamagedStore(
            f"{path} holds no record of the pictures in {data / IMAGES}: it was emptied or replaced; {hint}"
        )
    return db
