"""The image store: pictures as PNG files named by their random id, their records in the `images` table.

Ids are random; a file's path is made from the id the database holds, never from a request.

What it promises:
- A picture file is written in full (temporary name, then rename) before its record; a file without a
  record (a kill in between) is removed by `sweep_orphans` at the next start.
- A full disk is a `StorageFull` error naming the free space (and health says so until a picture is stored
  again), never a raw SQLite error.
- Memory: decodes reserve their size from a `DecodeBudget`; decoded pictures are kept in a `PictureCache`
  bounded in bytes (`pictures.py`).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from retouch.errors import RetouchError
from retouch.imaging.io import Picture, encode_png, load_picture, mask_of
from retouch.server.database import DB_NAME, Database, Migration, new_id, now, statements
from retouch.server.disk import StorageFull, disk_space, is_disk_full, storage_full
from retouch.server.pictures import DecodeBudget, PictureCache, peek_size

log = logging.getLogger(__name__)

IMAGES = "images"
INCOMING = ".incoming"  # uploads while they stream in; emptied at every start


class ImageGone(RetouchError):
    """A picture that was deleted, or whose file is missing."""

    code = "gone"


def image_path(folder: Path, image_id: str) -> Path:
    """Where the picture `image_id` lives under the images folder."""
    return folder / image_id[:2] / f"{image_id}.png"


def _record_file_sizes(conn: sqlite3.Connection) -> None:
    """Records from before sizes were kept get their file's size (0 if the file is gone)."""
    database = Path(conn.execute("PRAGMA database_list").fetchone()[2])  # (seq, name, file) of "main"
    folder = database.parent / IMAGES
    for (image_id,) in conn.execute("SELECT id FROM images WHERE bytes = 0 AND deleted_at IS NULL").fetchall():
        path = image_path(folder, image_id)
        size = path.stat().st_size if path.is_file() else 0
        conn.execute("UPDATE images SET bytes = ? WHERE id = ?", (size, image_id))


def _sizes_and_tombstones(conn: sqlite3.Connection) -> None:
    statements(
        "ALTER TABLE images ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE images ADD COLUMN deleted_at TEXT",
    )(conn)
    _record_file_sizes(conn)


#: The `images` table, version by version (numbered in one sequence with the other tables', `migrations.py`).
IMAGE_MIGRATIONS = (
    Migration(
        1,
        "images: one record per picture file",
        statements(
            """CREATE TABLE images (
                id TEXT PRIMARY KEY,
                width INTEGER NOT NULL,
                height INTEGER NOT NULL,
                has_alpha INTEGER NOT NULL,
                kind TEXT NOT NULL,
                created_at TEXT NOT NULL
            )"""
        ),
    ),
    Migration(
        3, "images: file sizes (retention by bytes) and tombstones (410 for deleted pictures)", _sizes_and_tombstones
    ),
)


@dataclass(frozen=True)
class StoredImage:
    id: str
    width: int
    height: int
    has_alpha: bool
    kind: str
    deleted_at: str | None = None


@dataclass(frozen=True)
class Written:
    """A picture file in place, not yet (or not yet known to be) recorded."""

    image: StoredImage
    size: int
    picture: Picture


@dataclass(frozen=True)
class Usage:
    pictures: int
    picture_bytes: int
    database_bytes: int
    free_bytes: int
    disk_bytes: int


class ImageStore:
    """Pictures as PNG files named by their random id, with their size in the database."""

    def __init__(
        self,
        db: Database,
        folder: Path,
        *,
        cache_bytes: int = 96 << 20,
        decode_bytes: int = 1 << 30,
        max_pixels: int,
        keep_days: float = 0,
        keep_bytes: int = 0,
    ) -> None:
        self._db = db
        self._folder = folder
        self._cache = PictureCache(cache_bytes)
        self.decodes = DecodeBudget(decode_bytes)
        self.max_pixels = max_pixels
        self.keep_days, self.keep_bytes = keep_days, keep_bytes
        self.incoming = folder / INCOMING
        self.incoming.mkdir(parents=True, exist_ok=True)
        self._deleted = threading.Lock()
        self.writes = 0  # pictures stored since start (housekeeping looks whether work happened)
        #: why the last write was refused for lack of space, until a picture is stored again (health says it)
        self.refused: str | None = None
        self._bytes = self.usage().picture_bytes

    def _path(self, image_id: str) -> Path:
        return image_path(self._folder, image_id)

    # -------------------------------------------------------------------------------- decoding, bounded

    @contextmanager
    def decoding(self, data: bytes, what: str) -> Iterator[Picture]:
        """Decode uploaded or stored bytes once the decode budget has room, and hold that room until the block
        ends (the decoded picture's life in a request), so concurrent requests cannot pile pictures up."""
        width, height = peek_size(data)
        if width * height > self.max_pixels:  # load_picture says it with the numbers; no room needed
            load_picture(data, max_pixels=self.max_pixels, what=what)
        with self.decodes.reserve(DecodeBudget.estimate(width, height)):
            yield load_picture(data, max_pixels=self.max_pixels, what=what)

    def _decoded(self, image: StoredImage) -> Picture:
        cached = self._cache.get(image.id)
        if cached is not None:
            return cached
        with self.decoding(self.read(image), f"image {image.id!r}") as picture:
            self._cache.put(image.id, picture)
            return picture

    def picture(self, image: StoredImage) -> Picture:
        """The decoded picture, from the cache or the file."""
        picture = self._decoded(image)
        if picture.pixels.strides[-1] == 0:  # a grey picture kept as one channel: its three, as arrays are
            return replace(picture, pixels=np.ascontiguousarray(picture.pixels))
        return picture

    def mask(self, image: StoredImage) -> np.ndarray:
        """The picture read as a mask (255 = fill), from the decoded picture: one decode serves both uses."""
        return mask_of(self._decoded(image))

    # -------------------------------------------------------------------------------- writing

    def new_incoming(self) -> Path:
        """A fresh file name for an upload streaming in, on the same disk as the store (rename, not copy)."""
        return self.incoming / f"{new_id()}.part"

    def write(self, png: bytes | Path, picture: Picture, kind: str) -> Written:
        """Put a picture's file in place (written whole, then renamed), without its record yet: `record` makes
        that, in whatever transaction the caller holds (e.g. a job's success), then `kept`; or `discard`."""
        width, height = picture.size
        image = StoredImage(new_id(), width, height, picture.has_alpha, kind)
        path = self._path(image.id)
        try:
            path.parent.mkdir(exist_ok=True)
            if isinstance(png, Path):
                png.replace(path)
            else:
                temporary = path.with_suffix(".tmp")
                try:
                    temporary.write_bytes(png)
                    temporary.replace(path)
                finally:
                    temporary.unlink(missing_ok=True)
        except OSError as exc:
            if is_disk_full(exc):
                raise self.full() from exc
            raise
        return Written(image, path.stat().st_size, picture)

    def full(self) -> StorageFull:
        """The error for a write the disk had no room for, remembered until a picture is stored again."""
        error = storage_full(self._folder)
        self.refused = f"a picture was refused for lack of space at {now()[11:19]} UTC: {error.message}"
        return error

    def record(self, written: Written) -> None:
        image = written.image
        with self._db.transaction() as conn:  # joins the caller's transaction if it holds one
            conn.execute(
                "INSERT INTO images (id, width, height, has_alpha, kind, created_at, bytes)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (image.id, image.width, image.height, int(image.has_alpha), image.kind, now(), written.size),
            )

    def discard(self, written: Written) -> None:
        """Remove a file written by `write` whose record was never made."""
        self._path(written.image.id).unlink(missing_ok=True)

    def kept(self, written: Written) -> None:
        """After the record is committed: the decoded picture into the cache, its bytes counted (and the oldest
        pictures deleted if that passes the retention limit)."""
        self._cache.put(written.image.id, written.picture)
        self.writes += 1
        self.refused = None
        with self._deleted:
            self._bytes += written.size
            over = self.keep_bytes and self._bytes > self.keep_bytes
        if over:
            self.sweep_retention(by_age=False)

    def add_picture(self, picture: Picture, kind: str, png: bytes | Path | None = None) -> StoredImage:
        """Keep a decoded picture; `png` are its bytes (or a file to move in) if already encoded, else they
        are made here."""
        if png is None:
            png = encode_png(picture.pixels, exif=picture.exif, icc_profile=picture.icc_profile)
        written = self.write(png, picture, kind)
        try:
            self.record(written)
        except BaseException:
            self.discard(written)
            raise
        self.kept(written)
        return written.image

    # -------------------------------------------------------------------------------- reading

    def get(self, image_id: str, *, deleted: bool = False) -> StoredImage | None:
        """The image's record; a deleted one only when `deleted` (to say 410 rather than 404)."""
        rows = self._db.query(
            "SELECT id, width, height, has_alpha, kind, deleted_at FROM images WHERE id = ?", (image_id,)
        )
        if not rows or (rows[0]["deleted_at"] and not deleted):
            return None
        row = rows[0]
        return StoredImage(
            row["id"], row["width"], row["height"], bool(row["has_alpha"]), row["kind"], row["deleted_at"]
        )

    def read(self, image: StoredImage) -> bytes:
        try:
            return self._path(image.id).read_bytes()
        except FileNotFoundError:
            raise gone(image) from None

    def path(self, image: StoredImage) -> Path:
        """The file of a live image; `ImageGone` if it was deleted or went missing."""
        path = self._path(image.id)
        if image.deleted_at or not path.is_file():
            raise gone(image)
        return path

    # -------------------------------------------------------------------------------- deleting

    def live_references(self) -> set[str]:
        """Images that queued or running jobs will read."""
        rows = self._db.query(
            "SELECT json_extract(request, '$.image') AS image, json_extract(request, '$.mask') AS mask FROM jobs"
            " WHERE status IN ('queued', 'running')"
        )
        return {value for row in rows for value in (row["image"], row["mask"]) if value}

    def delete(self, image_id: str) -> bool:
        """Delete a picture (its file; its record stays as a tombstone, so asking for it says 410).
        False if a queued or running job still needs it."""
        with self._deleted:
            if image_id in self.live_references():
                return False
            rows = self._db.query("SELECT bytes FROM images WHERE id = ?", (image_id,))
            self._tombstone(image_id, rows[0]["bytes"] if rows else 0)
            return True

    def sweep_retention(self, *, by_age: bool = True) -> tuple[int, int]:
        """Delete finished jobs older than `keep_days` and pictures older than that (`by_age`), then the oldest
        pictures while all of them take more than `keep_bytes`. Pictures of queued or running jobs are kept.
        Returns (pictures deleted, bytes freed)."""
        deleted = freed = 0
        max_age_days, max_bytes = self.keep_days, self.keep_bytes
        with self._deleted:
            live = self.live_references()
            if by_age and max_age_days > 0:
                cutoff = (datetime.now(UTC) - timedelta(days=max_age_days)).isoformat()
                with self._db.transaction() as conn:
                    conn.execute(
                        "DELETE FROM jobs WHERE status IN ('succeeded', 'failed', 'canceled') AND finished_at < ?",
                        (cutoff,),
                    )
                    conn.execute("DELETE FROM images WHERE deleted_at IS NOT NULL AND deleted_at < ?", (cutoff,))
                old = self._db.query(
                    "SELECT id, bytes FROM images WHERE deleted_at IS NULL AND created_at < ?", (cutoff,)
                )
                for row in old:
                    if row["id"] not in live:
                        self._tombstone(row["id"], row["bytes"])
                        deleted, freed = deleted + 1, freed + row["bytes"]
            if max_bytes > 0:
                total = self._bytes
                if total > max_bytes:
                    for row in self._db.query(
                        "SELECT id, bytes FROM images WHERE deleted_at IS NULL ORDER BY created_at"
                    ):
                        if total <= max_bytes:
                            break
                        if row["id"] in live:
                            continue
                        self._tombstone(row["id"], row["bytes"])
                        total -= row["bytes"]
                        deleted, freed = deleted + 1, freed + row["bytes"]
        if deleted:
            log.info("retention: deleted %d picture(s), %.1f MB", deleted, freed / 1e6)
        return deleted, freed

    def _tombstone(self, image_id: str, size: int) -> None:
        """Delete a picture's file, keeping its record as a tombstone (the caller holds `_deleted`)."""
        with self._db.transaction() as conn:
            changed = conn.execute(
                "UPDATE images SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL", (now(), image_id)
            ).rowcount
        self._path(image_id).unlink(missing_ok=True)
        self._cache.drop(image_id)
        if changed:
            self._bytes -= size

    def sweep_orphans(self) -> int:
        """At start, before anything writes: remove files no record names (a kill between writing a picture
        and recording it) and unfinished uploads and temporary files. Returns how many were removed."""
        known = {row["id"] for row in self._db.query("SELECT id FROM images WHERE deleted_at IS NULL")}
        removed = 0
        for path in self.incoming.iterdir():
            path.unlink(missing_ok=True)
            removed += 1
        for folder in self._folder.iterdir():
            if not folder.is_dir() or folder == self.incoming:
                continue
            for path in folder.iterdir():
                if path.suffix == ".png" and path.stem in known:
                    continue
                path.unlink(missing_ok=True)
                removed += 1
        if removed:
            log.warning("removed %d file(s) from %s that no record names (left by a stop)", removed, self._folder)
        return removed

    def usage(self) -> Usage:
        row = self._db.query("SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM images WHERE deleted_at IS NULL")[0]
        database = sum(p.stat().st_size for p in self._db.path.parent.glob(f"{DB_NAME}*") if p.is_file())
        return Usage(int(row[0]), int(row[1]), database, *disk_space(self._folder))


def gone(image: StoredImage) -> ImageGone:
    if image.deleted_at:
        return ImageGone(f"image {image.id!r} was deleted on {image.deleted_at[:19].replace('T', ' ')} UTC")
    return ImageGone(f"the file of image {image.id!r} is missing from the server's store")
