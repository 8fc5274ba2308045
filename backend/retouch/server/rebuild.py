"""`retouch rebuild-index`: a fresh database made from the picture files, the old one copied aside first."""

from __future__ import annotations

import logging
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from retouch.server.database import DB_NAME, DamagedStore, StoreUnavailable, folder_problem, migrate
from retouch.server.migrations import MIGRATIONS
from retouch.server.store import IMAGES

log = logging.getLogger(__name__)


def rebuild_index(data: Path) -> tuple[Path | None, int, int]:
    """Make a fresh database from the picture files in `data`, after copying the old database (and its WAL)
    aside. Jobs are kept when the old database can still be read. Returns (the copy, pictures, jobs)."""
    path = data / DB_NAME
    if (problem := folder_problem(data)) is not None:  # read-only, not ours, full: said before anything is moved
        raise StoreUnavailable(problem)
    backup = None
    if path.exists():
        if not path.is_file():
            raise DamagedStore(f"{path} is not a database file (it is a folder or a device); move it away first")
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        backup = path.with_name(f"{DB_NAME}.damaged-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            source = path.with_name(DB_NAME + suffix)
            if source.exists():
                shutil.copy2(source, backup.with_name(backup.name + suffix))
    jobs = _salvage_jobs(path) if path.exists() else []
    for suffix in ("", "-wal", "-shm"):
        path.with_name(DB_NAME + suffix).unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        migrate(conn, MIGRATIONS)
        pictures = 0
        conn.execute("BEGIN")
        for file in sorted((data / IMAGES).glob("*/*.png")):
            row = _image_row(file)
            if row is not None:
                conn.execute(
                    "INSERT OR IGNORE INTO images (id, width, height, has_alpha, kind, created_at, bytes)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
                pictures += 1
        kept = 0
        columns = [row[1] for row in conn.execute("PRAGMA table_info(jobs)")]
        for job in jobs:
            present = [column for column in columns if column in job]  # an older database lacks newer columns
            conn.execute(
                f"INSERT OR IGNORE INTO jobs ({', '.join(present)}) VALUES ({', '.join('?' * len(present))})",
                [job[column] for column in present],
            )
            kept += 1
        conn.execute("COMMIT")
    finally:
        conn.close()
    return backup, pictures, kept


def _salvage_jobs(path: Path) -> list[dict]:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(row) for row in conn.execute("SELECT * FROM jobs")]
        finally:
            conn.close()
    except sqlite3.Error:
        return []


def _image_row(file: Path) -> tuple | None:
    """An images row for a picture file, from its header (and its recipe chunk: results carry one)."""
    image_id = file.stem
    if not (16 <= len(image_id) <= 64) or file.parent.name != image_id[:2]:
        return None
    try:
        with Image.open(file) as image:
            width, height = image.size
            has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            kind = "result" if "retouch" in image.info else "upload"
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        log.warning("%s is not a readable picture; left out of the index", file)
        return None
    created = datetime.fromtimestamp(file.stat().st_mtime, UTC).isoformat()
    return image_id, width, height, int(has_alpha), kind, created, file.stat().st_size
