"""The embedded store: one SQLite file for records, one folder for pictures.

Ids are random; a file's path is made from the id the database holds, never from a request.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from retouch.imaging.io import Picture, encode_png, load_picture, mask_from_pixels

SCHEMA = """
CREATE TABLE IF NOT EXISTS images (
    id TEXT PRIMARY KEY,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    has_alpha INTEGER NOT NULL,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    session TEXT,
    status TEXT NOT NULL,
    priority INTEGER NOT NULL,
    kind TEXT NOT NULL DEFAULT 'fill',
    engine TEXT NOT NULL,
    request TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    step INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    device TEXT,
    result_image TEXT,
    report TEXT,
    stage TEXT,
    seed INTEGER,
    error_code TEXT,
    error_message TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT
);
CREATE INDEX IF NOT EXISTS jobs_pending ON jobs (status, priority DESC, seq);
CREATE INDEX IF NOT EXISTS jobs_session ON jobs (session);
"""


#: (column, definition) of the jobs table's columns added after its first version
MIGRATIONS = (("kind", "TEXT NOT NULL DEFAULT 'fill'"), ("report", "TEXT"), ("stage", "TEXT"))


def now() -> str:
    return datetime.now(UTC).isoformat()


def new_id() -> str:
    return secrets.token_urlsafe(16)  # 22 characters, 128 random bits


class Database:
    """One connection shared by the event loop and the workers; every statement is short."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives a process kill
            self._conn.executescript(SCHEMA)
            self._migrate()

    def _migrate(self) -> None:
        """Columns added since a database was made; a database from an older version keeps its jobs."""
        have = {row["name"] for row in self._conn.execute("PRAGMA table_info(jobs)")}
        for column, definition in MIGRATIONS:
            if column not in have:
                self._conn.execute(f"ALTER TABLE jobs ADD COLUMN {column} {definition}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()


@dataclass(frozen=True)
class StoredImage:
    id: str
    width: int
    height: int
    has_alpha: bool
    kind: str


class PictureCache:
    """Decoded pictures by image id, least recently used out first, bounded in bytes.

    A picture is decoded once at upload and handed to the worker from here; its pixels are read-only.
    """

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self._pictures: OrderedDict[str, Picture] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def put(self, image_id: str, picture: Picture) -> None:
        picture.pixels.flags.writeable = False
        with self._lock:
            self._pictures[image_id] = picture
            self._bytes += picture.pixels.nbytes
            while self._bytes > self.budget and self._pictures:
                _, evicted = self._pictures.popitem(last=False)
                self._bytes -= evicted.pixels.nbytes

    def get(self, image_id: str) -> Picture | None:
        with self._lock:
            picture = self._pictures.get(image_id)
            if picture is not None:
                self._pictures.move_to_end(image_id)
            return picture


class ImageStore:
    """Pictures as PNG files named by their random id, with their size in the database."""

    def __init__(self, db: Database, folder: Path, cache_bytes: int = 512 * 1024 * 1024) -> None:
        self._db = db
        self._folder = folder
        self._cache = PictureCache(cache_bytes)
        folder.mkdir(parents=True, exist_ok=True)

    def _path(self, image_id: str) -> Path:
        return self._folder / image_id[:2] / f"{image_id}.png"

    def add_picture(self, picture: Picture, kind: str, png: bytes | None = None) -> StoredImage:
        """Keep a decoded picture; `png` are its bytes if already encoded (else they are made here)."""
        if png is None:
            png = encode_png(picture.pixels, exif=picture.exif, icc_profile=picture.icc_profile)
        width, height = picture.size
        stored = self.add(png, width, height, picture.has_alpha, kind)
        self._cache.put(stored.id, picture)
        return stored

    def picture(self, image: StoredImage, max_pixels: int) -> Picture:
        """The decoded picture, from the cache or the file."""
        cached = self._cache.get(image.id)
        if cached is not None:
            return cached
        picture = load_picture(self.read(image), max_pixels=max_pixels)
        self._cache.put(image.id, picture)
        return picture

    def mask(self, image: StoredImage, max_pixels: int) -> np.ndarray:
        """The picture read as a mask (255 = fill), from the decoded picture: one decode serves both uses."""
        return mask_from_pixels(self.picture(image, max_pixels).pixels)

    def add(self, png: bytes, width: int, height: int, has_alpha: bool, kind: str) -> StoredImage:
        image = StoredImage(new_id(), width, height, has_alpha, kind)
        path = self._path(image.id)
        path.parent.mkdir(exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(png)
        temporary.replace(path)
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO images (id, width, height, has_alpha, kind, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (image.id, width, height, int(has_alpha), kind, now()),
            )
        return image

    def get(self, image_id: str) -> StoredImage | None:
        rows = self._db.query("SELECT id, width, height, has_alpha, kind FROM images WHERE id = ?", (image_id,))
        if not rows:
            return None
        row = rows[0]
        return StoredImage(row["id"], row["width"], row["height"], bool(row["has_alpha"]), row["kind"])

    def read(self, image: StoredImage) -> bytes:
        return self._path(image.id).read_bytes()

    def path(self, image: StoredImage) -> Path:
        return self._path(image.id)
