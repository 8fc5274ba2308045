"""What `retouch serve` sets up for a long run: logs that cannot flood the disk, room for connections, and
memory that goes back to the system once a burst of work is over."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import resource
import threading
import time

WINDOW = 10.0  # seconds
PER_WINDOW = 20  # records of one kind (logger and message template) per window


class FloodFilter(logging.Filter):
    """Let through at most `PER_WINDOW` records of one kind per `WINDOW` seconds; when a window ends, one
    line says how many were left out. A client provoking the same warning in a loop fills no disk."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: dict[tuple[str, object], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.msg)
        now = time.monotonic()
        with self._lock:
            start, count = self._seen.get(key, (now, 0))
            if now - start >= WINDOW:
                if count > PER_WINDOW:
                    record.msg = f"{record.msg} [{count - PER_WINDOW} more like this in the last {WINDOW:.0f} s]"
                start, count = now, 0
            self._seen[key] = (start, count + 1)
            if len(self._seen) > 10_000:  # bounded too: forget the oldest windows
                for stale in sorted(self._seen, key=lambda k: self._seen[k][0])[:5_000]:
                    del self._seen[stale]
        return count < PER_WINDOW


def quiet_floods() -> None:
    """Put a `FloodFilter` on every handler of the root logger (adding one that writes to stderr if none) and on
    the loggers of the server's libraries."""
    root = logging.getLogger()
    if not root.handlers:
        stderr = logging.StreamHandler()
        stderr.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(stderr)
        root.setLevel(logging.INFO)
    flood = FloodFilter()
    for handler in root.handlers:
        handler.addFilter(flood)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "asyncio", "websockets"):
        logging.getLogger(name).addFilter(flood)  # these may have handlers of their own (uvicorn sets its up)


def raise_file_limit() -> None:
    """Raise the soft limit on open files to the hard one: each websocket holds one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))
        except (ValueError, OSError):
            pass


M_ARENA_MAX = -8  # mallopt parameter (glibc)
ARENAS = 4


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def limit_arenas() -> None:
    """glibc gives every thread that allocates its own heap (arena); freed pictures then stay spread over
    dozens of them and never go back to the system. A few arenas, shared, keep memory compact (glibc only)."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(M_ARENA_MAX, ARENAS)


def release_memory() -> None:
    """Hand freed heap memory back to the system (glibc's malloc_trim); a no-op elsewhere."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
