"""The embedded store: one SQLite file for records, one folder for pictures.

Ids are random; a file's path is made from the id the database holds, never from a request.

What it promises:
- A damaged, emptied or replaced database is never silently started on: `Database` checks it first and
  refuses with one line naming the file and what to do (`retouch rebuild-index` rebuilds the index of
  pictures from the files, keeping a copy of the old database).
- A picture file is written in full (temporary name, then rename) before its record; a file without a
  record (a kill in between) is removed by `sweep_orphans` at the next start.
- A full disk is a `StorageFull` error naming the free space, never a raw SQLite error, and never leaves a
  transaction open: the store works again once space is back.
- Memory: decodes reserve their size from a `DecodeBudget`; decoded pictures are kept in a `PictureCache`
  bounded in bytes.
"""

from __future__ import annotations

import errno
import io
import logging
import secrets
import shutil
import sqlite3
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image

from retouch.errors import InputError, RetouchError
from retouch.imaging.io import Picture, encode_png, load_picture, mask_of

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS images (
    id TEXT PRIMARY KEY,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    has_alpha INTEGER NOT NULL,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    bytes INTEGER NOT NULL DEFAULT 0,
    deleted_at TEXT
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
#: columns added after the first release, with their definitions (added to older databases at start)
ADDED_COLUMNS = {
    "images": {"bytes": "INTEGER NOT NULL DEFAULT 0", "deleted_at": "TEXT"},
    "jobs": {"kind": "TEXT NOT NULL DEFAULT 'fill'", "report": "TEXT", "stage": "TEXT"},
}
DB_NAME = "retouch.db"
IMAGES = "images"
INCOMING = ".incoming"  # uploads while they stream in; emptied at every start
REBUILD_HINT = "run `retouch rebuild-index --data-dir {data}` to rebuild the index of pictures from the files"


def now() -> str:
    return datetime.now(UTC).isoformat()


def new_id() -> str:
    return secrets.token_urlsafe(16)  # 22 characters, 128 random bits


class DamagedStore(InputError):
    """The data folder cannot be used as it is; the message says which file and what to do."""

    code = "damaged_store"


class StorageFull(RetouchError):
    """The disk holding the data folder is full."""

    code = "insufficient_storage"


class ImageGone(RetouchError):
    """A picture that was deleted, or whose file is missing."""

    code = "gone"


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return isinstance(exc, sqlite3.OperationalError) and "full" in str(exc)


def free_bytes(folder: Path) -> int:
    return disk_space(folder)[0]


def disk_space(folder: Path) -> tuple[int, int]:
    """(free, total) bytes of the disk holding `folder`."""
    try:
        usage = shutil.disk_usage(folder)
    except OSError:
        return 0, 0
    return usage.free, usage.total


def storage_full(folder: Path) -> StorageFull:
    free = free_bytes(folder)
    return StorageFull(
        f"the server's disk is full ({free / 1e6:.1f} MB free where it keeps its data); "
        "free some space or lower its retention, then try again"
    )


def _check_file(path: Path, data: Path) -> None:
    """Refuse what SQLite would open as a fresh, empty database, or fail on with a traceback."""
    if path.exists() and not path.is_file():
        raise DamagedStore(f"{path} is not a database file (it is a folder or a device); move it away and start again")
    pictures = next((p for p in (data / IMAGES).glob("*/*.png")), None) if (data / IMAGES).is_dir() else None
    if pictures is not None and (not path.exists() or path.stat().st_size == 0):
        state = "is missing" if not path.exists() else "is empty (0 bytes)"
        raise DamagedStore(
            f"{path} {state} but {data / IMAGES} holds pictures: the database was lost; "
            + REBUILD_HINT.format(data=data)
        )


class Database:
    """One connection shared by the event loop and the workers; every statement is short.

    Opening checks the file first (see `_check_file`, then SQLite's quick_check) and raises `DamagedStore`.
    """

    def __init__(self, path: Path) -> None:
        data = path.parent
        try:
            data.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DamagedStore(f"cannot create the data folder {data}: {exc.strerror}") from None
        _check_file(path, data)
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0
        try:
            self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._conn.row_factory = sqlite3.Row
            verdict = self._conn.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise sqlite3.DatabaseError(verdict.splitlines()[0])
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives a process kill
            self._conn.executescript(SCHEMA)
            self._add_columns()
        except sqlite3.DatabaseError as exc:
            if is_disk_full(exc):
                raise DamagedStore(f"the disk holding {path} is full; free some space and start again") from None
            raise DamagedStore(
                f"{path} is damaged (SQLite says: {exc}); stop the server, keep a copy of the file, and "
                + REBUILD_HINT.format(data=data)
            ) from None
        if pictures_missing_records(self, data):
            self.close()
            raise DamagedStore(
                f"{path} holds no record of the pictures in {data / IMAGES}: it was emptied or replaced; "
                + REBUILD_HINT.format(data=data)
            )

    def _add_columns(self) -> None:
        for table, columns in ADDED_COLUMNS.items():
            have = {row["name"] for row in self._conn.execute(f"PRAGMA table_info({table})")}
            for name, definition in columns.items():
                if name not in have:
                    self._conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {definition}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction; a transaction opened inside another on the same thread joins it. A failure
        (a full disk included, at COMMIT too) rolls back, so the connection is never left inside one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise self._translated(exc) from exc
            self._depth = 1
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    raise self._translated(exc) from exc
                raise
            finally:
                self._depth = 0

    def query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.OperationalError as exc:
                raise self._translated(exc) from exc

    def _translated(self, exc: sqlite3.OperationalError) -> Exception:
        return storage_full(self.path.parent) if is_disk_full(exc) else exc

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def pictures_missing_records(db: Database, data: Path) -> bool:
    """Whether the images folder holds pictures while the database knows of none (it was replaced)."""
    if db.query("SELECT 1 FROM images LIMIT 1"):
        return False
    folder = data / IMAGES
    return folder.is_dir() and next(folder.glob("*/*.png"), None) is not None


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


class DecodeBudget:
    """Bytes that decodes in flight may hold; a decode waits until its estimate fits. One decode alone always
    runs, however large (the pixel limit bounds it), so waiting can never last forever."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self._held = 0
        self._decoding = 0
        self._free = threading.Condition()

    @staticmethod
    def estimate(width: int, height: int) -> int:
        # Pillow holds 4 bytes a pixel, the array another 3-4, a conversion or rotation one more copy
        return width * height * 12

    @contextmanager
    def reserve(self, amount: int) -> Iterator[None]:
        with self._free:
            self._free.wait_for(lambda: self._decoding == 0 or self._held + amount <= self.budget)
            self._held += amount
            self._decoding += 1
        try:
            yield
        finally:
            with self._free:
                self._held -= amount
                self._decoding -= 1
                self._free.notify_all()


class PictureCache:
    """Decoded pictures by image id, least recently used out first, bounded in bytes.

    A picture is decoded once at upload and handed to the worker from here; its pixels are read-only.
    A grey picture (the canvas's masks) is kept as its one channel, a third of its RGB size, so that a
    4096² mask does not push its 4096² picture out.
    """

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self._pictures: OrderedDict[str, Picture] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @staticmethod
    def _compact(picture: Picture) -> Picture:
        if not picture.grey:
            return picture
        channel = np.ascontiguousarray(picture.pixels[..., 0])
        # the three equal channels as a read-only view of one
        return replace(picture, pixels=np.broadcast_to(channel[..., None], picture.pixels.shape))

    @staticmethod
    def _bytes_of(picture: Picture) -> int:
        pixels = picture.pixels
        return pixels[..., 0].nbytes if pixels.strides[-1] == 0 else pixels.nbytes

    def put(self, image_id: str, picture: Picture) -> None:
        picture.pixels.flags.writeable = False
        picture = self._compact(picture)
        size = self._bytes_of(picture)
        if size > self.budget:
            return
        with self._lock:
            self._drop_locked(image_id)
            self._pictures[image_id] = picture
            self._bytes += size
            while self._bytes > self.budget and self._pictures:
                _, evicted = self._pictures.popitem(last=False)
                self._bytes -= self._bytes_of(evicted)

    def get(self, image_id: str) -> Picture | None:
        """The cached picture; a grey one's pixels are a read-only view (copy before handing them to OpenCV)."""
        with self._lock:
            picture = self._pictures.get(image_id)
            if picture is not None:
                self._pictures.move_to_end(image_id)
            return picture

    def drop(self, image_id: str) -> None:
        with self._lock:
            self._drop_locked(image_id)

    def _drop_locked(self, image_id: str) -> None:
        picture = self._pictures.pop(image_id, None)
        if picture is not None:
            self._bytes -= self._bytes_of(picture)


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
        self._count_old_files()
        self._bytes = self.usage().picture_bytes

    def _count_old_files(self) -> None:
        """Records from before sizes were kept get their file's size."""
        for row in self._db.query("SELECT id FROM images WHERE bytes = 0 AND deleted_at IS NULL"):
            path = self._path(row["id"])
            size = path.stat().st_size if path.is_file() else 0
            with self._db.transaction() as conn:
                conn.execute("UPDATE images SET bytes = ? WHERE id = ?", (size, row["id"]))

    def _path(self, image_id: str) -> Path:
        return self._folder / image_id[:2] / f"{image_id}.png"

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


def peek_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the header alone; (0, 0) if unreadable (the decode then says why)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with Image.open(io.BytesIO(data)) as image:
                return image.size
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):  # what Pillow raises on garbage
            return 0, 0


# ------------------------------------------------------------------------------------------ rebuild


def rebuild_index(data: Path) -> tuple[Path | None, int, int]:
    """Make a fresh database from the picture files in `data`, after copying the old database (and its WAL)
    aside. Jobs are kept when the old database can still be read. Returns (the copy, pictures, jobs)."""
    path = data / DB_NAME
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
        conn.executescript(SCHEMA)
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
