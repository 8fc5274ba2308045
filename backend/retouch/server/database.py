"""The SQLite database: one connection, short transactions, a versioned schema, and SQLite's failures said in
words a user can act on.

- Opening checks the folder and the file first, then SQLite's quick_check; what is wrong is one line naming the
  file: damaged (`DamagedStore`, with the repair), or unusable as it stands (`StoreUnavailable`: read-only,
  permission denied, no space, held by another process).
- The schema is a list of numbered `Migration`s; `PRAGMA user_version` is the number of the last one applied.
  Opening applies the missing ones in order, each with its version in one transaction, so a stop half way
  leaves the database at the version before. Each table's migrations live beside the code that owns it.
- At run time a database held by another process (a backup tool's lock) is `DatabaseBusy` (HTTP 503 with
  `Retry-After`), a full disk `StorageFull`; neither leaves a transaction open.
"""

from __future__ import annotations

import errno
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from retouch.errors import InputError, RetouchError
from retouch.server.disk import is_disk_full, storage_full

DB_NAME = "retouch.db"
#: seconds a statement waits for a lock another process holds before it is `DatabaseBusy`
BUSY_TIMEOUT = 5.0


def now() -> str:
    return datetime.now(UTC).isoformat()


def new_id() -> str:
    return secrets.token_urlsafe(16)  # 22 characters, 128 random bits


class DamagedStore(InputError):
    """The data folder cannot be used as it is; the message says which file and what to do."""

    code = "damaged_store"


class StoreUnavailable(InputError):
    """The data folder is intact but cannot be used now: read-only, not ours, full, or locked by another
    process. Nothing needs repairing; the message says what to change."""

    code = "store_unavailable"


class DatabaseBusy(RetouchError):
    """Another process holds the database (a backup, a second server); nothing was written. Try again."""

    code = "database_busy"


@dataclass(frozen=True)
class Migration:
    """Version `version` of the schema: `apply(connection)` takes the database there from `version - 1`."""

    version: int
    what: str
    apply: Callable[[sqlite3.Connection], None]


def statements(*sql: str) -> Callable[[sqlite3.Connection], None]:
    """A migration made of plain statements (`executescript` would commit the migration's transaction)."""

    def apply(conn: sqlite3.Connection) -> None:
        for statement in sql:
            conn.execute(statement)

    return apply


def is_busy(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and getattr(exc, "sqlite_errorcode", None) in (
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
    )


def busy(path: Path) -> DatabaseBusy:
    return DatabaseBusy(
        f"the database {path.name} is held by another process (a backup, or a second server on this data "
        f"folder); nothing was written; try again in a few seconds"
    )


def folder_problem(folder: Path) -> str | None:
    """Why nothing can be written in `folder` (read-only, permission denied, no space), or None: a small file
    is written and removed, which asks the file system itself rather than guessing from permission bits."""
    probe = folder / f".write-check-{new_id()}"
    try:
        with open(probe, "wb") as handle:
            handle.write(b"\0" * 4096)
            handle.flush()
        return None
    except OSError as exc:
        return describe_os_error(exc, folder)
    finally:
        try:
            probe.unlink(missing_ok=True)
        except OSError:
            pass


def describe_os_error(exc: OSError, where: Path) -> str:
    """What an `OSError` on `where` means for the user, without a traceback."""
    if exc.errno == errno.EROFS:
        return f"{where} is on a read-only file system; give the server a writable --data-dir"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (
            f"permission denied on {where}; let the user running the server write there, or choose another --data-dir"
        )
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"no space left on the disk holding {where}; free some space and start again"
    return f"cannot use {where}: {exc.strerror or exc}"


def _sqlite_problem(exc: sqlite3.Error, path: Path) -> str | None:
    """What an error at open means when it is not damage (None when it is)."""
    name = getattr(exc, "sqlite_errorname", "")
    if is_busy(exc):
        return (
            f"{path} is locked by another process (a backup tool, or a second server on this data folder); "
            "start again once it is done"
        )
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
        return folder_problem(path.parent) or f"{path} cannot be opened for writing; check its permissions"
    if is_disk_full(exc):
        return f"no space left on the disk holding {path}; free some space and start again"
    return None


class Database:
    """One connection shared by the event loop's thread pool and the workers; every statement is short.

    Opening checks that the folder takes writes, opens the file, runs SQLite's quick_check and brings the
    schema to the latest of `migrations`; what goes wrong is `StoreUnavailable` or `DamagedStore`.
    """

    def __init__(
        self,
        path: Path,
        migrations: Sequence[Migration],
        *,
        busy_timeout: float = BUSY_TIMEOUT,
        unversioned: Callable[[sqlite3.Connection], int] | None = None,
        damage_hint: str = "",
    ) -> None:
        self.path = path
        data = path.parent
        try:
            data.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"cannot create the data folder: {describe_os_error(exc, data)}") from None
        if path.exists() and not path.is_file():
            raise DamagedStore(
                f"{path} is not a database file (it is a folder or a device); move it away and start again"
            )
        if (problem := folder_problem(data)) is not None:
            raise StoreUnavailable(problem)
        self._lock = threading.RLock()
        self._depth = 0
        try:
            self._conn = sqlite3.connect(path, timeout=busy_timeout, check_same_thread=False, isolation_level=None)
            self._conn.row_factory = sqlite3.Row
            verdict = self._conn.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise sqlite3.DatabaseError(verdict.splitlines()[0])
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives a process kill
            self.version = migrate(self._conn, migrations, unversioned=unversioned)
        except sqlite3.Error as exc:
            problem = _sqlite_problem(exc, path)
            if problem is not None:
                raise StoreUnavailable(problem) from None
            raise DamagedStore(
                f"{path} is damaged (SQLite says: {exc}); stop the server, keep a copy of the file, and {damage_hint}"
            ) from None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction; a transaction opened inside another on the same thread joins it. A failure
        (a full disk or a lock held elsewhere included, at COMMIT too) rolls back, so the connection is never
        left inside one."""
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
        if is_disk_full(exc):
            return storage_full(self.path.parent)
        if is_busy(exc):
            return busy(self.path)
        return exc

    def close(self) -> None:
        with self._lock:
            self._conn.close()


# ------------------------------------------------------------------------------------------ migrations


def check_sequence(migrations: Sequence[Migration]) -> list[Migration]:
    """The migrations in order; their versions must run 1, 2, 3, ... without a gap or a repeat."""
    ordered = sorted(migrations, key=lambda migration: migration.version)
    versions = [migration.version for migration in ordered]
    if versions != list(range(1, len(ordered) + 1)):
        raise ValueError(f"migration versions must be 1..{len(ordered)} once each, got {versions}")
    return ordered


def migrate(
    conn: sqlite3.Connection,
    migrations: Sequence[Migration],
    *,
    unversioned: Callable[[sqlite3.Connection], int] | None = None,
) -> int:
    """Bring the database to the latest version: each missing migration and its `user_version` in one
    transaction (taken with BEGIN IMMEDIATE, so a lock held elsewhere is found here, at open). A database newer
    than this code is refused. Returns the version."""
    ordered = check_sequence(migrations)
    latest = len(ordered)
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 0 and unversioned is not None:  # made before versions were recorded: its shape says
            version = unversioned(conn)
            conn.execute(f"PRAGMA user_version = {version}")
        if version > latest:
            raise StoreUnavailable(
                f"the database is at schema version {version}, newer than this Retouch knows ({latest}); "
                "run the newer Retouch that wrote it"
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    for migration in ordered[version:]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            migration.apply(conn)
            conn.execute(f"PRAGMA user_version = {migration.version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        version = migration.version
    return version
