"""The disk holding the data folder: free space, and a full disk said as such (`StorageFull`, HTTP 507)."""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

from retouch.errors import RetouchError


class StorageFull(RetouchError):
    """The disk holding the data folder is full."""

    code = "insufficient_storage"


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
